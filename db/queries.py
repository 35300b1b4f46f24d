"""Query functions of the archive. Each takes a session; the caller owns the transaction."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Insert, Table, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.clusters import ClusterPolicy, place_story
from db.models import CrawlProblem, CrawlRun, OutboxMessage, RuleMatch, Source, Story, StoryUrl, StoryVersion
from db.neardup import fingerprint
from db.search import index_story

if TYPE_CHECKING:
    from db.records import Article, SourceTally
    from newsmon.config import SourceConfig

# Bound parameters per IN (...) query: SQLite allows 32,766, PostgreSQL 65,535.
_CHUNK = 500


class StoreOutcome(StrEnum):
    NEW = "new"  # a story not seen before
    UPDATED = "updated"  # a stored URL served a changed text: the story's next version
    DUPLICATE = "duplicate"  # the same text was already stored under another URL: this URL is added to it
    KNOWN = "known"  # this URL was already stored


def insert_ignoring_conflicts(session: Session, model: type[Any], values: dict[str, Any]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING its first key column (the id): the unique constraints decide,
    whoever wrote first wins; None when the row was there already."""
    statement = _insert_statement(session.get_bind().dialect.name, model.__table__)
    return session.execute(statement, values).scalar_one_or_none()


@functools.cache
def _insert_statement(dialect: str, table: Table) -> Insert:
    # Built once per table: this runs for every stored article, and a Core statement with its values passed
    # as parameters skips both the statement construction and the ORM's bulk-insert path.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing().returning(next(iter(table.primary_key.columns)))


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


def known_urls(session: Session, urls: Iterable[str]) -> set[str]:
    """Those of ``urls`` (canonical) that some stored story was already seen under."""
    urls = list(dict.fromkeys(urls))
    known: set[str] = set()
    for start in range(0, len(urls), _CHUNK):
        chunk = urls[start : start + _CHUNK]
        known.update(session.scalars(select(StoryUrl.url).where(StoryUrl.url.in_(chunk))))
    return known


def stored_read_at(session: Session, urls: Iterable[str]) -> dict[str, tuple[datetime, bool]]:
    """For those of ``urls`` that a stored story was seen under: when its text was last read, and whether it is
    an article (False: a teaser, paywalled or no article, which the crawl reads again in case the story came)."""
    urls = list(dict.fromkeys(urls))
    read: dict[str, tuple[datetime, bool]] = {}
    for start in range(0, len(urls), _CHUNK):
        chunk = urls[start : start + _CHUNK]
        rows = session.execute(
            select(StoryUrl.url, func.coalesce(Story.updated_at, Story.fetched_at), Story.status)
            .join(Story, Story.id == StoryUrl.story_id)
            .where(StoryUrl.url.in_(chunk))
        )
        read.update({url: (when, status == "article") for url, when, status in rows})
    return read


def store_article(
    session: Session, article: Article, source_id: int, now: datetime, policy: ClusterPolicy | None = None
) -> tuple[StoreOutcome, int]:
    """Store an article once: a new story, or one more URL of the story that has the same text. A new story is
    placed in its near-duplicate cluster (``policy`` defaults to the config's defaults).

    Returns:
        The outcome and the id of the story the article now belongs to.
    """
    story_id = insert_ignoring_conflicts(
        session,
        Story,
        {
            "source_id": source_id,
            "url": article.url,
            "title": article.title,
            "text": article.text,
            "author": article.author,
            "site_name": article.site_name,
            "language": article.language,
            "published_at": article.published_at,
            "modified_at": article.modified_at,
            "fetched_at": now,
            "content_hash": article.content_hash,
            "status": article.status,
        },
    )
    outcome = StoreOutcome.NEW
    if story_id is not None and article.status != "article":
        # A teaser, a paywalled lead or a page that is no article: kept (so it is known and not fetched
        # again) and searchable by its headline, but a cluster of its own and never matched by the rules.
        session.execute(update(Story).where(Story.id == story_id).values(cluster_id=story_id, matched_at=now))
        index_story(session, story_id, article.title, article.text)
    elif story_id is not None:
        print_ = article.fingerprint or fingerprint(article.text)
        place_story(session, story_id, print_, now, policy or ClusterPolicy(), article.title)
        index_story(session, story_id, article.title, article.text)
    if story_id is None:
        # Either the text is stored already (a syndicated copy) or the URL is (fetched twice in a race).
        story_id = session.scalar(select(Story.id).where(Story.content_hash == article.content_hash))
        outcome = StoreOutcome.DUPLICATE
        if story_id is None:
            story_id = session.scalar(select(Story.id).where(Story.url == article.url))
            outcome = StoreOutcome.KNOWN
        if story_id is None:  # pragma: no cover - a conflict with neither row visible means a concurrent delete
            raise RuntimeError(f"conflict storing {article.url} but no story holds its URL or text")
    added = 0
    for url in article.urls:
        row = {"story_id": story_id, "source_id": source_id, "url": url, "seen_at": now}
        added += insert_ignoring_conflicts(session, StoryUrl, row) is not None
    if outcome is StoreOutcome.DUPLICATE and not added:
        outcome = StoreOutcome.KNOWN  # every URL of this copy was already recorded
    if outcome is StoreOutcome.KNOWN and article.refresh:
        if _new_version(session, story_id, article, now):
            outcome = StoreOutcome.UPDATED
        else:  # read again, unchanged: not again before the listing says it changed once more
            session.execute(update(Story).where(Story.id == story_id).values(updated_at=now))
    if outcome is StoreOutcome.DUPLICATE and article.published_at is not None:
        # The copy that arrived first may have come from a listing without dates; keep the date we now know.
        session.execute(
            update(Story)
            .where(Story.id == story_id, Story.published_at.is_(None))
            .values(published_at=article.published_at)
        )
    return outcome, story_id


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


