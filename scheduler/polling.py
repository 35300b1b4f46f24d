"""When to poll a source next: adaptive intervals, backoff after failures, and what the server asked for.

- Adaptive: a crawl that finds nothing new stretches the interval by ``QUIET_STRETCH`` up to the source's
  longest; one whose listing overflowed (every item new, so some may have scrolled out unseen) halves it down
  to the shortest; one with news brings a stretched interval back to ``every``.
- A failed crawl waits ``every`` doubled per failure in a row, up to ``BACKOFF_CAP`` (or the longest interval
  when that is longer): a dead site is not hammered, and a recovered one is found within the hour.
- The server's word counts: no poll before ``Retry-After`` (at most ``RETRY_AFTER_CAP``) or before the
  listing's ``Cache-Control: max-age`` runs out (at most the longest interval, so a careless year-long
  max-age cannot silence a source).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from db.records import CrawlFigures
from newsmon.config import SourceConfig

QUIET_STRETCH = 1.25
BACKOFF_CAP = timedelta(hours=1)
RETRY_AFTER_CAP = timedelta(hours=6)
JITTER_CAP = 300.0  # seconds


def overflowed(outcome: CrawlFigures) -> bool:
    """Every listed link was unseen: the listing may have dropped items before we saw them. Links that only
    failed say nothing of the sort (a site blocking us would be polled ever more often)."""
    return (outcome.status in ("ok", "partial") and outcome.links >= 2 and outcome.known == 0
            and outcome.new + outcome.duplicate > 0)


@dataclass(frozen=True, slots=True)
class NextPoll:
    interval: float  # seconds: the adaptive interval from now on
    delay: float  # seconds until the next poll (the interval, or longer after a failure or when asked)


def next_poll(
    source: SourceConfig,
    current: float | None,
    outcome: CrawlFigures,
    failures_in_a_row: int,
    first_crawl: bool,
    adaptive: bool = True,
) -> NextPoll:
    """The interval and the delay after ``outcome``; ``current`` is the interval in force (None: ``every``)."""
    every = source.every.total_seconds()
    shortest, longest = (bound.total_seconds() for bound in source.poll_bounds)
    interval = current if adaptive and current else every
    interval = min(max(interval, shortest), longest)  # the bounds may have changed in the config
    if adaptive and outcome.status != "failed":
        if overflowed(outcome) and not first_crawl:
            interval = max(shortest, interval / 2)
        elif outcome.new > 0:
            interval = min(interval, every)
        else:
            interval = min(longest, interval * QUIET_STRETCH)
    delay = interval
    if outcome.status == "failed" and failures_in_a_row > 0:
        cap = max(BACKOFF_CAP.total_seconds(), longest)
        delay = min(cap, every * 2 ** min(failures_in_a_row - 1, 20))
        delay = max(delay, every)
    if outcome.retry_after:
        delay = max(delay, min(outcome.retry_after, RETRY_AFTER_CAP.total_seconds()))
    if outcome.max_age:
        delay = max(delay, min(outcome.max_age, longest))
    return NextPoll(interval=interval, delay=delay)


def jitter(interval: float, fraction: float) -> float:
    """Seconds of random spread for a poll at ``interval``, so sources added together do not poll in step."""
    return min(interval * fraction, JITTER_CAP)
