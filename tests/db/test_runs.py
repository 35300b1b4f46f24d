"""Crawl runs shared by scale-out workers (db.runs, and the worker's SharedReport that writes to them), on both
databases: when a run finishes, what it keeps, and that no page can be hidden by a kept validator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from crawler.sharedcrawl import SharedReport
from db.models import CrawlRun, Source
from db.runs import RunDelta, add_to_run, finished_runs, give_up, open_run
from db.session import session_factory
from db.sources import sync_sources
from newsmon.config import SourceConfig

NOW = datetime.now(UTC)
ETAG = ('"v1"', None)


def _open(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        source_id = sync_sources(session, [SourceConfig(name="wire", feed="https://wire.example/rss")], NOW)["wire"]
        return open_run(session, source_id, NOW)


def _run(sessions: sessionmaker[Session], run_id: int) -> CrawlRun:
    with sessions() as session:
        run = session.get(CrawlRun, run_id)
        assert run is not None
        session.expunge(run)
        return run


def _validators(sessions: sessionmaker[Session]) -> tuple[str | None, str | None]:
    with sessions() as session:
        etag, last_modified = session.execute(select(Source.etag, Source.last_modified)).one()
        return etag, last_modified


def _add(sessions: sessionmaker[Session], run_id: int, delta: RunDelta) -> bool:
    with sessions.begin() as session:
        return add_to_run(session, run_id, delta, NOW)


def test_a_run_finishes_when_its_last_request_is_done_and_keeps_the_validators(engine: Engine) -> None:
    sessions = session_factory(engine)
    run_id = _open(sessions)
    # The listing's worker: three articles queued, the listing done, its ETag read.
    assert _add(sessions, run_id, RunDelta(queued=3, done=1, links=3, validators=ETAG)) is False
    assert _add(sessions, run_id, RunDelta(done=2, new=2)) is False  # another worker, two of them
    assert _validators(sessions) == (None, None)  # nothing kept before the run is over
    assert _add(sessions, run_id, RunDelta(done=1, duplicate=1)) is True  # the last one finishes it
    run = _run(sessions, run_id)
    assert (run.status, run.pending, run.links, run.new, run.duplicate) == ("ok", 0, 3, 2, 1)
    assert _validators(sessions) == ETAG
    with sessions() as session:
        assert finished_runs(session, [run_id])[run_id].status == "ok"


def test_a_tally_held_across_an_extraction_counts_in_the_next_write(engine: Engine) -> None:
    """An article's callback holds its source's tally while the page is extracted; another article finishing
    meanwhile writes the tally. The failure noted afterwards must still reach the run (it used to go into a
    tally nobody wrote: the run ended "ok", kept its ETag, and the failed page was never read again)."""
    sessions = session_factory(engine)
    run_id = _open(sessions)
    report = SharedReport(sessions)
    report.bind("wire", run_id)
    report.tallies["wire"].validators = ETAG
    report.opened("wire", 2)
    report.closed("wire")  # the listing: two articles queued
    held = report.tallies["wire"]  # the first article's callback, awaiting its extraction
    report.tallies["wire"].new += 1
    report.closed("wire")  # the second article stored and written meanwhile
    held.fail_page("https://wire.example/a", "extraction ran out of time")
    report.closed("wire")
    run = _run(sessions, run_id)
    assert (run.status, run.failed, run.new, run.pending) == ("partial", 1, 1, 0)
    assert _validators(sessions) == (None, None)  # the next poll reads the whole listing and retries the page


def test_a_failure_after_the_run_is_over_drops_the_validators(engine: Engine) -> None:
    sessions = session_factory(engine)
    run_id = _open(sessions)
    assert _add(sessions, run_id, RunDelta(queued=1, done=1, validators=ETAG)) is False
    assert _add(sessions, run_id, RunDelta(done=1, new=1)) is True
    assert _validators(sessions) == ETAG
    # A page of the run counted late (a worker's write that failed and was kept, runs overlapping) failed.
    assert _add(sessions, run_id, RunDelta(done=1, failed=1, problems=[("https://wire.example/b", "timeout")])) is False
    assert _validators(sessions) == (None, None)
    assert _run(sessions, run_id).failed == 0  # the finished run keeps its figures


def test_runs_left_unfinished_are_given_up_and_the_listing_read_again(engine: Engine) -> None:
    sessions = session_factory(engine)
    run_id = _open(sessions)
    assert _add(sessions, run_id, RunDelta(queued=2, done=1, validators=ETAG)) is False
    with sessions.begin() as session:
        assert give_up(session, [run_id], timedelta(minutes=15), NOW + timedelta(minutes=14)) == []
    with sessions.begin() as session:
        assert give_up(session, [run_id], timedelta(minutes=15), NOW + timedelta(minutes=16)) == [run_id]
    run = _run(sessions, run_id)
    assert run.status == "failed" and "2 requests not done" in (run.error or "")
    assert _validators(sessions) == (None, None)
    assert _add(sessions, run_id, RunDelta(done=1, new=1)) is False  # a late worker: the run stays as it is
    assert _run(sessions, run_id).new == 0
