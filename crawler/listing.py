"""What the listing parsers share: gzip bodies, XML entities refused, titles cut, dates made timezone-aware UTC."""

from __future__ import annotations

import calendar
import re
import time
from datetime import UTC, datetime, timedelta
from xml.parsers import expat

import dateparser
from scrapy.utils.gz import gunzip

from newsmon.errors import ExtractionError

GZIP_MAGIC = b"\x1f\x8b"

# A headline is a line, not a page: a listing's title longer than this (a feed's 1 MB <title>) is cut, so that
# one item cannot put a megabyte into the archive, every search result and every alert.
MAX_TITLE = 1000

# An XML entity may stand for a character or a word (feeds declare &nbsp; as "&#160;"); one that stands for more
# text or for other entities is an expansion bomb (expat's own limit still lets a 20 MB body grow a hundredfold).
_SHORT_ENTITY = 8
# The same judgement made on the text, for a prolog expat cannot read: any declaration but a short, plain one.
_SAFE_VALUE = rb"[^\"'&%<]{0,8}|&#x?[0-9a-fA-F]{1,6};"  # a short text (_SHORT_ENTITY) or a character reference
_UNSAFE_DECLARATION = re.compile(rb"<!ENTITY(?!\s+[\w.:-]+\s+(?:\"(?:%s)\"|'(?:%s)')\s*>)" % (_SAFE_VALUE, _SAFE_VALUE))
_EXTERNAL_DECLARATION = re.compile(rb"<!ENTITY\s+(?:%\s+)?[\w.:-]+\s+(?:SYSTEM|PUBLIC)\b")

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
        if getattr(exc, "max_size", None):  # a gzip bomb: inflating stopped at the limit
            raise ExtractionError(f"refused: the gzip body inflates past crawl.max_bytes ({max_size} bytes)") from exc
        raise ExtractionError(f"broken gzip body: {type(exc).__name__}") from exc


class _Declared(Exception):
    """An entity declaration the document may not make: external, or one that expands too much."""

    def __init__(self, external: bool) -> None:
        super().__init__()
        self.external = external


class _RootReached(Exception):
    """The root element started: the document type declaration, if any, is behind."""


def refuse_xml_entities(body: bytes, what: str) -> None:
    """Refuse a feed or sitemap whose DTD declares entities other than a character or a short word.

    An external entity (``SYSTEM "file:///etc/passwd"``, or an internal host's URL) asks the parser to read a
    file or a URL; entities made of other entities (the billion laughs) inflate a few kilobytes into gigabytes.
    feedparser strips most declarations before expat sees them, but not all (a DOCTYPE on the XML declaration's
    line reaches expat whole), so both are refused before any parser runs: expat reads the prolog only, fetches
    nothing and stops at the root element. An external DTD (``<!DOCTYPE rss SYSTEM ...>``, as RSS 0.91 has)
    declares no entity here and is never fetched.

    Raises:
        ExtractionError: with a one-line reason naming ``what`` ("feed", "sitemap").
    """
    body = body.lstrip()
    try:
        _read_prolog(body)
    except _Declared as declared:
        raise ExtractionError(_refusal(what, declared.external)) from None
    except (expat.ExpatError, ValueError):
        # A prolog expat cannot read (junk before the XML declaration, an encoding it lacks): judged on the text.
        text = body.replace(b"\x00", b"")  # UTF-16's ASCII too
        if _UNSAFE_DECLARATION.search(text):
            raise ExtractionError(_refusal(what, _EXTERNAL_DECLARATION.search(text) is not None)) from None


def _read_prolog(body: bytes) -> None:
    for encoding in (None, "iso-8859-1"):  # the second for the multi-byte encodings pyexpat cannot decode
        parser = expat.ParserCreate(encoding)
        parser.EntityDeclHandler = _judge
        parser.StartElementHandler = _stop
        try:
            parser.Parse(body, True)
        except _RootReached:
            return
        except ValueError:
            if encoding is None:
                continue
            raise
        return


def _judge(name: str, is_parameter: int, value: str | None, base: str | None, system_id: str | None,
           public_id: str | None, notation: str | None) -> None:
    if system_id is not None or public_id is not None:
        raise _Declared(external=True)
    if is_parameter or value is None or len(value) > _SHORT_ENTITY or "&" in value or "%" in value:
        raise _Declared(external=False)


def _stop(name: str, attributes: object) -> None:
    raise _RootReached


def _refusal(what: str, external: bool) -> str:
    if external:
        return f"refused: the {what} declares an external XML entity (a way to read local files or internal hosts)"
    return f"refused: the {what} declares XML entities that expand to other entities or long text (an expansion bomb)"


def cut_title(title: str) -> str:
    """The title, or its first MAX_TITLE characters ending in "..." when it is longer."""
    if len(title) <= MAX_TITLE:
        return title
    return title[: MAX_TITLE - 3].rstrip() + "..."


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


def later(updated: datetime | None, published: datetime | None) -> datetime | None:
    """An update time only when it says more than the publication time (it is later), else None."""
    if updated is None or (published is not None and updated <= published):
        return None
    return updated
