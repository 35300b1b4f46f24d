"""A SQLite archive whose write lock another process holds: every command that writes says so in one line and
exits 1, and nothing is lost: once the lock is released, the next crawl stores everything.

The lock is a real one, taken by another connection (``BEGIN IMMEDIATE``) and held while the real command runs;
``?timeout=1`` in the URL has SQLite wait one second for it instead of 30.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from db.session import open_database, session_factory
from db.sources import sync_sources
from db.storage import store_article
from newsmon.config import SourceConfig
from tests.conftest import run_newsmon, write_config
from tests.factories import make_article
from tests.servers import Outlet, article_page, filler, rss

TITLES = ["Talks resume in Geneva", "Prisoners exchanged at dawn", "Grain corridor reopens"]


@contextmanager
def write_lock(path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's write transaction on the database at ``path``, held until the block ends."""
    with closing(sqlite3.connect(path, isolation_level=None, check_same_thread=False)) as holder:
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield holder
        finally:
            holder.execute("ROLLBACK")


def _feed(outlet: Outlet) -> str:
    links = [outlet.add(f"/world/{n}", article_page(title, [filler(title, 120)])) for n, title in enumerate(TITLES)]
    return outlet.add("/feed.xml", rss([{"title": t, "link": link} for t, link in zip(TITLES, links, strict=True)]),
                      content_type="application/rss+xml")


def _stored_titles(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as db:
        return sorted(title for (title,) in db.execute("SELECT title FROM stories"))


def assert_one_line_about_the_lock(result: CompletedProcess[str]) -> None:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "another process holds the database's write lock" in lines[0]
    for leak in ("Traceback", "SQL", "INSERT", "UPDATE", "parameters", "sqlalche.me"):
        assert leak not in result.stderr + result.stdout


@pytest.fixture
def archive(tmp_path: Path) -> tuple[Path, str]:
    """A migrated SQLite archive that waits one second for a lock."""
    path = tmp_path / "n.db"
    url = f"sqlite:///{path}?timeout=1"
    open_database(url).dispose()
    return path, url


def test_a_crawl_that_cannot_write_fails_in_one_line_fetching_nothing_and_the_next_stores_everything(
    tmp_path: Path, outlet: Outlet, archive: tuple[Path, str]
) -> None:
    path, url = archive
    config = write_config(tmp_path / "config.yaml", url, [{"name": "wire", "feed": _feed(outlet)}])
    with write_lock(path):
        locked = run_newsmon("--config", str(config), "crawl")
    assert_one_line_about_the_lock(locked)
    assert sum(outlet.hits.values()) == 0  # it stopped before fetching what it could not have stored
    result = run_newsmon("--config", str(config), "crawl")
    assert result.returncode == 0, result.stderr
    assert _stored_titles(path) == sorted(TITLES)


def test_a_lock_taken_during_the_crawl_fails_it_in_one_line_and_the_next_crawl_stores_everything(
    tmp_path: Path, outlet: Outlet, archive: tuple[Path, str]
) -> None:
    path, url = archive
    feed = _feed(outlet)
    config = write_config(tmp_path / "config.yaml", url, [{"name": "wire", "feed": feed}])
    with closing(sqlite3.connect(path, isolation_level=None, check_same_thread=False)) as holder:
        # Taken when the feed is served: the crawl has started, its pages cannot be stored, nor its run recorded.
        outlet.routes["/feed.xml"].on_request = lambda: holder.execute("BEGIN IMMEDIATE")
        locked = run_newsmon("--config", str(config), "crawl")
        holder.execute("ROLLBACK")
    assert_one_line_about_the_lock(locked)
    assert outlet.hits["/feed.xml"] == 1 and _stored_titles(path) == []
    outlet.routes["/feed.xml"].on_request = None
    result = run_newsmon("--config", str(config), "crawl")
    assert result.returncode == 0, result.stderr
    assert _stored_titles(path) == sorted(TITLES)


def test_alerts_deliver_and_db_upgrade_say_so_in_one_line(tmp_path: Path, archive: tuple[Path, str]) -> None:
    path, url = archive
    engine = open_database(url)
    sessions = session_factory(engine)
    with sessions.begin() as session:  # a story stored by a crawl that stopped before matching it
        (source_id,) = sync_sources(session, [SourceConfig(name="wire", feed="https://news.example.org/feed")],
                                    make_article().published_at).values()
        store_article(session, make_article(source="wire"), source_id, make_article().published_at)
    engine.dispose()
    config = write_config(tmp_path / "config.yaml", url, [{"name": "wire", "feed": "https://news.example.org/feed"}])
    fresh = tmp_path / "fresh.db"  # not migrated yet: `db upgrade` has to write
    fresh_config = write_config(tmp_path / "fresh.yaml", f"sqlite:///{fresh}?timeout=1", [])
    with closing(sqlite3.connect(fresh)) as db:
        db.execute("CREATE TABLE placeholder (id INTEGER)")
    with write_lock(path):
        assert_one_line_about_the_lock(run_newsmon("--config", str(config), "alerts", "deliver"))
    with write_lock(fresh):
        assert_one_line_about_the_lock(run_newsmon("--config", str(fresh_config), "db", "upgrade"))
    assert run_newsmon("--config", str(config), "alerts", "deliver").returncode == 0
    assert run_newsmon("--config", str(fresh_config), "db", "upgrade").returncode == 0
