"""From a stored story to outbox rows: match it against the rules and record what must be sent, atomically.

The rule matches, the outbox rows and the story's ``matched_at`` are written in one transaction: either the
story is matched and every alert it owes is queued, or neither happened and it will be matched again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.matching import RuleSet, RuleSpec, StoryText, positive_terms
from alerts.names import lexicon_for
from alerts.query import Term
from alerts.search import query_candidates
from db.models import ClusterAlert, OutboxMessage, RuleMatch, Story
from db.search import Filters, Sort
from db.storage import insert_ignoring_conflicts
from alerts.surges import surge_fires
from newsmon.config import Config, RuleConfig, SurgeConfig
from newsmon.moments import QuietWindow

logger = logging.getLogger(__name__)
DEFAULT_MAX_AGE = timedelta(days=2)  # config's alerts.max_age


@dataclass(frozen=True, slots=True)
class AlertPlan:
    """The compiled rules and where each one's alerts go."""

    rules: RuleSet
    notify: dict[str, tuple[str, ...]]
    digests: dict[str, CronTrigger]
    shown_terms: dict[str, list[Term]]  # per rule, the terms its snippet is centred on
    followups: frozenset[str] = frozenset()  # rules that send one follow-up when other outlets report the story
    followup_after: timedelta = timedelta(hours=1)
    max_age: dict[str, timedelta] = field(default_factory=dict)  # per rule: older stories are matched, never sent
    base_url: str | None = None  # where `newsmon serve` is reached: alerts link to the story's page there
    urgent: frozenset[str] = frozenset()  # rules whose alerts break through quiet hours
    quiet: dict[str, QuietWindow] = field(default_factory=dict)  # channel -> the hours its messages are held
    surges: dict[str, SurgeConfig] = field(default_factory=dict)  # rules that also alert on a surge of outlets

    @classmethod
    def from_rules(
        cls,
        rules: Iterable[RuleConfig],
        followup_after: timedelta = timedelta(hours=1),
        names: Mapping[str, Sequence[str]] | None = None,
        max_age: timedelta = DEFAULT_MAX_AGE,
    ) -> AlertPlan:
        """The plan for ``rules``, their names widened by the shipped names and ``names`` (a config's)."""
        rules = list(rules)
        specs = [RuleSpec(r.name, r.query, r.exclude, r.sources, r.languages) for r in rules]
        compiled = RuleSet(specs, lexicon_for(names))
        return cls(
            rules=compiled,
            notify={r.name: tuple(r.notify) for r in rules},
            digests={r.name: CronTrigger.from_crontab(r.digest, timezone="UTC") for r in rules if r.digest},
            shown_terms={rule.name: positive_terms(rule.query) for rule in compiled.rules},
            followups=frozenset(r.name for r in rules if r.followups),
            followup_after=followup_after,
            max_age={r.name: r.max_age or max_age for r in rules},
            urgent=frozenset(r.name for r in rules if r.urgent),
            surges={r.name: r.surge for r in rules if r.surge is not None},
        )

    @classmethod
    def from_config(cls, config: Config) -> AlertPlan:
        plan = cls.from_rules(config.rules, config.clusters.followup_after, config.names, config.alerts.max_age)
        quiet = {channel: QuietWindow.parse(hours) for channel, hours in config.quiet_hours.items()}
        return replace(plan, base_url=config.web.base_url, quiet=quiet)

    def match(self, story: Story) -> list[str]:
        return self.rules.match(StoryText(story.title, story.text, story.source.name, story.language))


def too_old(story: Story, max_age: timedelta, at: datetime) -> bool:
    """Whether ``story`` is no news at ``at``: its own publication date and its listing's date are both more than
    ``max_age`` before (a listing that brings an old page up again as new makes it news). A story with no date at
    all is taken as news: nothing says otherwise."""
    dates = [moment for moment in (story.published_at, story.listed_at) if moment is not None]
    return bool(dates) and max(dates) < at - max_age


def record_matches(session: Session, story: Story, plan: AlertPlan, now: datetime) -> list[str]:
    """Match one story, write its rule matches and outbox rows, and mark it matched; returns the rule names.

    Only news alerts: a story published more than the rule's ``max_age`` ago is matched (the match recorded,
    searchable, shown by ``alerts test``) and sent nowhere, and claims no cluster. A rule alerts once per
    near-duplicate cluster: on a later copy (another outlet, a rewrite, an update under
    a new URL) it only records the match, and queues the cluster's one follow-up if the rule asks for it.
    Rules already recorded for the story (a restart, a second pass) are not queued again: the unique
    constraints on (rule, story), (cluster, rule) and (story, channel, digest, kind) are the final word.
    """
    matched = plan.match(story)
    fresh = [
        rule
        for rule in matched
        if insert_ignoring_conflicts(session, RuleMatch, {"story_id": story.id, "rule": rule, "matched_at": now})
    ]
    cluster_id = story.cluster_id or story.id
    immediate: dict[str, list[str]] = {}
    for rule in fresh:
        if too_old(story, plan.max_age.get(rule, DEFAULT_MAX_AGE), now):
            continue
        first = {"cluster_id": cluster_id, "rule": rule, "story_id": story.id, "alerted_at": now}
        if insert_ignoring_conflicts(session, ClusterAlert, first) is None:
            if rule in plan.followups:
                _queue_followup(session, cluster_id, rule, plan, now)
            continue
        for channel in plan.notify.get(rule, ()):
            if rule in plan.digests:
                due = plan.digests[rule].get_next_fire_time(None, now) or now
                _queue(session, story.id, channel, [rule], digest=rule, due=due, now=now)
            else:
                immediate.setdefault(channel, []).append(rule)
    for channel, rules in immediate.items():
        _queue(session, story.id, channel, rules, digest="", due=now, now=now)
    for rule in fresh:
        if rule in plan.surges and surge_fires(session, rule, plan.surges[rule], story, now):
            for channel in plan.notify.get(rule, ()):
                _queue(session, story.id, channel, [rule], digest="", due=now, now=now, kind="surge")
    story.matched_at = now
    return fresh


