"""The real `newsmon run` under faults: SIGKILLed mid-send, and a database that stops taking writes."""

from __future__ import annotations

import json
import os
import signal
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from db.models import OutboxMessage
from db.session import open_database, session_factory
from tests.conftest import write_config
from tests.factories import alert_plan, queue_alerts
from tests.faults import Fault
from tests.processes import free_port, newsmon_run, wait_until
from tests.servers import Arrival, Webhook

GENEVA = {"name": "geneva", "query": "Geneva", "notify": ["chat"]}


def _prepare(tmp_path: Path, engine: Engine, webhook: Webhook, alerts: int) -> tuple[Path, sessionmaker[Session]]:
    """A config delivering every second to ``webhook``, and its archive with ``alerts`` alerts queued."""
    sessions = session_factory(engine)
    queue_alerts(sessions, alert_plan(GENEVA), alerts, datetime.now(UTC), "Geneva")
    database_url = engine.url.render_as_string(hide_password=False)
    config = write_config(tmp_path / "config.yaml", database_url, [], channels={"chat": webhook.url},
                          rules=[GENEVA], service={"deliver_every": "1s"})
    return config, sessions


def _outbox(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _all_sent(sessions: sessionmaker[Session]) -> bool:
    rows = _outbox(sessions)
    return bool(rows) and all(row.status == "sent" for row in rows)


def test_a_killed_service_resumes_delivery_at_once_with_the_same_identity(
    tmp_path: Path, engine: Engine, webhook: Webhook
) -> None:
    """SIGKILL while the receiver holds an alert: the restarted service takes back what the dead one had in
    flight at once (not after its 5-minute lease), and sends it again under the same idempotency key."""
    config, sessions = _prepare(tmp_path, engine, webhook, alerts=5)
    webhook.gate = threading.Event()  # the receiver keeps the first alert without answering
    victim: dict[str, int] = {}

    def kill_at_first(arrival: Arrival) -> None:
        if webhook.requests == 1:
            os.kill(victim["pid"], signal.SIGKILL)

    webhook.on_arrival = kill_at_first
    with newsmon_run(config) as first:
        victim["pid"] = first.pid
        assert first.wait(120) == -signal.SIGKILL
    in_flight = [row for row in _outbox(sessions) if row.status == "sending"]
    assert in_flight and all(f"pid {victim['pid']} " in (row.claimed_by or "") for row in in_flight)
    lease_ends = min(row.claimed_until for row in in_flight if row.claimed_until is not None)
    webhook.gate.set()

    with newsmon_run(config) as second:
        wait_until(lambda: _all_sent(sessions), timeout=120, what="every alert sent after the restart")
        second.send_signal(signal.SIGTERM)
        assert second.wait(60) == 0
    keys = webhook.keys()
    assert len(keys) == 6 and len(set(keys)) == 5  # at least once: the one in flight at the kill, twice
    (doubled,) = [key for key in set(keys) if keys.count(key) == 2]
    assert doubled == keys[0]
    resent = [arrival for arrival in webhook.arrivals if arrival.key == doubled][1]
    assert resent.at < lease_ends  # taken back at once, not when the dead sender's lease ran out


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except urllib.error.URLError:  # not listening yet
        return 0, "{}"


def _health(port: int) -> dict[str, Any]:
    status, body = _get(port, "/healthz")
    return {"http": status, **json.loads(body)}


def test_healthz_says_when_the_database_refuses_writes_and_nothing_is_doubled(
    request: pytest.FixtureRequest, tmp_path: Path, fragile_database: Fault, webhook: Webhook
) -> None:
    engine = open_database(fragile_database.url)
    request.addfinalizer(engine.dispose)
    config, sessions = _prepare(tmp_path, engine, webhook, alerts=4)
    fragile_database.prepare(engine)
    webhook.on_arrival = lambda _arrival: fragile_database.refuse() if webhook.requests == 1 else None
    port = free_port()
    with newsmon_run(config, "--http", f"127.0.0.1:{port}") as service:
        failing = wait_until(lambda: (h := _health(port)).get("failing_writes") and h, timeout=120,
                             what="/healthz to report the failing writes")
        assert failing["http"] == 503 and failing["ok"] is False
        assert failing["status"].startswith("database writes failing (")
        assert failing["alerts_unrecorded"] == 1 and "\n" not in failing["status"]
        metrics = _get(port, "/metrics")[1]
        assert 'newsmon_database_write_failures_total{job="delivery"}' in metrics
        assert "newsmon_alerts_unrecorded 1.0" in metrics
        assert webhook.requests == 1  # nothing more is sent while the outcome of the first cannot be recorded

        fragile_database.accept()
        wait_until(lambda: _all_sent(sessions), timeout=120, what="every alert sent once the database recovered")
        wait_until(lambda: _health(port)["http"] == 200, timeout=60, what="/healthz ok again")
        service.send_signal(signal.SIGTERM)
        assert service.wait(60) == 0
    assert webhook.requests == 4 and len(set(webhook.keys())) == 4
    assert [row.attempts for row in _outbox(sessions)] == [1] * 4
