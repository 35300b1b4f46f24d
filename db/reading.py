"""Reading the archive for the commands and the web app: stories, runs, the outbox, a rule's matches."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import CrawlRun, OutboxMessage, RuleMatch, Story

if TYPE_CHECKING:
    pass

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
