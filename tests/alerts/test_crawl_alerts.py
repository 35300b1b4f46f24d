"""Alerts through the real command: a crawl delivers before it exits, and a killed crawl loses and doubles nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from db.models import OutboxMessage, Story
from db.session import make_engine
from tests.conftest import REPO, Mailbox, run_newsmon, write_config
from tests.processes import wait_until
from tests.servers import Outlet, Webhook, article_page, filler, rss

PARAGRAPHS = [
    "Ukrainian and American negotiators met in Geneva on Sunday to refine the 20-point peace plan, officials "
    "from both delegations said after more than six hours of talks.",
    "The revised draft keeps the security guarantees that Kyiv insisted on, according to two people familiar "
    "with the discussions, while questions about territory remain open.",
]
RULES = [
    {"name": "peace-plan", "query": '"peace plan" OR ceasefire', "notify": ["chat"]},
    {"name": "odesa", "query": "title:Odesa", "notify": ["chat"]},
]


def _outlet_with_stories(outlet: Outlet, count: int) -> list[str]:
    links = []
    for index in range(count):
        title = f"Story {index}: talks continue in Geneva" if index % 2 else f"Story {index}: Odesa port reopens"
        url = outlet.add(f"/world/2026/11/24/story-{index}", article_page(title, [*PARAGRAPHS, filler(index)]))
        links.append(url)
    outlet.add("/feed.xml", rss([{"title": f"Story {i}", "link": url} for i, url in enumerate(links)]),
               content_type="application/rss+xml")
    return links


def _count(database_url: str, model: type) -> int:
    engine = make_engine(database_url)
    with Session(engine) as session:
        count = session.scalar(select(func.count()).select_from(model)) or 0
    engine.dispose()
    return count


def test_crawl_delivers_before_it_exits_and_never_twice(
    tmp_path: Path, database_url: str, outlet: Outlet, webhook: Webhook
) -> None:
    _outlet_with_stories(outlet, 3)
    config = write_config(tmp_path / "config.yaml", database_url, [{"name": "w", "feed": outlet.url("/feed.xml")}],
                          channels={"chat": webhook.url}, rules=RULES)
    first = run_newsmon("--config", str(config), "crawl", "--format", "json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["alerts"] == {
        "matched_stories": 3, "sent": 3, "retrying": 0, "failed": 0, "errors": []}
    assert len(webhook.received) == 3
    story_zero = next(m for m in webhook.received if "Story 0" in str(m["message"]))
    assert story_zero["title"].startswith("newsmon: peace-plan, odesa: Story 0")  # one message naming both rules
    again = run_newsmon("--config", str(config), "crawl")
    assert again.returncode == 0, again.stderr
    assert "alerts: 0 stories matched; 0 sent, 0 to retry, 0 failed" in again.stdout
    assert len(webhook.received) == 3


def test_a_crawl_killed_midway_loses_and_doubles_nothing(
    tmp_path: Path, database_url: str, engine: Engine, outlet: Outlet, webhook: Webhook
) -> None:
    """``engine`` migrates the database first, so the test can watch it while the crawl runs."""
    links = _outlet_with_stories(outlet, 4)
    hanging = "/world/2026/11/24/story-3"
    outlet.routes[hanging].delay = 60  # the crawl waits on this page while the others are stored
    config = write_config(tmp_path / "config.yaml", database_url, [{"name": "w", "feed": outlet.url("/feed.xml")}],
                          channels={"chat": webhook.url}, rules=RULES, crawl={"timeout": 120})
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    crawl = subprocess.Popen([sys.executable, "-m", "newsmon", "--config", str(config), "crawl"], cwd=REPO,
                             env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    try:
        wait_until(lambda: _count(database_url, Story) == 3, timeout=120, what="the first three stories stored")
    finally:
        os.killpg(crawl.pid, signal.SIGKILL)  # the crawl and its extraction workers, with no chance to clean up
        crawl.wait(10)
    assert webhook.received == []  # killed before its delivery
    assert _count(database_url, Story) == 3
    assert _count(database_url, OutboxMessage) == 0  # stored, not matched yet: matching is the step after

    outlet.routes[hanging].delay = 0
    restart = run_newsmon("--config", str(config), "crawl", "--format", "json")
    assert restart.returncode == 0, restart.stderr
    assert len(webhook.received) == 4
    delivered = sorted(str(m["message"]).split("\n")[3] for m in webhook.received)
    assert delivered == sorted(links)  # each story's URL exactly once
    assert run_newsmon("--config", str(config), "crawl").returncode == 0
    assert len(webhook.received) == 4


def test_an_unreachable_smtp_server_keeps_the_alert_and_never_shows_the_password(
    tmp_path: Path, outlet: Outlet, mailbox: Mailbox
) -> None:
    _outlet_with_stories(outlet, 1)
    secret = "s3cret-Passw0rd"
    closed_port = mailbox.url().replace(f":{mailbox.port}", ":9")
    url = closed_port.replace("mailto://", f"mailto://newsmon:{secret}@")
    database_url = f"sqlite:///{tmp_path / 'n.db'}"
    rules = [{"name": "peace-plan", "query": '"peace plan"', "notify": ["email"]}]
    config = write_config(tmp_path / "config.yaml", database_url, [{"name": "w", "feed": outlet.url("/feed.xml")}],
                          channels={"email": url}, rules=rules)
    crawl = run_newsmon("--config", str(config), "crawl")
    assert crawl.returncode == 0, crawl.stderr
    assert "alerts: 1 stories matched; 0 sent, 1 to retry, 0 failed" in crawl.stdout
    outputs = [crawl, run_newsmon("--config", str(config), "check"),
               run_newsmon("--config", str(config), "alerts", "log"),
               run_newsmon("-vv", "--config", str(config), "alerts", "deliver")]
    for output in outputs:
        assert secret not in output.stdout + output.stderr
    assert "pending" in outputs[2].stdout
