"""Telling a channel when a source turns failing, articles failing or silent, and when it recovers, through the
outbox.

A notice is an outbox row without a story: it is delivered, retried and logged like any alert, so an
unreachable channel loses no notice. One failed crawl is weather, not news: a source is announced failing
(or articles failing) after ``failing_after`` such crawls in a row. A source announced as one of the two is
not announced recovered while it is the other: that is announced once it too has lasted ``failing_after``
crawls. Each source's last announced status is kept in the database, so a restart does not announce again
what was already said.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.health import SourceHealth
from db.models import OutboxMessage, Source

logger = logging.getLogger(__name__)

NOTICE_RULE = "source-health"  # what `alerts log` shows in the rules column of a notice


FAILING = ("failing", "articles failing")  # announced after failing_after crawls in a row


def announced_status(health: SourceHealth, failing_after: int, before: str = "ok") -> str:
    """ok, failing, articles failing or silent, as far as notices are concerned ("never crawled" counts as ok);
    ``before`` is the status announced last."""
    if health.status in FAILING:
        if health.consecutive_failures >= failing_after:
            return health.status
        return before if before in FAILING else "ok"  # not read fine yet: no recovery to announce
    return "silent" if health.status == "silent" else "ok"


def announce_changes(
    session: Session,
    healths: Iterable[SourceHealth],
    urls: dict[str, str],
    channel: str | None,
    failing_after: int,
    now: datetime,
) -> list[tuple[str, str, str]]:
    """Queue a notice for every source whose announced status changed; returns (source, before, now) of each."""
    healths = list(healths)
    rows = {s.name: s for s in session.scalars(select(Source).where(Source.name.in_([h.name for h in healths])))}
    changes = []
    for health in healths:
        row = rows.get(health.name)
        if row is None:
            continue
        before = row.health_status or "ok"
        status = announced_status(health, failing_after, before)
        row.health_status = status
        if status == before:
            continue
        changes.append((health.name, before, status))
        logger.warning("source %s is %s (was %s)", health.name, status, before)
        if channel:
            session.add(
                OutboxMessage(
                    story_id=None, notice=_notice(health, status, urls.get(health.name, ""), now), channel=channel,
                    rules=NOTICE_RULE, digest="", status="pending", created_at=now, due_at=now, attempts=0,
                )
            )
    return changes


def _notice(health: SourceHealth, status: str, url: str, now: datetime) -> str:
    name = health.name
    if status == "failing":
        return (
            f"newsmon: source {name} is failing\n\n"
            f"{name} ({url}) failed {health.consecutive_failures} crawls in a row; last error: {health.last_error}.\n"
            f"Last read fine: {_when(health.last_success)}. newsmon keeps trying with growing pauses."
        )
    if status == "articles failing":
        return (
            f"newsmon: source {name}'s articles are failing\n\n"
            f"{name} ({url}) is read, but every article it lists failed in {health.consecutive_failures} crawls "
            f"in a row; most common reason: {health.last_error}.\n"
            f"Last read fine: {_when(health.last_success)}. The site may block newsmon or have moved its pages."
        )
    if status == "silent":
        usual = _span(health.usual_gap) if health.usual_gap else "unknown"
        return (
            f"newsmon: source {name} has gone silent\n\n"
            f"{name} ({url}) is read fine but has had no new story since {_when(health.last_new_story)}; "
            f"it usually has one every {usual}. Its listing may have moved or stopped updating."
        )
    return (
        f"newsmon: source {name} has recovered\n\n"
        f"{name} ({url}) is fine again as of {now:%Y-%m-%d %H:%M} UTC."
    )


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "never"


def _span(gap: timedelta) -> str:
    hours = gap.total_seconds() / 3600
    return f"{hours:.1f} hours" if hours >= 1 else f"{gap.total_seconds() / 60:.0f} minutes"
