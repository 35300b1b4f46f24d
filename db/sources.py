"""The configured sources in the archive, and each crawl of them: runs, problems, and the listing's validators
for the next conditional request. Each function takes a session; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from db.models import CrawlProblem, CrawlRun, Source
from db.storage import insert_ignoring_conflicts

if TYPE_CHECKING:
    from db.records import SourceTally
    from newsmon.config import SourceConfig

def sync_sources(session: Session, sources: Sequence[SourceConfig], now: datetime) -> dict[str, int]:
    """Make the sources table agree with the config for these sources; returns name -> id."""
    existing = {s.name: s for s in session.scalars(select(Source).where(Source.name.in_([s.name for s in sources])))}
    for config in sources:
        row = existing.get(config.name)
        if row is None:
            insert_ignoring_conflicts(
                session, Source, {"name": config.name, "kind": config.kind.value, "url": config.url, "created_at": now}
            )
        elif (row.kind, row.url) != (config.kind.value, config.url):
            # Another listing: the validators of the old one mean nothing for it.
            row.kind, row.url, row.etag, row.last_modified = config.kind.value, config.url, None, None
    session.flush()
    rows = session.execute(select(Source.name, Source.id).where(Source.name.in_([s.name for s in sources])))
    return {name: id_ for name, id_ in rows}


def record_crawl_run(session: Session, source_id: int, tally: SourceTally) -> CrawlRun:
    run = CrawlRun(
        source_id=source_id,
        started_at=tally.started_at,
        finished_at=tally.finished_at,
        status=tally.status,
        links=tally.links,
        new=tally.new,
        duplicate=tally.duplicate,
        known=tally.known,
        failed=tally.failed,
        error=tally.error,
        problems=[CrawlProblem(url=url, reason=reason) for url, reason in tally.problems],
    )
    session.add(run)
    remember_validators(session, source_id, tally.status, tally.validators)
    return run


def remember_validators(
    session: Session, source_id: int, status: str, validators: tuple[str | None, str | None]
) -> None:
    """Keep the listing's validators only after a complete read, so that a 304 never hides a story.

    If a page of the listing failed, or the listing itself, the validators are dropped: the next crawl reads
    the whole listing again and retries what was not stored. An unchanged listing keeps what it had.
    """
    if status == "unchanged":
        return
    etag, last_modified = validators if status == "ok" else (None, None)
    session.execute(update(Source).where(Source.id == source_id).values(etag=etag, last_modified=last_modified))


def listing_validators(
    session: Session, names: Sequence[str] | None = None
) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    """(source name, listing URL) -> (ETag, Last-Modified) of every source that has any (of ``names`` only,
    when given)."""
    query = select(Source.name, Source.url, Source.etag, Source.last_modified).where(
        or_(Source.etag.is_not(None), Source.last_modified.is_not(None))
    )
    rows = session.execute(query.where(Source.name.in_(names)) if names is not None else query)
    return {(name, url): (etag, last_modified) for name, url, etag, last_modified in rows}
