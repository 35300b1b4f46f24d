"""Storing what the crawl hands over: a new story, one more URL of a stored one, or its next version; and
the insert that lets the unique constraints decide. Each function takes a session; the caller owns the
transaction."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Insert, Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.clusters import ClusterPolicy, place_story
from db.models import Story, StoryUrl, StoryVersion
from db.neardup import fingerprint
from db.search import index_story

if TYPE_CHECKING:
    from db.records import Article

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
            "listed_at": article.listed_at,
            "fetched_at": now,
            "content_hash": article.content_hash,
            "status": article.status,
            "embedded": "\n".join(article.embedded) or None,
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
    previous = (story.title, story.text)
    story.title, story.text, story.content_hash = article.title, article.text, article.content_hash
    story.signature, story.shingles = print_.signature, print_.shingles
    story.status, story.modified_at = article.status, article.modified_at or story.modified_at
    story.embedded = "\n".join(article.embedded) or None
    story.version, story.updated_at, story.matched_at = story.version + 1, now, None
    session.flush()
    index_story(session, story.id, story.title, story.text, previous=previous)
    return True
