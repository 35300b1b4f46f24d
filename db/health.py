"""Source health from the crawl runs and the archive: is each source alive, failing, or silent?

- failing: the latest crawl of the source failed (the listing could not be read); how many in a row says
  how long it has been down.
- silent: it is read fine but has brought no new story for far longer than usual: more than
  ``SILENT_FACTOR`` times the median gap between its crawls that found new stories, and at least a day.
- ok otherwise; "never crawled" before its first run.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from db.models import CrawlRun, Source, Story

SILENT_FACTOR = 4
MIN_SILENCE = timedelta(days=1)
HISTORY = 100  # crawl runs per source looked at
MIN_NEWS_RUNS = 3  # crawls with new stories needed before "usual" means anything


@dataclass(frozen=True, slots=True)
class SourceHealth:
    name: str
    status: str  # ok | failing | silent | never crawled
    consecutive_failures: int
    last_run: datetime | None
    last_success: datetime | None
    last_new_story: datetime | None
    usual_gap: timedelta | None  # median time between crawls that found new stories
    last_error: str | None


def source_health(session: Session, names: Sequence[str], now: datetime) -> list[SourceHealth]:
    """The health of the named sources, in that order (three queries, however many sources)."""
    # (a Result has keys(), so dict() would take it for a mapping: build the dicts from the rows)
    ids = {name: id_ for name, id_ in session.execute(select(Source.name, Source.id).where(Source.name.in_(names)))}
    latest = select(Story.source_id, func.max(Story.fetched_at)).where(Story.source_id.in_(list(ids.values())))
    newest = {source_id: at for source_id, at in session.execute(latest.group_by(Story.source_id))}
    runs: dict[int, list[CrawlRun]] = defaultdict(list)
    for run in session.scalars(_recent_runs(list(ids.values()))):
        runs[run.source_id].append(run)
    return [
        _health(name, runs.get(ids[name], []) if name in ids else [], newest.get(ids.get(name, -1)), now)
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


def _health(name: str, runs: list[CrawlRun], last_new: datetime | None, now: datetime) -> SourceHealth:
    if not runs:
        return SourceHealth(name, "never crawled", 0, None, None, None, None, None)
    failures = next((index for index, run in enumerate(runs) if run.status != "failed"), len(runs))
    success = runs[failures] if failures < len(runs) else None
    news = sorted(run.finished_at or run.started_at for run in runs if run.new > 0)
    gaps = [later - earlier for earlier, later in pairwise(news)]
    usual = statistics.median(gaps) if len(news) >= MIN_NEWS_RUNS else None
    if failures:
        status = "failing"
    elif usual is not None and last_new is not None and now - last_new > max(SILENT_FACTOR * usual, MIN_SILENCE):
        status = "silent"
    else:
        status = "ok"
    return SourceHealth(
        name=name,
        status=status,
        consecutive_failures=failures,
        last_run=runs[0].finished_at or runs[0].started_at,
        last_success=(success.finished_at or success.started_at) if success else None,
        last_new_story=last_new,
        usual_gap=usual,
        last_error=runs[0].error if failures else None,
    )


def poll_schedule(session: Session, names: Sequence[str]) -> dict[str, tuple[float | None, datetime | None]]:
    """Name -> (interval in seconds, next poll) as `newsmon run` last set them (absent: never scheduled)."""
    rows = session.execute(select(Source.name, Source.poll_every, Source.next_poll_at).where(Source.name.in_(names)))
    return {name: (every, at) for name, every, at in rows if every is not None or at is not None}
