"""Extraction in worker processes gives what inline extraction gives, and survives a killed worker."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from crawler.extract import Link, extract_article
from crawler.workers import ExtractionPool
from newsmon.errors import ExtractionError
from tests.servers import article_page

URL = "https://news.example.org/world/talks-resume-in-geneva"
HTML = article_page("Talks resume in Geneva", [
    "Negotiators returned to Geneva on Sunday to refine the peace plan, officials from both delegations said.",
    "The draft keeps the security guarantees Kyiv asked for, according to two people familiar with the talks.",
    "A prisoner exchange is expected before the end of the month, the ombudsman said on Monday morning.",
])
LINK = Link(url=URL, source="s", title="Talks")


def test_workers_extract_exactly_what_inline_extraction_does() -> None:
    pool = ExtractionPool(2)
    try:
        article = asyncio.run(pool.extract(HTML, URL, (URL,), LINK, "en"))
        bare = Link(url=URL, source="s")
        with pytest.raises(ExtractionError, match="no article found"):
            asyncio.run(pool.extract("<html><body>  </body></html>", URL, (URL,), bare, None))
        short = asyncio.run(pool.extract("<html><body>short</body></html>", URL, (URL,), LINK, None))
    finally:
        pool.close()
    assert article == extract_article(HTML, URL, (URL,), LINK, "en")
    assert article.status == "article" and article.title == "Talks resume in Geneva"
    assert (short.status, short.text, short.title) == ("not_article", "", "Talks")


def test_a_killed_worker_fails_its_page_and_the_pool_recovers() -> None:
    pool = ExtractionPool(1)

    async def kill_during_extraction() -> None:
        task = asyncio.ensure_future(pool.extract(HTML * 200, URL, (URL,), LINK, None))
        await asyncio.sleep(0)
        executor = pool._pool()
        while not getattr(executor, "_processes", None):
            await asyncio.sleep(0.01)
        for pid in list(executor._processes):  # type: ignore[attr-defined]
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(ExtractionError, match="worker died"):
            await task

    try:
        asyncio.run(kill_during_extraction())
        article = asyncio.run(pool.extract(HTML, URL, (URL,), LINK, None))
    finally:
        pool.close()
    assert article.title == "Talks resume in Geneva"
