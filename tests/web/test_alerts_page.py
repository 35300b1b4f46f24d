"""The /alerts page and /api/alerts: what was sent, held, pending or failed, per rule and channel, with the story
and the forms its names were found in; channel secrets never shown."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from alerts.delivery import deliver_pending
from alerts.outbox import AlertPlan
from db.session import open_database, session_factory
from tests.web.conftest import NOW, SECRET_CHANNEL, Served


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr class="alert" data-state="(\w+)">', html)


def test_the_alerts_page_and_api_list_each_message_with_its_state_story_and_forms(sqlite_served: Served) -> None:
    page = httpx.get(sqlite_served.url + "/alerts", timeout=30)
    assert page.status_code == 200
    # One alert for the Geneva story and its copy (one cluster); the Ukrainian story is two days old: matched,
    # never sent (alerts.max_age), so not listed.
    assert _rows(page.text) == ["pending"]
    assert "Security guarantees for Kyiv on the table in Geneva" in page.text
    assert "Зеленський: гарантії безпеки — головне питання" not in page.text
    assert "hunter2" not in page.text and SECRET_CHANNEL not in page.text

    engine = open_database(sqlite_served.config.database.url)
    report = deliver_pending(session_factory(engine), dict(sqlite_served.config.channels),
                             AlertPlan.from_config(sqlite_served.config), now=NOW + timedelta(minutes=1))
    engine.dispose()
    assert report.retrying == 1  # nobody listens on port 9

    api = httpx.get(sqlite_served.url + "/api/alerts", params={"status": "pending", "rule": "guarantees"}, timeout=30)
    assert api.status_code == 200
    records = api.json()
    assert [r["state"] for r in records] == ["pending"] and all(r["attempts"] == 1 for r in records)
    assert all(r["channel"] == "team" and r["rules"] == ["guarantees"] for r in records)
    assert all(r["last_error"] and "hunter2" not in r["last_error"] for r in records)
    assert [r["story"]["id"] for r in records] == [sqlite_served.ids[0]]
    assert httpx.get(sqlite_served.url + "/api/alerts", params={"status": "sent"}, timeout=30).json() == []
    assert httpx.get(sqlite_served.url + "/api/alerts", params={"status": "nonsense"}, timeout=30).status_code == 400
    assert _rows(httpx.get(sqlite_served.url + "/alerts", params={"channel": "other"}, timeout=30).text) == []
