"""A pathological page's extraction is cut off by a hard time limit and recorded; the crawl goes on."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from crawler.extract import Link
from crawler.workers import ExtractionPool
from newsmon.errors import ExtractionError
from tests.conftest import run_newsmon, write_config
from tests.servers import Outlet, article_page, rss

# 60,000 short paragraphs: about 7 s of trafilatura's pure-Python work on this machine, 3 MB of HTML.
PATHOLOGICAL = "<html><body>" + "".join(f"<p>para {i} with several words of text</p>" for i in range(60_000)) + "</body></html>"
NORMAL = article_page("Talks resume in Geneva", [
    "Negotiators returned to Geneva on Sunday to refine the peace plan, officials from both delegations said.",
    "The draft keeps the security guarantees Kyiv asked for, according to two people familiar with the talks.",
])
URL = "https://news.example.org/world/slow"
LINK = Link(url=URL, source="s", title="Slow")


@pytest.mark.parametrize("workers", [0, 1], ids=["inline", "worker"])
def test_extraction_past_the_limit_fails_its_page_and_the_next_page_is_fine(workers: int) -> None:
    pool = ExtractionPool(workers, time_limit=1.0)
    try:
        started = time.monotonic()
        with pytest.raises(ExtractionError, match=r"extraction took longer than 1s; page skipped"):
            asyncio.run(pool.extract(PATHOLOGICAL, URL, (URL,), LINK, None))
        assert time.monotonic() - started < 6  # uncut, the page takes 7 s or more
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