def iter_stories(session: Session, since: datetime | None = None, batch: int = 500) -> Iterator[Story]:
    """Every stored story, oldest first, streamed in batches (exports can be larger than memory)."""
    last_id = 0
    while True:
        statement = select(Story)
        if since is not None:
            statement = statement.where(func.coalesce(Story.published_at, Story.fetched_at) >= since)
        statement = statement.where(Story.id > last_id).order_by(Story.id).limit(batch)
        stories = list(session.scalars(statement).unique())
        if not stories:
            return
        yield from stories
        last_id = stories[-1].id
        session.expunge_all()


def get_story(session: Session, story_id: int) -> Story | None:
    return session.get(Story, story_id)


def latest_runs(session: Session, limit: int = 50) -> list[CrawlRun]:
    return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)))


def count_stories(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Story)) or 0


def outbox_log(session: Session, since: datetime | None, status: str | None, limit: int) -> list[OutboxMessage]:
    """Alerts queued since ``since``, newest first."""
    statement = select(OutboxMessage)
    if since is not None:
        statement = statement.where(OutboxMessage.created_at >= since)
    if status:
        statement = statement.where(OutboxMessage.status == status)
    return list(session.scalars(statement.order_by(OutboxMessage.id.desc()).limit(limit)).unique())


def _new_version(session: Session, story_id: int, article: Article, now: datetime) -> bool:
    """Keep the story's current text as a version and store the article's as the current one, when it
    differs; the story is matched again (a rule met by the update alerts, once per cluster as always)."""
    story = session.get(Story, story_id)
    if story is None or story.content_hash == article.content_hash:
        return False
    if article.status != "article":
        return False  # a full text is never replaced by a teaser or a paywall's lead
    if session.scalar(select(Story.id).where(Story.content_hash == article.content_hash)) is not None:
        return False  # the new text is another stored story's: nothing to keep twice
    session.add(
        StoryVersion(
            story_id=story.id, version=story.version, title=story.title, text=story.text,
            content_hash=story.content_hash, fetched_at=story.updated_at or story.fetched_at, replaced_at=now,
        )
    )
    print_ = article.fingerprint or fingerprint(article.text)
    story.title, story.text, story.content_hash = article.title, article.text, article.content_hash
    story.signature, story.shingles = print_.signature, print_.shingles
    story.status, story.modified_at = article.status, article.modified_at or story.modified_at
    story.version, story.updated_at, story.matched_at = story.version + 1, now, None
    session.flush()
    index_story(session, story.id, story.title, story.text, replace=True)
    return True


def rule_matches(session: Session, rule: str, limit: int) -> list[RuleMatch]:
    """The latest stories ``rule`` matched, newest match first, one per cluster of copies."""
    statement = (
        select(RuleMatch).where(RuleMatch.rule == rule).order_by(RuleMatch.matched_at.desc(), RuleMatch.id.desc())
    )
    found: dict[int, RuleMatch] = {}
    for match in session.scalars(statement.limit(limit * 5)).unique():  # copies of one story match together
        found.setdefault(match.story.cluster_id or match.story.id, match)
        if len(found) == limit:
            break
    return list(found.values())
