"""Source health from real crawl runs and stories, on both databases; and `newsmon sources` after real crawls."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from crawler.report import SourceTally
from db.health import source_health
from db.queries import record_crawl_run, store_article, sync_sources
from db.session import session_factory
from newsmon.config import SourceConfig
from tests.conftest import run_newsmon, write_config
from tests.factories import make_article
from tests.servers import Outlet, article_page, rss

START = datetime(2026, 11, 1, tzinfo=UTC)
SOURCES = [SourceConfig(name=name, feed=f"https://{name}.example/rss") for name in ("steady", "quiet", "down")]


def _run(session, source_id: int, at: datetime, new: int = 0, error: str | None = None) -> None:  # noqa: ANN001
    tally = SourceTally(name="x", started_at=at, finished_at=at + timedelta(minutes=1), new=new, error=error)
    record_crawl_run(session, source_id, tally)


def test_ok_silent_failing_and_never_crawled(engine: Engine) -> None:
    sessions = session_factory(engine)
    now = START + timedelta(days=20)
    with sessions.begin() as session:
        ids = sync_sources(session, SOURCES, START)
        for day in range(20):  # every source found news daily for 20 days, then "quiet" stopped on day 5
            at = START + timedelta(days=day)
            for name in ("steady", "down"):
                _run(session, ids[name], at, new=1)
            _run(session, ids["quiet"], at, new=1 if day < 5 else 0)
        for index, (name, last) in enumerate((("steady", 19), ("quiet", 4), ("down", 17))):
            url = f"https://{name}.example/story"
            store_article(session, make_article(url=url, urls=(url,), text=f"story {index}"), ids[name],
                          START + timedelta(days=last))
        _run(session, ids["down"], now - timedelta(hours=2), error="HTTP 503")
        _run(session, ids["down"], now - timedelta(hours=1), error="cannot resolve down.example")
    with sessions() as session:
        health = {h.name: h for h in source_health(session, ["steady", "quiet", "down", "new"], now)}
    assert health["steady"].status == "ok" and health["steady"].usual_gap == timedelta(days=1)
    assert health["quiet"].status == "silent"  # 16 days without news where a day was usual
    assert health["quiet"].last_new_story == START + timedelta(days=4)
    down = health["down"]
    assert (down.status, down.consecutive_failures, down.last_error) == ("failing", 2, "cannot resolve down.example")
    assert down.last_success == START + timedelta(days=19, minutes=1)
    assert health["new"].status == "never crawled"


def test_sources_command_follows_a_source_that_dies_and_recovers(tmp_path: Path, outlet: Outlet) -> None:
    page = outlet.add("/world/1.html", article_page("Talks resume", ["Negotiators met again in Geneva on Sunday "
                                                                      "to go through the revised draft line by line."] * 3))
    feed = outlet.add("/rss.xml", rss([{"title": "Talks resume", "link": page}]), content_type="application/rss+xml")
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'n.db'}", [{"name": "wire", "feed": feed}])

    def health() -> dict:
        result = run_newsmon("--config", str(config), "sources", "--format", "json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)[0]

    assert health()["status"] == "never crawled"
    run_newsmon("--config", str(config), "crawl")
    assert (health()["status"], health()["failures_in_a_row"]) == ("ok", 0)
    outlet.routes["/rss.xml"].status = 500
    for _ in range(2):
        run_newsmon("--config", str(config), "crawl")
    down = health()
    assert (down["status"], down["failures_in_a_row"]) == ("failing", 2)
    assert "500" in down["last_error"]
    outlet.routes["/rss.xml"].status = 200
    run_newsmon("--config", str(config), "crawl")
    assert health()["status"] == "ok"
    table = run_newsmon("--config", str(config), "sources")
    assert "wire" in table.stdout and "ok" in table.stdout
