"""A rule alerts once per near-duplicate cluster; later copies from other outlets make one follow-up if asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from alerts.delivery import deliver_pending
from alerts.outbox import AlertPlan, record_matches
from db.models import OutboxMessage, RuleMatch, Story
from db.session import session_factory
from db.sources import sync_sources
from db.storage import StoreOutcome, store_article
from newsmon.config import RuleConfig, SourceConfig
from tests.factories import make_article
from tests.servers import Webhook, filler

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
WIRE = (
    "Ukrainian and American negotiators met in Geneva on Sunday to refine the 20-point peace plan, officials from "
    "both delegations said after more than six hours of talks. The revised draft keeps the security guarantees "
    "that Kyiv insisted on, according to two people familiar with the discussions, while questions about "
    "territory remain open. A prisoner exchange is expected before the end of the month."
)


def _store(sessions: sessionmaker[Session], plan: AlertPlan, outlet: str, text: str, now: datetime = NOW) -> int:
    """One outlet's story, stored and matched in one transaction as the crawl's StorePipeline does."""
    url = f"https://{outlet}.example/world/geneva-talks"
    with sessions.begin() as session:
        source_id = sync_sources(session, [SourceConfig(name=outlet, feed=f"https://{outlet}.example/rss")], now)[outlet]
        article = make_article(url=url, urls=(url,), title=f"{outlet.title()}: Geneva talks", text=text,
                               source=outlet, site_name=f"{outlet.title()} News")
        outcome, story_id = store_article(session, article, source_id, now)
        assert outcome is StoreOutcome.NEW
        story = session.get(Story, story_id)
        assert story is not None
        record_matches(session, story, plan, now)
    return story_id


def _outbox(sessions: sessionmaker[Session]) -> list[tuple[int | None, str, str]]:
    with sessions() as session:
        rows = session.execute(select(OutboxMessage.story_id, OutboxMessage.kind, OutboxMessage.status)
                               .order_by(OutboxMessage.id))
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_copies_from_other_outlets_do_not_alert_again_but_are_recorded(engine: Engine) -> None:
    sessions = session_factory(engine)
    plan = AlertPlan.from_rules([RuleConfig(name="talks", query='"peace plan"', notify=["chat"])])
    first = _store(sessions, plan, "wire", WIRE)
    copy = _store(sessions, plan, "paper", WIRE + " Talks resume on Tuesday.", NOW + timedelta(minutes=5))
    other = _store(sessions, plan, "daily", filler("other") + " The peace plan was discussed in Moscow.")

    assert _outbox(sessions) == [(first, "alert", "pending"), (other, "alert", "pending")]
    with sessions() as session:
        matched = session.scalars(select(RuleMatch.story_id).order_by(RuleMatch.story_id)).all()
        assert list(matched) == [first, copy, other]  # the copy's match is on record (backtests, search)


def test_a_rule_with_followups_sends_one_follow_up_naming_the_other_outlets(engine: Engine, webhook: Webhook) -> None:
    sessions = session_factory(engine)
    plan = AlertPlan.from_rules(
        [RuleConfig(name="talks", query='"peace plan"', notify=["chat"], followups=True)], timedelta(hours=1)
    )
    first = _store(sessions, plan, "wire", WIRE)
    _store(sessions, plan, "paper", "Update. " + WIRE, NOW + timedelta(minutes=10))
    _store(sessions, plan, "daily", WIRE.replace("Sunday", "Sunday evening"), NOW + timedelta(minutes=20))

    assert _outbox(sessions) == [(first, "alert", "pending"), (first, "followup", "pending")]
    channels = {"chat": webhook.url}
    assert deliver_pending(sessions, channels, plan, now=NOW + timedelta(minutes=30)).sent == 1  # the alert
    assert deliver_pending(sessions, channels, plan, now=NOW + timedelta(minutes=59)).sent == 0
    assert deliver_pending(sessions, channels, plan, now=NOW + timedelta(hours=1)).sent == 1
    followup = webhook.received[-1]
    assert followup["title"] == "newsmon: also reported by 2 other outlets"
    assert "Paper News: Paper: Geneva talks" in followup["message"]
    assert "Daily News: Daily: Geneva talks" in followup["message"]
    assert "https://paper.example/world/geneva-talks" in followup["message"]

    _store(sessions, plan, "weekly", WIRE + " Analysis follows.", NOW + timedelta(hours=2))  # after it was sent
    assert [kind for _, kind, _ in _outbox(sessions)] == ["alert", "followup"]  # one follow-up, ever
