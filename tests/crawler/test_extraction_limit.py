"""A pathological page's extraction is cut off by a hard time limit and recorded; the crawl goes on."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from bench.procs import descendants
from crawler.links import Link
from crawler.workers import ExtractionPool
from newsmon.errors import ExtractionError
from tests.conftest import run_newsmon, write_config
from tests.servers import Outlet, article_page, attribute_bomb, filler, rss

# 60,000 short paragraphs: about 7 s of trafilatura's pure-Python work on this machine, 3 MB of HTML.
PATHOLOGICAL = "<html><body>" + "".join(f"<p>para {i} with several words of text</p>" for i in range(60_000)) + "</body></html>"
NORMAL = article_page("Talks resume in Geneva", [
    "Negotiators returned to Geneva on Sunday to refine the peace plan, officials from both delegations said.",
    "The draft keeps the security guarantees Kyiv asked for, according to two people familiar with the talks.",
])
URL = "https://news.example.org/world/slow"
LINK = Link(url=URL, source="s", title="Slow")


# The alarm that cuts a page may land in a garbage-collector callback, where Python swallows it with an
# "Exception ignored" message and the repeated alarm cuts the page a moment later (crawler.workers): expected.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("workers", [0, 1], ids=["inline", "worker"])
def test_extraction_past_the_limit_fails_its_page_and_the_next_page_is_fine(workers: int) -> None:
    pool = ExtractionPool(workers, time_limit=1.0)
    try:
        # Uncut, the page is extracted (in 7 s or more); the error says the limit cut it.
        with pytest.raises(ExtractionError, match=r"extraction took longer than 1s; page skipped"):
            asyncio.run(pool.extract(PATHOLOGICAL, URL, (URL,), LINK, None))
        article = asyncio.run(pool.extract(NORMAL, URL, (URL,), LINK, None))
    finally:
        pool.close()
    assert article.title == "Talks resume in Geneva"


def test_a_crawl_records_the_slow_page_and_stores_the_others(tmp_path: Path, outlet: Outlet) -> None:
    slow = outlet.add("/world/slow-page", PATHOLOGICAL)
    fine = outlet.add("/world/fine-page", NORMAL)
    outlet.add("/feed.xml", rss([{"title": "Slow", "link": slow}, {"title": "Fine", "link": fine}]),
               content_type="application/rss+xml")
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'n.db'}",
                          [{"name": "wire", "feed": outlet.url("/feed.xml")}], crawl={"extraction_time_limit": 1})
    result = run_newsmon("--config", str(config), "crawl", "--format", "json")
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)["sources"][0]
    assert (row["status"], row["new"], row["failed"]) == ("partial", 1, 1)
    assert row["problems"] == [{"url": slow, "reason": "extraction took longer than 1s; page skipped"}]


def _hold_until_extraction_started() -> None:
    """Hold a page at the outlet until the crawl has an extraction worker: its fork server's child, three levels
    below this process. Only the stuck page can have started one, so the held page reaches the pool after it."""
    deadline = time.monotonic() + 120
    while not any(depth >= 3 for depth in descendants(os.getpid()).values()):
        assert time.monotonic() < deadline, "the crawl started no extraction worker"
        threading.Event().wait(0.05)  # /proc has nothing to wait on: a condition polled


def test_a_page_whose_worker_is_killed_fails_alone_and_the_pages_waiting_for_that_worker_are_stored(
    tmp_path: Path, outlet: Outlet
) -> None:
    titles = [f"Talks resume in Geneva, day {n}" for n in range(4)]
    innocent = [outlet.add(f"/world/day-{n}", article_page(title, [filler(title, 150)]),
                           on_request=_hold_until_extraction_started) for n, title in enumerate(titles)]
    stuck = outlet.add("/world/stuck", attribute_bomb())  # the alarm cannot reach it: its worker is killed
    outlet.add("/feed.xml", rss([{"title": "Stuck", "link": stuck}] + [
        {"title": title, "link": url} for title, url in zip(titles, innocent, strict=True)]),
               content_type="application/rss+xml")
    # One worker: the four pages reach the pool while the stuck page holds that worker, until it is killed.
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'n.db'}",
                          [{"name": "wire", "feed": outlet.url("/feed.xml")}],
                          crawl={"extraction_time_limit": 1, "extraction_workers": 1, "timeout": 120})
    result = run_newsmon("--config", str(config), "crawl", "--format", "json")
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)["sources"][0]
    assert row["problems"] == [{"url": stuck, "reason": "extraction took longer than 1s; page skipped"}]
    assert (row["status"], row["new"], row["failed"]) == ("partial", 4, 1)
    with closing(sqlite3.connect(tmp_path / "n.db")) as db:
        assert sorted(title for (title,) in db.execute("SELECT title FROM stories")) == titles
