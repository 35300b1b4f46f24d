"""Notices to the health channel: when they are queued, what they say, and that they are said once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from alerts.render import render_notice
from db.health import SourceHealth
from db.models import OutboxMessage
from db.session import session_factory
from db.sources import sync_sources
from newsmon.config import SourceConfig
from scheduler.health_notices import NOTICE_RULE, announce_changes

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
URLS = {"wire": "https://wire.example/rss"}


def _health(status: str, failures: int = 0, error: str | None = None) -> SourceHealth:
    return SourceHealth("wire", status, failures, NOW, NOW - timedelta(hours=5), NOW - timedelta(days=3),
                        timedelta(hours=6), error)


def _announce(engine: Engine, health: SourceHealth, channel: str | None = "ops") -> list[tuple[str, str, str]]:
    with session_factory(engine).begin() as session:
        return announce_changes(session, [health], URLS, channel, failing_after=3, now=NOW)


def _notices(engine: Engine) -> list[OutboxMessage]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_each_change_is_announced_once_through_the_outbox(engine: Engine) -> None:
    with session_factory(engine).begin() as session:
        sync_sources(session, [SourceConfig(name="wire", feed=URLS["wire"])], NOW)
    assert _announce(engine, _health("ok")) == []
    assert _announce(engine, _health("failing", 1, "HTTP 503")) == []  # one failure is weather
    assert _announce(engine, _health("failing", 2, "HTTP 503")) == []
    assert _announce(engine, _health("failing", 3, "HTTP 503")) == [("wire", "ok", "failing")]
    assert _announce(engine, _health("failing", 4, "HTTP 503")) == []  # said already
    assert _announce(engine, _health("ok")) == [("wire", "failing", "ok")]
    assert _announce(engine, _health("silent")) == [("wire", "ok", "silent")]
    notices = _notices(engine)
    assert [n.notice.split("\n", 1)[0] for n in notices] == [
        "newsmon: source wire is failing", "newsmon: source wire has recovered", "newsmon: source wire has gone silent",
    ]
    assert all(n.story_id is None and n.channel == "ops" and n.rules == NOTICE_RULE and n.status == "pending"
               for n in notices)
    assert "failed 3 crawls in a row; last error: HTTP 503" in notices[0].notice
    assert "usually has one every 6.0 hours" in notices[2].notice


def test_a_source_whose_every_article_fails_is_announced_like_a_dead_listing(engine: Engine) -> None:
    with session_factory(engine).begin() as session:
        sync_sources(session, [SourceConfig(name="wire", feed=URLS["wire"])], NOW)
    reason = "HTTP 500 (40 of 51 failed pages)"
    assert _announce(engine, _health("articles failing", 1, reason)) == []
    assert _announce(engine, _health("articles failing", 2, reason)) == []
    assert _announce(engine, _health("articles failing", 3, reason)) == [("wire", "ok", "articles failing")]
    assert _announce(engine, _health("articles failing", 4, reason)) == []  # said already (and after a restart)
    assert _announce(engine, _health("ok")) == [("wire", "articles failing", "ok")]
    # A listing announced dead that comes back with every article failing has not recovered: no notice says
    # so; once that too has lasted as many crawls, it is announced as what it now is.
    for failures in (1, 2, 3):
        _announce(engine, _health("failing", failures, "HTTP 503"))
    assert _announce(engine, _health("articles failing", 1, reason)) == []
    assert _announce(engine, _health("articles failing", 3, reason)) == [("wire", "failing", "articles failing")]
    notices = [n.notice for n in _notices(engine)]
    assert [n.split("\n", 1)[0] for n in notices] == [
        "newsmon: source wire's articles are failing", "newsmon: source wire has recovered",
        "newsmon: source wire is failing", "newsmon: source wire's articles are failing",
    ]
    assert ("every article it lists failed in 3 crawls in a row; most common reason: HTTP 500 (40 of 51 failed "
            "pages)") in notices[0]
    assert "Last read fine: 2026-11-24 07:00 UTC" in notices[0]


def test_without_a_channel_changes_are_kept_but_nothing_is_queued(engine: Engine) -> None:
    with session_factory(engine).begin() as session:
        sync_sources(session, [SourceConfig(name="wire", feed=URLS["wire"])], NOW)
    assert _announce(engine, _health("silent"), channel=None) == [("wire", "ok", "silent")]
    assert _announce(engine, _health("silent"), channel="ops") == []  # remembered: a restart repeats nothing
    assert _notices(engine) == []


def test_a_notice_quoting_a_hostile_error_pings_nobody() -> None:
    message = render_notice("newsmon: source x is failing\n\nlast error: @everyone see [here](http://evil)\r\nBcc: a@b")
    assert "@everyone" not in message.body and "](" not in message.body
    assert "\r" not in message.body and message.title == "newsmon: source x is failing"
