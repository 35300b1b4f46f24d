"""When the service polls next: adaptive intervals within bounds, backoff, Retry-After and max-age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crawler.freshness import max_age, retry_after
from newsmon.config import SourceConfig
from db.records import CrawlFigures
from scheduler.polling import BACKOFF_CAP, RETRY_AFTER_CAP, jitter, next_poll

SOURCE = SourceConfig(name="wire", feed="http://example.org/feed.xml", every=timedelta(minutes=10))
EVERY = 600.0


def _outcome(status: str = "ok", **counts: float) -> CrawlFigures:
    return CrawlFigures(source="wire", status=status, **counts)  # type: ignore[arg-type]


def test_default_bounds_are_a_quarter_and_four_times_every() -> None:
    assert SOURCE.poll_bounds == (timedelta(minutes=2.5), timedelta(minutes=40))
    fast = SourceConfig(name="f", feed="http://example.org/", every=timedelta(minutes=2))
    assert fast.poll_bounds[0] == timedelta(minutes=1)  # never below a minute unless every is shorter
    tiny = SourceConfig(name="t", feed="http://example.org/", every=timedelta(seconds=20))
    assert tiny.poll_bounds[0] == timedelta(seconds=20)


def test_a_quiet_source_is_polled_less_often_up_to_its_longest_interval() -> None:
    interval = None
    seen = []
    for _ in range(12):
        plan = next_poll(SOURCE, interval, _outcome("unchanged"), 0, first_crawl=False)
        interval = plan.interval
        seen.append(interval)
    assert seen[0] == EVERY * 1.25
    assert seen == sorted(seen)
    assert seen[-1] == 4 * EVERY  # stops at max_every


def test_news_brings_a_stretched_interval_back_to_every() -> None:
    plan = next_poll(SOURCE, 3 * EVERY, _outcome(links=20, known=18, new=2), 0, first_crawl=False)
    assert plan.interval == EVERY and plan.delay == EVERY


def test_an_overflowing_listing_is_polled_more_often_down_to_its_shortest_interval() -> None:
    overflow = _outcome(links=20, known=0, new=20)
    plan = next_poll(SOURCE, EVERY, overflow, 0, first_crawl=False)
    assert plan.interval == EVERY / 2
    plan = next_poll(SOURCE, plan.interval, overflow, 0, first_crawl=False)
    assert plan.interval == 150.0  # every / 4
    # Every link failing is no overflow: such a source is polled less often, not more.
    failing = _outcome("partial", links=20, known=0, new=0, failed=20)
    assert next_poll(SOURCE, EVERY, failing, 0, first_crawl=False).interval == EVERY * 1.25
    # A first crawl sees every item as new: that says nothing about overflow.
    assert next_poll(SOURCE, EVERY, overflow, 0, first_crawl=True).interval == EVERY
    # Until the next quiet poll, the shorter interval stays.
    assert next_poll(SOURCE, 150.0, _outcome(links=20, known=15, new=5), 0, first_crawl=False).interval == 150.0


def test_configured_bounds_and_no_adaptation() -> None:
    bounded = SourceConfig(name="b", feed="http://example.org/", every=timedelta(minutes=10),
                           min_every=timedelta(minutes=9), max_every=timedelta(minutes=12))
    assert next_poll(bounded, None, _outcome("unchanged"), 0, first_crawl=False).interval == 720  # not 750
    assert next_poll(bounded, 560, _outcome("unchanged"), 0, first_crawl=False).interval == 700
    assert next_poll(bounded, 60, _outcome("unchanged"), 0, first_crawl=False).interval == 675  # 540 x 1.25
    assert next_poll(bounded, 600, _outcome(links=9, known=0, new=9), 0, first_crawl=False).interval == 540
    fixed = next_poll(SOURCE, 3 * EVERY, _outcome("unchanged"), 0, first_crawl=False, adaptive=False)
    assert fixed.interval == EVERY and fixed.delay == EVERY


def test_failures_back_off_doubling_up_to_the_cap() -> None:
    delays = [next_poll(SOURCE, EVERY, _outcome("failed"), n, first_crawl=False).delay for n in range(1, 9)]
    assert delays[:3] == [EVERY, 2 * EVERY, 4 * EVERY]
    assert max(delays) == max(BACKOFF_CAP.total_seconds(), 4 * EVERY)
    # The adaptive interval itself is left alone by failures: after recovery polling resumes where it was.
    assert next_poll(SOURCE, 900, _outcome("failed"), 5, first_crawl=False).interval == 900


def test_the_servers_word_is_honoured_within_caps() -> None:
    assert next_poll(SOURCE, EVERY, _outcome("failed", retry_after=7200), 1, first_crawl=False).delay == 7200
    capped = next_poll(SOURCE, EVERY, _outcome("failed", retry_after=10**7), 1, first_crawl=False)
    assert capped.delay == RETRY_AFTER_CAP.total_seconds()
    assert next_poll(SOURCE, EVERY, _outcome("unchanged", max_age=1800), 0, first_crawl=False).delay == 1800
    # A year-long max-age cannot silence a source past its longest interval.
    assert next_poll(SOURCE, EVERY, _outcome("ok", max_age=3.2e7), 0, first_crawl=False).delay == 4 * EVERY
    # A short max-age never makes polling faster than planned.
    assert next_poll(SOURCE, EVERY, _outcome("ok", new=1, max_age=5), 0, first_crawl=False).delay == EVERY


def test_jitter_is_a_fraction_of_the_interval_capped() -> None:
    assert jitter(600, 0.1) == 60
    assert jitter(86400, 0.1) == 300
    assert jitter(600, 0) == 0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("max-age=300", 300.0), ("public, max-age=60, must-revalidate", 60.0), ('max-age="90"', 90.0),
     ("no-cache, max-age=300", None), ("no-store", None), ("private", None), (None, None), ("max-age=abc", None)],
)
def test_max_age(header: str | None, seconds: float | None) -> None:
    assert max_age(header) == seconds


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert retry_after("120", now) == 120
    assert retry_after("Tue, 24 Nov 2026 12:10:00 GMT", now) == 600
    assert retry_after("Tue, 24 Nov 2026 11:00:00 GMT", now) == 0  # already past
    assert retry_after("soon", now) is None
    assert retry_after("", now) is None
