"""Source health from the crawl runs and the archive: is each source alive, failing, or silent?

- failing: the latest crawl of the source failed (the listing could not be read); how many in a row says
  how long it has been down.
- articles failing: the listing is read, but nothing it led to: the latest crawl had failed pages and not one
  page new, a duplicate or already stored. Shown with how many crawls in a row and the most common reason among
  the latest crawl's failed pages. A crawl that found every link stored already, or a 304, is fine.
- silent: it is read fine but has brought no new story for far longer than usual: more than
  ``SILENT_FACTOR`` times the median gap between its crawls that found new stories, and at least a day.
- ok otherwise; "never crawled" before its first run.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from db.models import CrawlProblem, CrawlRun, Source, Story

SILENT_FACTOR = 4
MIN_SILENCE = timedelta(days=1)
HISTORY = 100  # crawl runs per source looked at
MIN_NEWS_RUNS = 3  # crawls with new stories needed before "usual" means anything


@dataclass(frozen=True, slots=True)
class SourceHealth:
    name: str
    status: str  # ok | failing | articles failing | silent | never crawled
    consecutive_failures: int  # crawls in a row that failed (failing), or that failed every page (articles failing)
    last_run: datetime | None
    last_success: datetime | None  # the latest crawl that read its listing and not only failed pages
    last_new_story: datetime | None
    usual_gap: timedelta | None  # median time between crawls that found new stories
    last_error: str | None  # failing: the listing's error; articles failing: the pages' most common reason


def source_health(session: Session, names: Sequence[str], now: datetime) -> list[SourceHealth]:
    """The health of the named sources, in that order (four queries at most, however many sources)."""
    # (a Result has keys(), so dict() would take it for a mapping: build the dicts from the rows)
    ids = {name: id_ for name, id_ in session.execute(select(Source.name, Source.id).where(Source.name.in_(names)))}
    latest = select(Story.source_id, func.max(Story.fetched_at)).where(Story.source_id.in_(list(ids.values())))
    newest = {source_id: at for source_id, at in session.execute(latest.group_by(Story.source_id))}
    runs: dict[int, list[CrawlRun]] = defaultdict(list)
    for run in session.scalars(_recent_runs(list(ids.values()))):
        runs[run.source_id].append(run)
    reasons = _commonest_reasons(session, [recent[0] for recent in runs.values() if _every_page_failed(recent[0])])
    return [
        _health(name, runs.get(ids[name], []) if name in ids else [], newest.get(ids.get(name, -1)), now, reasons)
        for name in names
    ]


def _recent_runs(source_ids: list[int]) -> Select[tuple[CrawlRun]]:
    """The last ``HISTORY`` finished runs of each source, newest first (a run the workers are still on says
    nothing yet)."""
    numbered = (
        select(
            CrawlRun.id,
            func.row_number().over(partition_by=CrawlRun.source_id, order_by=CrawlRun.id.desc()).label("recency"),
        )
        .where(CrawlRun.source_id.in_(source_ids), CrawlRun.finished_at.is_not(None))
        .subquery()
    )
    recent = select(numbered.c.id).where(numbered.c.recency <= HISTORY)
    return select(CrawlRun).where(CrawlRun.id.in_(recent)).order_by(CrawlRun.id.desc())


def _every_page_failed(run: CrawlRun) -> bool:
    """The run read its listing, but every page it led to failed (a partial run that stored nothing, and found
    nothing stored already)."""
    return run.status == "partial" and run.new + run.duplicate + run.known == 0


def _commonest_reasons(session: Session, runs: list[CrawlRun]) -> dict[int, str]:
    """Run id -> the most common reason among the run's failed pages and how many gave it (of equally common
    reasons, the first one seen): ``HTTP 500 (40 of 51 failed pages)``."""
    if not runs:
        return {}
    counts: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    rows = session.execute(
        select(CrawlProblem.run_id, CrawlProblem.reason, func.count(), func.min(CrawlProblem.id))
        .where(CrawlProblem.run_id.in_([run.id for run in runs]))
        .group_by(CrawlProblem.run_id, CrawlProblem.reason)
    )
    for run_id, reason, count, first in rows:
        counts[run_id].append((count, -first, reason))
    described: dict[int, str] = {}
    for run in runs:
        if counts[run.id]:
            count, _, reason = max(counts[run.id])
            described[run.id] = f"{reason} ({count} of {run.failed} failed pages)"
        else:
            described[run.id] = f"{run.failed} failed pages (no reason recorded)"
    return described


def _health(
    name: str, runs: list[CrawlRun], last_new: datetime | None, now: datetime, reasons: dict[int, str]
) -> SourceHealth:
    if not runs:
        return SourceHealth(name, "never crawled", 0, None, None, None, None, None)
    failures = _in_a_row(runs, lambda run: run.status == "failed")
    all_failed = 0 if failures else _in_a_row(runs, _every_page_failed)
    success = next((run for run in runs if run.status != "failed" and not _every_page_failed(run)), None)
    news = sorted(run.finished_at or run.started_at for run in runs if run.new > 0)
    gaps = [later - earlier for earlier, later in pairwise(news)]
    usual = statistics.median(gaps) if len(news) >= MIN_NEWS_RUNS else None
    if failures:
        status = "failing"
    elif all_failed:
        status = "articles failing"
    elif usual is not None and last_new is not None and now - last_new > max(SILENT_FACTOR * usual, MIN_SILENCE):
        status = "silent"
    else:
        status = "ok"
    return SourceHealth(
        name=name,
        status=status,
        consecutive_failures=failures or all_failed,
        last_run=runs[0].finished_at or runs[0].started_at,
        last_success=(success.finished_at or success.started_at) if success else None,
        last_new_story=last_new,
        usual_gap=usual,
        last_error=runs[0].error if failures else reasons.get(runs[0].id) if all_failed else None,
    )


def _in_a_row(runs: list[CrawlRun], test: Callable[[CrawlRun], bool]) -> int:
    """How many of the latest ``runs`` (newest first) pass ``test`` before the first that does not."""
    return next((index for index, run in enumerate(runs) if not test(run)), len(runs))


def poll_schedule(session: Session, names: Sequence[str]) -> dict[str, tuple[float | None, datetime | None]]:
    """Name -> (interval in seconds, next poll) as `newsmon run` last set them (absent: never scheduled)."""
    rows = session.execute(select(Source.name, Source.poll_every, Source.next_poll_at).where(Source.name.in_(names)))
    return {name: (every, at) for name, every, at in rows if every is not None or at is not None}
