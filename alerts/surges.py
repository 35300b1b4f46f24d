"""Surge alerts: one alert when many outlets report a rule's stories at once, with the evidence.

A rule with ``surge: {outlets: 5, within: 2h, languages: 2}`` fires when the stories it matched that were
published (else fetched) in the last ``within`` come from at least ``outlets`` distinct outlets in at least
``languages`` languages; it lists every outlet with its first story (headline, link, language, time), first
report first. Counted on stories, not alerts: stories that alerted nothing (copies of one cluster, a digest's)
count too. After firing, the rule fires again only once a match has found its window with fewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from db.models import RuleMatch, Story, Surge
from db.storage import insert_ignoring_conflicts
from newsmon.config import SurgeConfig


@dataclass(frozen=True, slots=True)
class Report:
    """An outlet's first matching story in a surge window."""

    story: Story
    outlet: str
    at: datetime


def surge_reports(session: Session, rule: str, surge: SurgeConfig, until: datetime) -> list[Report]:
    """Each outlet's first story matched by ``rule`` published (else fetched) in ``within`` before ``until``,
    first report first."""
    moment = func.coalesce(Story.published_at, Story.fetched_at)
    statement = (
        select(Story)
        .join(RuleMatch, RuleMatch.story_id == Story.id)
        .where(RuleMatch.rule == rule, moment >= until - surge.within, moment <= until, Story.status == "article")
        .order_by(moment, Story.id)
    )
    firsts: dict[str, Report] = {}
    for story in session.scalars(statement).unique():
        outlet = story.site_name or story.source.name
        if outlet not in firsts:
            firsts[outlet] = Report(story, outlet, story.published_at or story.fetched_at)
    return list(firsts.values())


def is_surge(reports: list[Report], surge: SurgeConfig) -> bool:
    languages = {report.story.language for report in reports if report.story.language}
    return len(reports) >= surge.outlets and len(languages) >= surge.languages


def surge_fires(session: Session, rule: str, surge: SurgeConfig, story: Story, now: datetime) -> bool:
    """Whether ``story``'s match makes ``rule``'s surge fire now (recording it); a window with fewer re-arms it."""
    session.flush()  # the story's own match counts
    if not is_surge(surge_reports(session, rule, surge, now), surge):
        session.execute(delete(Surge).where(Surge.rule == rule))
        return False
    return insert_ignoring_conflicts(session, Surge, {"rule": rule, "fired_at": now, "story_id": story.id}) is not None
