"""What a listing's response says about when to ask again: Cache-Control max-age and Retry-After."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
_NO_STORE = re.compile(r"(?:^|[,\s])(?:no-store|no-cache)(?:$|[,\s=])", re.IGNORECASE)


def max_age(cache_control: str | None) -> float | None:
    """Seconds the response stays fresh by ``Cache-Control: max-age=N``; None when absent or overridden."""
    if not cache_control or _NO_STORE.search(cache_control):
        return None
    match = _MAX_AGE.search(cache_control)
    return float(match.group(1)) if match else None


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait by ``Retry-After`` (seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
