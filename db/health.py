"""Source health from the crawl runs and the archive: is each source alive, failing, or silent?

- failing: the latest crawl of the source failed (the listing could not be read); how many in a row says
  how long it has been down.
- silent: it is read fine but has brought no new story for far longer than usual: more than
  ``SILENT_FACTOR`` times the median gap between its crawls that found new stories, and at least a day.
- ok otherwise; "never crawled" before its first run.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
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
    """The health of the named sources, in that order."""
    # (a Result has keys(), so dict() would take it for a mapping: build the dicts from the rows)
    ids = {name: id_ for name, id_ in session.execute(select(Source.name, Source.id).where(Source.name.in_(names)))}
    latest = select(Story.source_id, func.max(Story.fetched_at)).where(Story.source_id.in_(list(ids.values())))
    newest = {source_id: at for source_id, at in session.execute(latest.group_by(Story.source_id))}
    return [_health(session, name, ids.get(name), newest, now) for name in names]


def _health(session: Session, name: str, source_id: int | None, newest: dict[int, datetime], now: datetime) -> SourceHealth:
    runs = []
    if source_id is not None:
        runs = list(
            session.scalars(
                select(CrawlRun).where(CrawlRun.source_id == source_id).order_by(CrawlRun.id.desc()).limit(HISTORY)
            )
        )
    if not runs:
        return SourceHealth(name, "never crawled", 0, None, None, None, None, None)
    failures = next((index for index, run in enumerate(runs) if run.status != "failed"), len(runs))
    success = runs[failures] if failures < len(runs) else None
    news = sorted(run.finished_at or run.started_at for run in runs if run.new > 0)
    gaps = [later - earlier for earlier, later in zip(news, news[1:], strict=False)]
    usual = statistics.median(gaps) if len(news) >= MIN_NEWS_RUNS else None
    last_new = newest.get(source_id) if source_id is not None else None
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
