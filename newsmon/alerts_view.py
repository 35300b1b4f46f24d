"""What `newsmon serve` says about alerts (the /alerts page and /api/alerts): each outbox message with its state
(sent, held by quiet hours, pending, sending, failed), rules, channel, story and the forms its names were
found in. Channel URLs are never shown; recorded errors were masked when they were recorded."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.delivery import QUIET_DIGEST
from alerts.names import matched_names
from alerts.outbox import AlertPlan
from db.models import OutboxMessage
from newsmon.config import Config
from newsmon.output import iso

STATES = ("sent", "held", "pending", "sending", "failed")


_plans: dict[int, tuple[Config, AlertPlan]] = {}


def _plan(config: Config) -> AlertPlan:
    """The config's compiled rules, once per config (compiling a thousand rules with names takes a second)."""
    known = _plans.get(id(config))
    if known is None or known[0] is not config:
        known = _plans[id(config)] = (config, AlertPlan.from_config(config))
    return known[1]


def state(message: OutboxMessage) -> str:
    """sent, failed, sending, pending, or held: pending until a channel's quiet hours end."""
    if message.status == "pending" and message.digest == QUIET_DIGEST:
        return "held"
    return message.status


def alert_records(session: Session, config: Config, status: str | None = None, rule: str | None = None,
                  channel: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The newest outbox messages first, at most ``limit``, filtered by state, rule and channel."""
    statement = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status == "held":
        statement = statement.where(OutboxMessage.status == "pending", OutboxMessage.digest == QUIET_DIGEST)
    elif status == "pending":
        statement = statement.where(OutboxMessage.status == "pending", OutboxMessage.digest != QUIET_DIGEST)
    elif status:
        statement = statement.where(OutboxMessage.status == status)
    if channel:
        statement = statement.where(OutboxMessage.channel == channel)
    terms = _plan(config).shown_terms
    records = []
    for message in session.scalars(statement.limit(limit * 4 if rule else limit)).unique():
        rules = message.rules.split(",") if message.rules else []
        if rule and rule not in rules:
            continue
        story = message.story
        wanted = [term for name in rules for term in terms.get(name, [])]
        records.append({
            "id": message.id, "state": state(message), "kind": message.kind, "channel": message.channel,
            "rules": rules, "digest": message.digest if message.digest and message.digest != QUIET_DIGEST else None,
            "created_at": iso(message.created_at), "due_at": iso(message.due_at), "sent_at": iso(message.sent_at),
            "attempts": message.attempts, "last_error": message.last_error,
            "story": None if story is None else {"id": story.id, "title": story.title, "url": story.url,
                                                 "outlet": story.site_name or story.source.name},
            "matched_as": matched_names(wanted, story.title, story.text) if story is not None else [],
            "notice": (message.notice or "").split("\n", 1)[0] if story is None else None,
        })
        if len(records) == limit:
            break
    return records
