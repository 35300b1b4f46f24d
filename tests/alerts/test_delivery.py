"""The outbox and its delivery, against a real SMTP server and a real webhook receiver, on both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from alerts.delivery import MAX_ATTEMPTS, backoff, deliver_pending
from alerts.outbox import AlertPlan, match_unmatched, record_matches
from db.models import DeliveryAttempt, OutboxMessage, RuleMatch, Story
from db.session import open_database, session_factory
from newsmon.cli import cli
from tests.conftest import Mailbox, write_config
from tests.factories import alert_plan, store_matched
from tests.servers import Webhook, filler

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
TEXT = (
    "Ukrainian and American negotiators met in Geneva on Sunday to refine the 20-point peace plan. "
    "The revised draft keeps the security guarantees that Kyiv insisted on, officials said, "
    "and a prisoner exchange is expected before the end of the month."
)


def _plan(*rules: dict) -> AlertPlan:
    return alert_plan(*rules)


def _store(sessions: sessionmaker[Session], plan: AlertPlan, now: datetime = NOW, **article: object) -> int:
    return store_matched(sessions, plan, now, **{"text": TEXT, **article})


def _statuses(sessions: sessionmaker[Session]) -> list[tuple[str, str, int]]:
    with sessions() as session:
        rows = session.execute(select(OutboxMessage.channel, OutboxMessage.status, OutboxMessage.attempts)
                               .order_by(OutboxMessage.channel))
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_one_message_per_story_per_channel_naming_every_rule(engine: Engine, mailbox: Mailbox, webhook: Webhook) -> None:
    sessions = session_factory(engine)
    channels = {"desk-email": mailbox.url(), "desk-chat": webhook.url}
    plan = _plan(
        {"name": "peace-plan", "query": '"20-point plan" OR "peace plan"', "notify": ["desk-email", "desk-chat"]},
        {"name": "geneva", "query": "Geneva", "notify": ["desk-email"]},
        {"name": "odesa", "query": "Odesa", "notify": ["desk-chat"]},
    )
    _store(sessions, plan, title="Talks in Geneva\r\nBcc: everyone@example.org <script>x</script>",
           url="https://wire.example/geneva", urls=("https://wire.example/geneva",))

    report = deliver_pending(sessions, channels, plan, now=NOW)

    assert (report.sent, report.retrying, report.failed) == (2, 0, 0)
    assert len(mailbox.messages) == 1
    mail = mailbox.messages[0]
    assert mail["Subject"] == "[newsmon] peace-plan, geneva: Talks in Geneva Bcc: everyone@example.org <script>x</script>"
    assert mail["Bcc"] is None and mail["To"] == "desk@example.org"
    html = mail.get_body(preferencelist=("html",)).get_content()
    plain = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Matched: peace-plan, geneva" in html and "Matched: peace-plan, geneva" in plain
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert 'href="https://wire.example/geneva"' in html
    assert "20-point peace plan" in plain  # the snippet around the first match
    assert len(webhook.received) == 1
    chat = webhook.received[0]
    # the page's headline in a chat title is inert too: a zero-width space after its @
    assert chat["title"] == "newsmon: peace-plan: Talks in Geneva Bcc: everyone@\u200bexample.org <script>x</script>"
    assert "https://wire.example/geneva" in str(chat["message"]) and "Matched: peace-plan" in str(chat["message"])

    # Delivered means done: a second run sends nothing.
    assert deliver_pending(sessions, channels, plan, now=NOW + timedelta(hours=1)).sent == 0
    assert len(mailbox.messages) == 1 and len(webhook.received) == 1
    assert _statuses(sessions) == [("desk-chat", "sent", 1), ("desk-email", "sent", 1)]


def test_never_twice_for_a_copy_a_second_match_or_a_changed_title(engine: Engine, webhook: Webhook) -> None:
    sessions = session_factory(engine)
    plan = _plan({"name": "peace-plan", "query": '"peace plan"', "notify": ["chat"]})
    story_id = _store(sessions, plan, url="https://wire.example/a", urls=("https://wire.example/a",))
    # A syndicated copy under another URL, and the first URL again with a new title.
    _store(sessions, plan, url="https://paper.example/copy", urls=("https://paper.example/copy",), title="Copy")
    _store(sessions, plan, url="https://wire.example/a", urls=("https://wire.example/a",), title="Updated title",
           text=TEXT + " Updated.")
    with sessions.begin() as session:  # matching the same story again (a restart) queues nothing
        story = session.get(Story, story_id)
        assert story is not None
        assert record_matches(session, story, plan, NOW) == []
    assert match_unmatched(sessions, plan, NOW) == 0
    deliver_pending(sessions, {"chat": webhook.url}, plan, now=NOW)
    deliver_pending(sessions, {"chat": webhook.url}, plan, now=NOW + timedelta(days=1))
    assert len(webhook.received) == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(RuleMatch)) == 1


def test_a_channel_that_is_down_keeps_its_alerts_and_holds_up_no_other(
    engine: Engine, mailbox: Mailbox, webhook: Webhook
) -> None:
    sessions = session_factory(engine)
    channels = {"email": mailbox.url(), "chat": webhook.url}
    plan = _plan({"name": "geneva", "query": "Geneva", "notify": ["email", "chat"]})
    _store(sessions, plan)
    mailbox.refuse = True
    webhook.statuses = [500, 200]

    first = deliver_pending(sessions, channels, plan, now=NOW)
    assert (first.sent, first.retrying, first.failed) == (0, 2, 0)
    assert sorted(first.errors) == [
        "chat: Failed to send JSON POST notification: Internal server error., error=500.",
        'email: Sending email to "****" failed.',  # the recipient is masked like the rest of the URL
    ]
    assert deliver_pending(sessions, channels, plan, now=NOW + timedelta(seconds=5)).sent == 0  # backing off

    mailbox.refuse = False
    second = deliver_pending(sessions, channels, plan, now=NOW + backoff(1) + timedelta(seconds=1))
    assert (second.sent, second.retrying) == (2, 0)
    assert len(mailbox.messages) == 1 and len(webhook.received) == 1
    assert _statuses(sessions) == [("chat", "sent", 2), ("email", "sent", 2)]
    with sessions() as session:
        attempts = session.execute(select(DeliveryAttempt.ok).order_by(DeliveryAttempt.id)).scalars().all()
    assert sorted(attempts) == [False, False, True, True]


def test_a_hanging_channel_does_not_delay_the_others(engine: Engine, mailbox: Mailbox, webhook: Webhook) -> None:
    sessions = session_factory(engine)
    plan = _plan({"name": "geneva", "query": "Geneva", "notify": ["email", "chat"]})
    _store(sessions, plan)
    webhook.gate = threading.Event()
    result: list[object] = []
    runner = threading.Thread(target=lambda: result.append(
        deliver_pending(sessions, {"email": mailbox.url(), "chat": webhook.url}, plan, now=NOW)))
    runner.start()
    try:
        # The email arrives while the webhook still holds its request open.
        assert mailbox.arrived.wait(20), "email was held up by the hanging webhook"
        assert webhook.requests == 1 and not webhook.received
    finally:
        webhook.gate.set()
        runner.join(30)
    assert len(webhook.received) == 1


def test_permanent_failure_stops_after_max_attempts_and_stays_visible(tmp_path: Path, database_url: str, engine: Engine) -> None:
    sessions = session_factory(engine)
    secret = "hunter2-Secret"
    with Webhook([500]) as hook:
        url = hook.url.replace("json://", f"json://newsmon:{secret}@")
        plan = _plan({"name": "geneva", "query": "Geneva", "notify": ["chat"]})
        _store(sessions, plan)
        now = NOW
        for attempt in range(1, MAX_ATTEMPTS + 1):
            report = deliver_pending(sessions, {"chat": url}, plan, now=now)
            assert report.sent == 0
            assert (report.failed, report.retrying) == ((1, 0) if attempt == MAX_ATTEMPTS else (0, 1))
            now += backoff(attempt) + timedelta(seconds=1)
        assert deliver_pending(sessions, {"chat": url}, plan, now=now + timedelta(days=1)).failed == 0
        assert hook.requests == MAX_ATTEMPTS
    assert _statuses(sessions) == [("chat", "failed", MAX_ATTEMPTS)]
    config = write_config(tmp_path / "config.yaml", database_url, [], channels={"chat": url},
                          rules=[{"name": "geneva", "query": "Geneva", "notify": ["chat"]}])
    log = CliRunner().invoke(cli, ["--config", str(config), "alerts", "log", "--status", "failed",
                                   "--since", "3650d", "--format", "json"])
    assert log.exit_code == 0, log.output
    assert '"status": "failed"' in log.stdout and f'"attempts": {MAX_ATTEMPTS}' in log.stdout
    assert secret not in log.output


def test_a_digest_gathers_its_stories_into_one_message_at_its_time(engine: Engine, webhook: Webhook) -> None:
    sessions = session_factory(engine)
    plan = _plan(
        {"name": "morning", "query": "Geneva", "notify": ["chat"], "digest": "0 8 * * *"},
        {"name": "now", "query": "Odesa", "notify": ["chat"]},
    )
    _store(sessions, plan, url="https://wire.example/1", urls=("https://wire.example/1",), title="First")
    _store(sessions, plan, url="https://wire.example/2", urls=("https://wire.example/2",), title="Second",
           text=filler("second") + " Odesa port was struck overnight, officials said in Geneva.")  # another story
    at_seven = deliver_pending(sessions, {"chat": webhook.url}, plan, now=NOW + timedelta(hours=1))
    assert at_seven.sent == 1 and webhook.received[0]["title"] == "newsmon: now: Second"  # the immediate rule only
    deliver_pending(sessions, {"chat": webhook.url}, plan, now=datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    assert len(webhook.received) == 2
    digest = webhook.received[1]
    assert digest["title"] == "newsmon digest: morning, 2 stories"
    assert "First" in str(digest["message"]) and "Second" in str(digest["message"])


@pytest.mark.parametrize("query", ['"peace plan', "Geneva AND (", "NOT Geneva"])
def test_bad_rules_fail_the_config_check(tmp_path: Path, query: str) -> None:
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'n.db'}", [],
                          rules=[{"name": "ok", "query": "Geneva"}, {"name": "bad", "query": query}])
    result = CliRunner().invoke(cli, ["--config", str(config), "check"])
    assert result.exit_code != 0
    assert "rules[1].query:" in str(result.exception) and "at column" in str(result.exception)


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = open_database(postgres_url)
    yield engine
    engine.dispose()


@pytest.mark.postgres
def test_deliverers_running_at_once_send_each_alert_once(postgres_engine: Engine, webhook: Webhook) -> None:
    """Delivery runs in one process, but its claims hold with several (a second scheduler started by mistake,
    a manual `newsmon deliver`): on PostgreSQL each deliverer leases rows the others skip (SKIP LOCKED)."""
    sessions = session_factory(postgres_engine)
    plan = _plan({"name": "geneva", "query": "Geneva", "notify": ["chat"]})
    for number in range(60):
        _store(sessions, plan, title=f"Geneva talks, report {number}", text=f"{TEXT} {filler(str(number))}",
               url=f"https://wire.example/geneva/{number}", urls=(f"https://wire.example/geneva/{number}",))
    start = threading.Barrier(4)
    reports = []

    def deliver() -> None:
        start.wait()
        reports.append(deliver_pending(sessions, {"chat": webhook.url}, plan, now=NOW))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(report.sent for report in reports) == 60
    assert len(webhook.received) == 60 and len(set(map(str, webhook.received))) == 60
    assert set(_statuses(sessions)) == {("chat", "sent", 1)}
