"""When: durations (``90s``, ``1h30m``, ``2d``) and moments (``7d`` back from now, or a date), as people write
them in the config, on the command line and in the web app's parameters."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class _DurationTooLong(ValueError):
    """A duration beyond what a timedelta holds (999,999,999 days)."""


def parse_moment(value: str, now: datetime | None = None) -> datetime:
    """``7d``/``12h`` (that long before ``now``) or a date/time (``2026-11-20``, ``2026-11-20T08:00+02:00``;
    UTC when no zone is given), as an aware datetime in UTC.

    Raises:
        ValueError: it is neither, or it is outside the calendar (years 1 to 9999 in UTC), said in one line.
    """
    text = str(value).strip()
    try:
        back = parse_duration(text)
    except _DurationTooLong:
        raise ValueError(f"{text!r} reaches back before the year 1") from None
    except ValueError:
        pass
    else:
        try:
            return (now or datetime.now(UTC)) - back
        except OverflowError:
            raise ValueError(f"{text!r} reaches back before the year 1") from None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is neither a duration (7d, 12h) nor a date (2026-11-20)") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        edge = "before the year 1" if parsed.year == 1 else "after the year 9999"
        raise ValueError(f"{text!r} is {edge} in UTC") from None


def parse_duration(value: object) -> timedelta:
    """Read ``90s``, ``10m``, ``1h30m``, ``2d``, ``1w`` or a number of seconds as a timedelta.

    Raises:
        ValueError: with a message that says what a duration looks like.
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("not a duration; write e.g. 30s, 10m, 1h30m or 2d")
    if isinstance(value, int | float):
        if value <= 0:
            raise ValueError("a duration must be positive")
        return _timedelta(value, value)
    text = str(value).strip().lower().replace(" ", "")
    position, seconds = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise ValueError(f"{value!r} is not a duration; write e.g. 30s, 10m, 1h30m or 2d")
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return _timedelta(seconds, value)


def _timedelta(seconds: float, written: object) -> timedelta:
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise _DurationTooLong(f"{written!r} is longer than 999,999,999 days") from None


def format_duration(span: timedelta) -> str:
    """A duration as config.yaml writes one: ``2d``, ``36h``, ``90m``, ``45s`` (the largest whole unit)."""
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
