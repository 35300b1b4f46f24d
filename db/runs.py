"""Crawl runs shared by several workers (scale-out, ``newsmon run --role scheduler|worker``).

The scheduler opens a run when it queues a source, with one request pending: the listing. Every worker that
handles one of the run's requests adds what it did (links, stories, failures) and how many requests it
queued in their turn, minus the one it finished, in one UPDATE; the worker whose UPDATE brings ``pending`` to
zero finishes the run (status, the listing's validators). Several processes add to one run at once safely:
each UPDATE is atomic and only one of them can see zero.

A worker killed mid-run never brings its run to zero: the scheduler gives the run up after
``service.crawl_time_limit`` (``give_up``), with the listing's validators dropped, so the next poll reads the
whole listing again and fetches whatever was not stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.models import CrawlProblem, CrawlRun, Source
from db.records import CrawlFigures
from db.sources import remember_validators
from newsmon.errors import one_line

RUNNING = "running"


@dataclass(slots=True)
class RunDelta:
    """What one worker did for one run since it last said so."""

    queued: int = 0  # requests it queued for the run (articles, nested sitemaps)
    done: int = 0  # requests of the run it finished, whatever came of them
    links: int = 0
    new: int = 0
    duplicate: int = 0
    known: int = 0
    failed: int = 0
    error: str | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)
    not_modified: bool = False
    # Set when this worker read the listing itself; (None, None) drops the run's (an article may be lost).
    validators: tuple[str | None, str | None] | None = None
    max_age: float | None = None
    retry_after: float | None = None

    def empty(self) -> bool:
        return not (self.queued or self.done or self.problems or self.error)


def open_run(session: Session, source_id: int, now: datetime) -> int:
    """A run of one source with its listing pending; returns its id (the job carries it to the workers)."""
    run = CrawlRun(source_id=source_id, started_at=now, status=RUNNING, pending=1, links=0, new=0, duplicate=0,
                   known=0, failed=0)
    session.add(run)
    session.flush()
    return run.id


def add_to_run(session: Session, run_id: int, delta: RunDelta, now: datetime) -> bool:
    """Add one worker's ``delta`` to the run; True when that finished it. A run given up already keeps its
    figures (the stories the worker stored are stored all the same), but a page that failed after its run
    was over, or one the shared filter turned away, drops the source's validators: the next poll reads the
    whole listing again, so a 304 cannot hide that page."""
    values: dict[str, object] = {
        "pending": CrawlRun.pending + delta.queued - delta.done,
        "links": CrawlRun.links + delta.links,
        "new": CrawlRun.new + delta.new,
        "duplicate": CrawlRun.duplicate + delta.duplicate,
        "known": CrawlRun.known + delta.known,
        "failed": CrawlRun.failed + delta.failed,
    }
    if delta.error:
        values["error"] = func.coalesce(CrawlRun.error, one_line(delta.error))
    if delta.not_modified:
        values["not_modified"] = True
    if delta.validators is not None:
        values["etag"], values["last_modified"] = delta.validators
    if delta.max_age is not None:
        values["max_age"] = delta.max_age
    if delta.retry_after is not None:
        values["retry_after"] = delta.retry_after
    pending = session.execute(
        update(CrawlRun)
        .where(CrawlRun.id == run_id, CrawlRun.finished_at.is_(None))
        .values(**values)
        .returning(CrawlRun.pending)
    ).scalar_one_or_none()
    if pending is None:
        if delta.failed or delta.error or delta.validators == (None, None):
            source_id = session.scalar(select(CrawlRun.source_id).where(CrawlRun.id == run_id))
            if source_id is not None:
                remember_validators(session, source_id, "failed", (None, None))
        return False
    session.add_all(CrawlProblem(run_id=run_id, url=url, reason=reason) for url, reason in delta.problems)
    if pending > 0:
        return False
    return _finish(session, run_id, now)


def give_up(
    session: Session, run_ids: list[int] | None, limit: timedelta, now: datetime,
    why: str = "not finished within service.crawl_time_limit",
) -> list[int]:
    """Finish the runs among ``run_ids`` (every open shared run when None) still open after ``limit``;
    returns their ids."""
    query = select(CrawlRun).where(CrawlRun.status == RUNNING, CrawlRun.finished_at.is_(None),
                                   CrawlRun.started_at <= now - limit)
    if run_ids is not None:
        query = query.where(CrawlRun.id.in_(run_ids))
    stale = session.scalars(query.with_for_update(of=CrawlRun)).all()
    for run in stale:
        run.error = run.error or (
            f"{why}: {run.pending} requests not done (a worker stopped, or the queue is behind); the next poll "
            "reads the listing again"
        )
        _finish(session, run.id, now)
    return [run.id for run in stale]


def open_runs(session: Session) -> dict[int, str]:
    """Run id -> source name of every shared run not finished (a restarted scheduler takes them over)."""
    rows = session.execute(select(CrawlRun.id, Source.name).join(Source, CrawlRun.source_id == Source.id)
                           .where(CrawlRun.status == RUNNING, CrawlRun.finished_at.is_(None)))
    return {run_id: name for run_id, name in rows}


def is_open(session: Session, run_id: int) -> bool:
    """Whether the run is still waiting for its requests (a job of a run given up meanwhile is not crawled)."""
    return session.scalar(select(CrawlRun.id).where(CrawlRun.id == run_id, CrawlRun.finished_at.is_(None))) is not None


def finished_runs(session: Session, run_ids: list[int]) -> dict[int, CrawlFigures]:
    """The runs among ``run_ids`` that are finished: run id -> what came of it, as a crawl process reports it."""
    if not run_ids:
        return {}
    rows = session.scalars(select(CrawlRun).where(CrawlRun.id.in_(run_ids), CrawlRun.finished_at.is_not(None)))
    return {
        run.id: CrawlFigures(
            run.source.name, run.status, run.links, run.new, run.duplicate, run.known, run.failed, run.error,
            ((run.finished_at or run.started_at) - run.started_at).total_seconds(), run.max_age, run.retry_after,
        )
        for run in rows
    }


def _finish(session: Session, run_id: int, now: datetime) -> bool:
    run = session.execute(
        select(CrawlRun).where(CrawlRun.id == run_id, CrawlRun.finished_at.is_(None)).with_for_update(of=CrawlRun)
    ).scalar_one_or_none()
    if run is None:
        return False  # another process finished it first
    run.status = "failed" if run.error else "partial" if run.failed else "unchanged" if run.not_modified else "ok"
    run.finished_at = now
    remember_validators(session, run.source_id, run.status, (run.etag, run.last_modified))
    return True
