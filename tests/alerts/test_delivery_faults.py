"""Delivery under faults: a database that refuses writes, a sender that died, a slow receiver, two channels
failing at once. Real SMTP and webhook receivers, real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from alerts.delivery import Deliverer, backoff, deliver_pending
from alerts.sending import email_message_id, message_identity
from db.models import OutboxMessage
from db.session import open_database, session_factory
from tests.conftest import Mailbox
from tests.factories import alert_plan, queue_alerts
from tests.faults import Fault
from tests.servers import Webhook

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
GENEVA = {"name": "geneva", "query": "Geneva", "notify": ["chat"]}


def _outbox(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_every_message_carries_an_identity_kept_across_retries(engine: Engine, mailbox: Mailbox,
                                                               webhook: Webhook) -> None:
    sessions = session_factory(engine)
    plan = alert_plan({"name": "geneva", "query": "Geneva", "notify": ["email", "chat"]})
    queue_alerts(sessions, plan, 2, NOW, "Geneva")
    channels = {"email": mailbox.url(), "chat": webhook.url}
    mailbox.refuse, webhook.statuses = True, [500, 500, 200]

    assert deliver_pending(sessions, channels, plan, now=NOW).retrying == 4
    mailbox.refuse = False
    assert deliver_pending(sessions, channels, plan, now=NOW + backoff(1) + timedelta(seconds=1)).sent == 4

    rows = _outbox(sessions)
    identity = {(row.channel, row.story_id): message_identity(row.id, row.created_at) for row in rows}
    assert len(set(identity.values())) == 4 and all(key.startswith("newsmon-") for key in identity.values())
    # The webhook saw each alert twice (a 500, then a 200), with the same key both times, in header and body.
    chat_keys = {key for (channel, _story), key in identity.items() if channel == "chat"}
    assert sorted(webhook.keys()) == sorted([*chat_keys, *chat_keys])
    assert all(arrival.body["idempotency_key"] == arrival.headers["Idempotency-Key"] for arrival in webhook.arrivals)
    # The mail server was offered each email twice (refused, then accepted) under one Message-ID.
    mail_ids = {email_message_id(key) for (channel, _story), key in identity.items() if channel == "email"}
    assert sorted(message["Message-ID"] for message in mailbox.offered) == sorted([*mail_ids, *mail_ids])
    assert {message["Message-ID"] for message in mailbox.messages} == mail_ids


def test_alerts_a_dead_sender_held_are_taken_back_at_once(engine: Engine, webhook: Webhook) -> None:
    """A sender killed mid-send leaves its alerts 'sending' under a lease of minutes. A sender known dead (its
    process gone from this host, or its scheduler lock taken over) is not waited for."""
    sessions = session_factory(engine)
    plan = alert_plan(GENEVA)
    queue_alerts(sessions, plan, 3, NOW, "Geneva")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    dead_here = f"{socket.gethostname()} pid {int(gone.stdout)} #0dead000"
    elsewhere = "another-host pid 4242 #0a1b2c3d"
    ids = [row.id for row in _outbox(sessions)]
    with sessions.begin() as session:
        for message_id, claimant in zip(ids, [dead_here, dead_here, elsewhere]):
            session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(
                status="sending", claimed_by=claimant, claimed_until=NOW + timedelta(minutes=5)))

    deliverer = Deliverer(sessions, {"chat": webhook.url}, plan)
    assert deliverer.deliver(now=NOW + timedelta(seconds=1)).sent == 2  # well within their lease
    assert len(webhook.received) == 2
    # One elsewhere is alive as far as this host can tell, until its lock is taken over from it.
    assert deliverer.deliver(now=NOW + timedelta(seconds=2)).sent == 0
    deliverer.dead_claimants.add(elsewhere)
    assert deliverer.deliver(now=NOW + timedelta(seconds=3)).sent == 1
    assert [row.status for row in _outbox(sessions)] == ["sent"] * 3
    assert len(set(webhook.keys())) == 3


def test_a_database_refusing_writes_mid_delivery_doubles_nothing(fragile_database: Fault, webhook: Webhook) -> None:
    """The database stops taking writes (a full disk) right after the first alert went out: its outcome is
    kept in memory, nothing more is sent while the database refuses, and once it takes writes again the
    outcome is recorded and the rest go out, each once, even long after the lease has run out."""
    engine = open_database(fragile_database.url)
    sessions = session_factory(engine)
    try:
        plan = alert_plan(GENEVA)
        queue_alerts(sessions, plan, 12, NOW, "Geneva")
        fragile_database.prepare(engine)
        webhook.on_arrival = lambda _arrival: fragile_database.refuse() if webhook.requests == 1 else None
        deliverer = Deliverer(sessions, {"chat": webhook.url}, plan)

        first = deliverer.deliver(now=NOW)
        assert webhook.requests == 1 and first.sent == 1
        assert first.unrecorded == 1 and deliverer.unrecorded == 1 and first.write_error
        # While the database refuses, nothing new is claimed or sent, however often delivery runs.
        again = deliverer.deliver(now=NOW + timedelta(minutes=1))
        assert webhook.requests == 1 and again.unrecorded == 1 and again.write_error

        fragile_database.accept()
        later = deliverer.deliver(now=NOW + timedelta(minutes=30))  # every lease has run out by now
        assert later.sent == 11 and later.unrecorded == 0 and deliverer.unrecorded == 0
        assert webhook.requests == 12 and len(set(webhook.keys())) == 12
        rows = _outbox(sessions)
        assert [row.status for row in rows] == ["sent"] * 12 and [row.attempts for row in rows] == [1] * 12
    finally:
        engine.dispose()


def test_a_slow_receiver_is_waited_for_not_sent_the_alert_again(engine: Engine, webhook: Webhook) -> None:
    """A receiver that answers in 5 s (apprise's own read timeout is 4 s) gets each alert once."""
    sessions = session_factory(engine)
    plan = alert_plan(GENEVA)
    queue_alerts(sessions, plan, 2, NOW, "Geneva")
    webhook.delay = 5.0
    report = deliver_pending(sessions, {"chat": webhook.url}, plan, now=NOW)
    assert (report.sent, report.retrying) == (2, 0)
    assert webhook.requests == 2 and len(webhook.received) == 2


def test_no_answer_after_the_message_went_out_is_retried_with_the_same_key(engine: Engine, webhook: Webhook) -> None:
    """Past the channel's read timeout (``rto`` in its URL) the outcome is unknown: the receiver may have the
    alert. It is retried like a failure, with the same idempotency key, and recorded as possibly arrived."""
    sessions = session_factory(engine)
    plan = alert_plan(GENEVA)
    queue_alerts(sessions, plan, 1, NOW, "Geneva")
    url = webhook.url + "?rto=1"
    webhook.gate = threading.Event()  # holds the answer until released
    first = deliver_pending(sessions, {"chat": url}, plan, now=NOW)
    webhook.gate.set()
    assert (first.sent, first.retrying, first.unknown) == (0, 1, 1)
    (row,) = _outbox(sessions)
    assert row.status == "pending" and "no answer within 1s" in (row.last_error or "")
    assert "may have arrived" in (row.last_error or "")

    assert deliver_pending(sessions, {"chat": url}, plan, now=NOW + backoff(1) + timedelta(seconds=1)).sent == 1
    assert webhook.requests == 2 and len(set(webhook.keys())) == 1


def test_two_channels_failing_at_once_each_record_their_own_error(engine: Engine) -> None:
    sessions = session_factory(engine)
    plan = alert_plan({"name": "geneva", "query": "Geneva", "notify": ["first", "second"]})
    queue_alerts(sessions, plan, 1, NOW, "Geneva")
    with Webhook([500], path="/first") as first, Webhook([503], path="/second") as second:
        release = threading.Event()
        first.gate = second.gate = release
        runner = threading.Thread(target=deliver_pending,
                                  args=(sessions, {"first": first.url, "second": second.url}, plan, NOW))
        runner.start()
        try:
            # Both requests are in the receivers' hands before either answers: the failures overlap.
            assert first.wait_for(lambda hook: hook.requests == 1) and second.wait_for(lambda hook: hook.requests == 1)
        finally:
            release.set()
            runner.join(60)
    errors = {row.channel: row.last_error for row in _outbox(sessions)}
    assert errors == {
        "first": "Failed to send JSON POST notification: Internal server error., error=500.",
        "second": "Failed to send JSON POST notification: Servers are overloaded., error=503.",
    }
