"""When: durations (``90s``, ``1h30m``, ``2d``) and moments (``7d`` back from now, or a date), as people write
them in the config, on the command line and in the web app's parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


_QUIET = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})(?:\s+(\S+))?\s*$")


@dataclass(frozen=True, slots=True)
class QuietWindow:
    """Hours of a day, in a time zone, when a channel is not to be disturbed: ``22:00-07:00 Europe/Kyiv``.

    Local times are read in the zone on the day in question (zoneinfo), so the window keeps its local hours
    across a change to or from daylight saving time.
    """

    start: time
    end: time
    zone: ZoneInfo
    text: str

    @classmethod
    def parse(cls, text: str) -> QuietWindow:
        """Raises ValueError, in one line that says what to write."""
        match = _QUIET.match(text)
        hint = 'write "HH:MM-HH:MM Area/City", e.g. "22:00-07:00 Europe/Kyiv" (the zone defaults to UTC)'
        if match is None:
            raise ValueError(f"not quiet hours: {text!r}; {hint}")
        hours = [int(match.group(i)) for i in (1, 3)]
        minutes = [int(match.group(i)) for i in (2, 4)]
        if any(h > 23 for h in hours) or any(m > 59 for m in minutes):
            raise ValueError(f"not quiet hours: {text!r}; {hint}")
        if (hours, minutes) == (hours[::-1], minutes[::-1]):
            raise ValueError(f"quiet hours {text!r} start when they end; {hint}")
        try:
            zone = ZoneInfo(match.group(5) or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"quiet hours {text!r}: no time zone {match.group(5)!r}; {hint}") from None
        return cls(time(hours[0], minutes[0]), time(hours[1], minutes[1]), zone, text.strip())

    def holds_until(self, now: datetime) -> datetime | None:
        """When the window that ``now`` falls in ends (UTC), or None when ``now`` is outside it."""
        local = now.astimezone(self.zone)
        moment = local.time().replace(tzinfo=None)
        if self.start < self.end:
            inside, end_day = self.start <= moment < self.end, local.date()
        else:  # across midnight: 22:00-07:00
            inside = moment >= self.start or moment < self.end
            end_day = local.date() + timedelta(days=1) if moment >= self.start else local.date()
        if not inside:
            return None
        return datetime.combine(end_day, self.end, tzinfo=self.zone).astimezone(UTC)
