"""`newsmon alerts test RULE`: what a rule would have sent from the archive, sending and writing nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from db.models import OutboxMessage, RuleMatch, Story
from db.session import session_factory
from db.sources import sync_sources
from db.storage import store_article
from newsmon.cli import cli
from newsmon.config import SourceConfig
from tests.conftest import write_config
from tests.factories import make_article
from tests.servers import Webhook

GENEVA = (
    "Delegations met in Geneva on Sunday. After hours of talks the negotiators agreed on a revised "
    "20-point peace plan, which keeps the security guarantees Kyiv asked for."
)
RULES = [
    {"name": "peace-plan", "query": '"peace plan" OR ceasefire', "notify": ["chat"]},
    {"name": "odesa", "query": "Odesa"},
]


def _archive(engine: Engine) -> None:
    """Three stories stored without any rule: one recent match, one old match, one that does not match."""
    now = datetime.now(UTC)
    stories = [
        ("https://wire.example/recent", "Geneva round ends", GENEVA, now - timedelta(days=2)),
        ("https://wire.example/old", "Summer ceasefire talks", "A ceasefire was discussed in July.", now - timedelta(days=90)),
        ("https://wire.example/other", "Grain exports", "Ships left Odesa with grain.", now - timedelta(days=1)),
    ]
    with session_factory(engine).begin() as session:
        source_id = sync_sources(session, [SourceConfig(name="wire", feed="https://wire.example/rss")], now)["wire"]
        for url, title, text, fetched in stories:
            store_article(session, make_article(url=url, urls=(url,), title=title, text=text, published_at=fetched), source_id, fetched)


def test_backtest_lists_what_the_rule_would_send_and_sends_nothing(
    tmp_path: Path, database_url: str, engine: Engine, webhook: Webhook
) -> None:
    _archive(engine)
    config = write_config(tmp_path / "config.yaml", database_url, [], channels={"chat": webhook.url}, rules=RULES)
    runner = CliRunner()

    result = runner.invoke(cli, ["--config", str(config), "alerts", "test", "peace-plan", "--format", "json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [r["title"] for r in records] == ["Geneva round ends"]  # the July story is older than 30 days
    assert "20-point peace plan" in records[0]["snippet"] and records[0]["channels"] == ["chat"]

    longer = runner.invoke(cli, ["--config", str(config), "alerts", "test", "peace-plan", "--since", "365d", "--format", "json"])
    assert [r["title"] for r in json.loads(longer.stdout)] == ["Geneva round ends", "Summer ceasefire talks"]

    table = runner.invoke(cli, ["--config", str(config), "alerts", "test", "odesa"])
    assert table.exit_code == 0, table.output
    assert "odesa: 1 story matched since" in table.stderr and "1 would have alerted no channel" in table.stderr
    assert "Grain exports" in table.stdout
    assert webhook.url not in table.output

    assert webhook.received == []
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert session.scalar(select(func.count()).select_from(RuleMatch)) == 0
        assert session.scalar(select(func.count()).select_from(Story).where(Story.matched_at.is_not(None))) == 0


def test_backtest_of_an_unknown_rule_names_the_known_ones(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'n.db'}", [],
                          channels={"chat": "json://127.0.0.1:9/hook"}, rules=RULES)
    result = CliRunner().invoke(cli, ["--config", str(config), "alerts", "test", "peace"])
    assert result.exit_code != 0
    assert "no rule named 'peace' (known: peace-plan, odesa)" in str(result.exception)


def test_backtest_of_a_rule_with_double_negation_finds_what_the_rule_means(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    _archive(engine)
    rules = [{"name": "plan", "query": "NOT (NOT peace OR NOT plan)"}, {"name": "odesa", "query": "NOT NOT Odesa"}]
    config = write_config(tmp_path / "config.yaml", database_url, [], rules=rules)
    runner = CliRunner()
    for rule, titles in [("plan", ["Geneva round ends"]), ("odesa", ["Grain exports"])]:
        result = runner.invoke(cli, ["--config", str(config), "alerts", "test", rule, "--format", "json"])
        assert result.exit_code == 0, result.output
        assert [r["title"] for r in json.loads(result.stdout)] == titles
