"""From a stored story to outbox rows: match it against the rules and record what must be sent, atomically.

The rule matches, the outbox rows and the story's ``matched_at`` are written in one transaction: either the
story is matched and every alert it owes is queued, or neither happened and it will be matched again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.matching import RuleSet, RuleSpec, StoryText, positive_terms
from alerts.query import Term
from db.models import OutboxMessage, RuleMatch, Story
from db.queries import insert_ignoring_conflicts, iter_stories
from newsmon.config import Config, RuleConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AlertPlan:
    """The compiled rules and where each one's alerts go."""

    rules: RuleSet
    notify: dict[str, tuple[str, ...]]
    digests: dict[str, CronTrigger]
    shown_terms: dict[str, list[Term]]  # per rule, the terms its snippet is centred on

    @classmethod
    def from_rules(cls, rules: Iterable[RuleConfig]) -> AlertPlan:
        rules = list(rules)
        specs = [RuleSpec(r.name, r.query, r.exclude, r.sources, r.languages) for r in rules]
        compiled = RuleSet(specs)
        return cls(
            rules=compiled,
            notify={r.name: tuple(r.notify) for r in rules},
            digests={r.name: CronTrigger.from_crontab(r.digest, timezone="UTC") for r in rules if r.digest},
            shown_terms={rule.name: positive_terms(rule.query) for rule in compiled.rules},
        )

    @classmethod
    def from_config(cls, config: Config) -> AlertPlan:
        return cls.from_rules(config.rules)

    def match(self, story: Story) -> list[str]:
        return self.rules.match(StoryText(story.title, story.text, story.source.name, story.language))


def record_matches(session: Session, story: Story, plan: AlertPlan, now: datetime) -> list[str]:
    """Match one story, write its rule matches and outbox rows, and mark it matched; returns the rule names.

    Rules already recorded for the story (a restart, a second pass) are not queued again: the unique
    constraints on (rule, story) and (story, channel, digest) are the final word.
    """
    matched = plan.match(story)
    fresh = [
        rule
        for rule in matched
        if insert_ignoring_conflicts(session, RuleMatch, {"story_id": story.id, "rule": rule, "matched_at": now})
    ]
    immediate: dict[str, list[str]] = {}
    for rule in fresh:
        for channel in plan.notify.get(rule, ()):
            if rule in plan.digests:
                due = plan.digests[rule].get_next_fire_time(None, now) or now
                _queue(session, story.id, channel, [rule], digest=rule, due=due, now=now)
            else:
                immediate.setdefault(channel, []).append(rule)
    for channel, rules in immediate.items():
        _queue(session, story.id, channel, rules, digest="", due=now, now=now)
    story.matched_at = now
    return fresh


def _queue(session: Session, story_id: int, channel: str, rules: list[str], digest: str, due: datetime, now: datetime) -> None:
    insert_ignoring_conflicts(
        session,
        OutboxMessage,
        {
            "story_id": story_id,
            "channel": channel,
            "rules": ",".join(rules),
            "digest": digest,
            "status": "pending",
            "created_at": now,
            "due_at": due,
            "attempts": 0,
        },
    )


def match_unmatched(sessions: sessionmaker[Session], plan: AlertPlan, now: datetime, batch: int = 200) -> int:
    """Match every story not matched yet (stored by a crawl that stopped before matching); returns how many."""
    done = 0
    while True:
        with sessions.begin() as session:
            stories = list(
                session.scalars(
                    select(Story).where(Story.matched_at.is_(None)).order_by(Story.id).limit(batch)
                ).unique()
            )
            for story in stories:
                record_matches(session, story, plan, now)
        done += len(stories)
        if len(stories) < batch:
            return done


def backtest(session: Session, plan: AlertPlan, rule: str, since: datetime | None) -> list[Story]:
    """The stored stories ``rule`` would have alerted on since ``since``, newest first; nothing is written."""
    matched = [story for story in iter_stories(session, since) if rule in plan.match(story)]
    return sorted(matched, key=lambda story: story.published_at or story.fetched_at, reverse=True)