def _queue_followup(session: Session, cluster_id: int, rule: str, plan: AlertPlan, now: datetime) -> None:
    """The one follow-up per channel on the story that alerted, ``followup_after`` after its alert. It is
    written out when sent, so it names every outlet that reported the story by then."""
    alerted = session.get(ClusterAlert, (cluster_id, rule))
    if alerted is None:  # pragma: no cover - the row that just refused this insert
        return
    due = max(now, alerted.alerted_at + plan.followup_after)
    for channel in plan.notify.get(rule, ()):
        _queue(session, alerted.story_id, channel, [rule], digest="", due=due, now=now, kind="followup")


def _queue(
    session: Session,
    story_id: int,
    channel: str,
    rules: list[str],
    digest: str,
    due: datetime,
    now: datetime,
    kind: str = "alert",
) -> None:
    insert_ignoring_conflicts(
        session,
        OutboxMessage,
        {
            "story_id": story_id,
            "channel": channel,
            "rules": ",".join(rules),
            "digest": digest,
            "kind": kind,
            "status": "pending",
            "created_at": now,
            "due_at": due,
            "attempts": 0,
        },
    )


def match_unmatched(sessions: sessionmaker[Session], plan: AlertPlan, now: datetime, batch: int = 200) -> int:
    """Match every story stored but not matched yet, a batch per transaction; returns how many matched a rule.

    The crawl stores stories unmatched; this is the step after it (`newsmon crawl`, and the service's delivery
    job). A kill between the two loses nothing: the stories stay unmatched until the next run.
    """
    matched = 0
    while True:
        with sessions.begin() as session:
            stories = list(
                session.scalars(
                    select(Story).where(Story.matched_at.is_(None)).order_by(Story.id).limit(batch)
                ).unique()
            )
            for story in stories:
                if story.status != "article":  # a teaser or a page that is no article alerts nobody
                    story.matched_at = now
                elif record_matches(session, story, plan, now):
                    matched += 1
        if len(stories) < batch:
            return matched


class Verdict(StrEnum):
    """What alerting does with a story a rule's query matched (``backtest``)."""

    SENT = "sent"
    DIGEST = "digest"  # gathered into the rule's digest
    TOO_OLD = "too old"  # published more than the rule's max_age before it was matched
    CLUSTER = "already alerted for its cluster"  # a copy of a story the rule alerted on
    EXCLUDED = "excluded"  # the rule's exclude vetoed it


def backtest(session: Session, plan: AlertPlan, rule: str, since: datetime | None) -> list[tuple[Story, Verdict]]:
    """What ``rule`` would have done with each stored story its query matches since ``since``, newest first;
    nothing is written.

    The same search as `newsmon search` with the rule's query: the full-text index finds the candidates, and the
    rule itself (its sources, languages and exclude too) decides each one; then the alerting semantics of
    ``record_matches``, in the order stories were matched (by id): too old at the moment it was matched (or, not
    matched yet, fetched), a copy of a story of its cluster that alerted first, a digest's or sent.
    """
    compiled = next(r for r in plan.rules.rules if r.name == rule)
    found = [story for story, _rank in query_candidates(session, compiled.query, Filters(since=since), Sort.NEWEST)]
    alerted: set[int] = set()
    verdicts: dict[int, Verdict] = {}
    for story in sorted(found, key=lambda s: s.id):
        outcome = plan.rules.decide(StoryText(story.title, story.text, story.source.name, story.language), rule)
        if outcome is None or story.status != "article":
            continue
        cluster = story.cluster_id or story.id
        if outcome == "excluded":
            verdicts[story.id] = Verdict.EXCLUDED
        elif too_old(story, plan.max_age.get(rule, DEFAULT_MAX_AGE), story.matched_at or story.fetched_at):
            verdicts[story.id] = Verdict.TOO_OLD
        elif cluster in alerted or _alerted_before(session, cluster, rule, story.id):
            verdicts[story.id] = Verdict.CLUSTER
        else:
            alerted.add(cluster)
            verdicts[story.id] = Verdict.DIGEST if rule in plan.digests else Verdict.SENT
    return [(story, verdicts[story.id]) for story in found if story.id in verdicts]


def _alerted_before(session: Session, cluster_id: int, rule: str, story_id: int) -> bool:
    """Whether the rule alerted on an earlier story of the cluster, one outside the backtest's window."""
    alerted = session.get(ClusterAlert, (cluster_id, rule))
    return alerted is not None and alerted.story_id < story_id
