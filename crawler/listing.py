"""What the listing parsers share: gzip bodies, and dates made timezone-aware UTC."""

from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime, timedelta

import dateparser
from scrapy.utils.gz import gunzip

from newsmon.errors import ExtractionError

GZIP_MAGIC = b"\x1f\x8b"

# A listing's date before this, or more than a day ahead of now, is a default or a typo, not a publication time.
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
AHEAD = timedelta(days=1)

# dateparser for the dates other parsers leave: absolute dates only ("yesterday" is no listing date), day, month
# and year all present, and a date with no zone taken as UTC whatever the machine's zone.
_DATEPARSER = {
    "PARSERS": ["absolute-time"],
    "STRICT_PARSING": True,
    "TIMEZONE": "UTC",
    "TO_TIMEZONE": "UTC",
    "RETURN_AS_TIMEZONE_AWARE": True,
}


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


def from_text(value: str | None) -> datetime | None:
    """A date as people write it, in any language dateparser knows -> aware UTC datetime (None if unreadable).

    For what feedparser cannot read: localised names ("Seg, 24 Set 2018 19:42:40 -0300"), a 12-hour clock
    ("Sat, Dec 16 2023 02:02:33 PM"), zone names such as CET or MSK. The first call loads dateparser's
    language data (about a second, once per process).
    """
    if not value or not value.strip():
        return None
    try:
        parsed = dateparser.parse(value.strip(), settings=_DATEPARSER)
    except (ValueError, OverflowError):
        return None
    return parsed.astimezone(UTC) if parsed else None


def believable(value: datetime | None, now: datetime | None = None) -> datetime | None:
    """The date, unless it lies before 1995 or more than a day ahead of ``now`` (default: the current time)."""
    if value is None:
        return None
    if value < EARLIEST or value > (now or datetime.now(UTC)) + AHEAD:
        return None
    return value
