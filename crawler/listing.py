"""What the listing parsers share: gzip bodies, and dates made timezone-aware UTC."""

from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime

from scrapy.utils.gz import gunzip

from newsmon.errors import ExtractionError

GZIP_MAGIC = b"\x1f\x8b"


def maybe_gunzip(body: bytes, max_size: int) -> bytes:
    """A feed or sitemap served as a .gz file (not as Content-Encoding) arrives still compressed.

    Raises:
        ExtractionError: the gzip data is broken or inflates past ``max_size`` bytes.
    """
    if not body.startswith(GZIP_MAGIC):
        return body
    try:
        return gunzip(body, max_size=max_size)
    except Exception as exc:  # gunzip raises OSError, EOFError, zlib.error or _DecompressionMaxSizeExceeded
        raise ExtractionError(f"broken or oversized gzip body: {type(exc).__name__}") from exc


def from_struct_time(value: time.struct_time | None) -> datetime | None:
    """feedparser's UTC struct_time -> aware datetime (None when absent or impossible)."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def from_iso(value: str | None) -> datetime | None:
    """W3C datetime of sitemaps (2024-05-01, 2024-05-01T10:00:00+02:00, ...Z) -> aware UTC datetime."""
    if not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
