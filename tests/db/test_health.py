"""Source health from real crawl runs and stories, on both databases; and `newsmon sources` after real crawls."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from db.health import source_health
from db.records import SourceTally
from db.session import session_factory
from db.sources import record_crawl_run, sync_sources
from db.storage import store_article
from newsmon.config import SourceConfig
from tests.conftest import run_newsmon, write_config
from tests.factories import make_article
from tests.servers import Outlet, article_page, rss

START = datetime(2026, 11, 1, tzinfo=UTC)
SOURCES = [SourceConfig(name=name, feed=f"https://{name}.example/rss") for name in ("steady", "quiet", "down")]
TALKS = ["Negotiators met again in Geneva on Sunday to go through the revised draft line by line."] * 3


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


def _all_failed(session, source_id: int, at: datetime, reasons: list[str]) -> None:  # noqa: ANN001
    """A crawl that read the listing but whose every article failed, with these reasons."""
    tally = SourceTally(name="x", started_at=at, finished_at=at + timedelta(minutes=1), links=len(reasons),
                        failed=len(reasons), problems=[(f"https://x.example/{n}", r) for n, r in enumerate(reasons)])
    record_crawl_run(session, source_id, tally)


def test_a_listing_read_whose_every_article_failed_is_articles_failing(engine: Engine) -> None:
    names = ("broken", "stale", "mixed", "unchanged", "relisted")
    sessions = session_factory(engine)
    now = START + timedelta(days=20)
    with sessions.begin() as session:
        ids = sync_sources(session, [SourceConfig(name=n, feed=f"https://{n}.example/rss") for n in names], START)
        for day in range(18):  # news daily for 18 days
            for name in names:
                _run(session, ids[name], START + timedelta(days=day), new=1)
        for index, name in enumerate(names):  # "broken" stored nothing since day 10: silent, were it read fine
            url = f"https://{name}.example/story"
            store_article(session, make_article(url=url, urls=(url,), text=f"story {index}"), ids[name],
                          START + timedelta(days=10 if name == "broken" else 17))
        reasons = ["HTTP 500"] * 40 + ["HTTP 404"] * 11
        _all_failed(session, ids["broken"], now - timedelta(hours=2), reasons)
        _all_failed(session, ids["broken"], now - timedelta(hours=1), reasons)
        # Every article already stored: nothing failed, nothing new, and that is fine.
        record_crawl_run(session, ids["stale"], SourceTally("x", now, now, links=51, known=51))
        # One article of 51 read: the source works, it only has problems.
        record_crawl_run(session, ids["mixed"], SourceTally("x", now, now, links=51, new=1, failed=50,
                                                            problems=[("https://x.example/1", "HTTP 500")] * 50))
        # A 304 after the failures (a server that answers 304 without being asked) says nothing failed.
        _all_failed(session, ids["unchanged"], now - timedelta(hours=1), ["HTTP 500"])
        record_crawl_run(session, ids["unchanged"], SourceTally("x", now, now, not_modified=True))
        # The listing failed after the articles did: the listing's failure is what counts now.
        _all_failed(session, ids["relisted"], now - timedelta(hours=1), ["HTTP 500"])
        _run(session, ids["relisted"], now, error="HTTP 503")
    with sessions() as session:
        health = {h.name: h for h in source_health(session, list(names), now)}
    broken = health["broken"]
    assert (broken.status, broken.consecutive_failures) == ("articles failing", 2)
    assert broken.last_error == "HTTP 500 (40 of 51 failed pages)"  # the most common reason of the latest crawl
    assert broken.last_success == START + timedelta(days=17, minutes=1)  # the last crawl that read anything
    assert {name: health[name].status for name in ("stale", "mixed", "unchanged")} == dict.fromkeys(
        ("stale", "mixed", "unchanged"), "ok")
    assert health["mixed"].last_error is None
    relisted = health["relisted"]
    assert (relisted.status, relisted.consecutive_failures, relisted.last_error) == ("failing", 1, "HTTP 503")
    assert relisted.last_success == START + timedelta(days=17, minutes=1)


def test_sources_command_follows_a_source_that_dies_and_recovers(tmp_path: Path, outlet: Outlet) -> None:
    page = outlet.add("/world/1.html", article_page("Talks resume", TALKS))
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


def test_sources_command_shows_a_source_whose_every_article_fails(tmp_path: Path, outlet: Outlet) -> None:
    pages = [outlet.url(f"/world/{n}.html") for n in range(3)]
    for path in ("/world/0.html", "/world/1.html"):  # the third has no route: 404
        outlet.add(path, b"internal error", status=500, content_type="text/plain")
    items = [{"title": f"Story {n}", "link": url} for n, url in enumerate(pages)]
    outlet.add("/rss.xml", rss(items), content_type="application/rss+xml")
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'n.db'}", [{"name": "wire",
                                                                                       "feed": outlet.url("/rss.xml")}])

    def sources(fmt: str) -> str:
        result = run_newsmon("--config", str(config), "sources", "--format", fmt)
        assert result.returncode == 0, result.stderr
        return result.stdout

    for crawl in (1, 2):
        crawled = run_newsmon("--config", str(config), "crawl", "--format", "json")
        assert crawled.returncode == 0, crawled.stderr
        run = json.loads(crawled.stdout)["sources"][0]
        assert (run["status"], run["links"], run["new"], run["failed"]) == ("partial", 3, 0, 3)  # the listing is read
        health = json.loads(sources("json"))[0]
        assert (health["status"], health["failures_in_a_row"]) == ("articles failing", crawl)
        assert health["last_error"] == "HTTP 500 (2 of 3 failed pages)"
    assert "articles failing" in sources("table") and "HTTP 500 (2 of 3 failed pages)" in sources("table")
    assert ",articles failing,2," in sources("csv")
    for path in ("/world/0.html", "/world/1.html", "/world/2.html"):
        outlet.add(path, article_page("Talks resume", TALKS))
    run_newsmon("--config", str(config), "crawl")
    assert json.loads(sources("json"))[0]["status"] == "ok"
