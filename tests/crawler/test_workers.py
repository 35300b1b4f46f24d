"""Extraction in worker processes gives what inline extraction gives, and survives a killed worker."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from crawler.extract import extract_article
from crawler.links import Link
from crawler.workers import ExtractionPool
from newsmon.errors import ExtractionError
from tests.servers import article_page, attribute_bomb

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


def _worker(pool: ExtractionPool, other_than: int = 0) -> int:
    """The pid of the one-worker pool's worker (once it has one, and another than ``other_than``)."""
    processes = getattr(pool._lanes[0]._executor, "_processes", None) or {}
    return next((pid for pid in processes if pid != other_than), 0)


async def _new_worker(pool: ExtractionPool, task: asyncio.Future[object], other_than: int = 0) -> int:
    """The worker ``task``'s page is given to next (a new one after ``other_than``'s death)."""
    while not (pid := _worker(pool, other_than)):
        assert not task.done(), f"the page was not tried again: {task.exception()}"
        await asyncio.sleep(0.01)  # a process pool has no event for a worker started
    return pid


def test_a_worker_killed_between_pages_costs_no_page() -> None:
    pool = ExtractionPool(1)
    try:
        asyncio.run(pool.extract(HTML, URL, (URL,), LINK, None))
        os.kill(_worker(pool), signal.SIGKILL)  # the OS's memory killer, say, while it waited for work
        article = asyncio.run(pool.extract(HTML, URL, (URL,), LINK, None))
    finally:
        pool.close()
    assert article.title == "Talks resume in Geneva"


def test_a_page_whose_worker_dies_is_tried_once_more_then_fails_alone_and_the_pool_goes_on() -> None:
    pool = ExtractionPool(1)  # no time limit: the page holds its worker until it is killed

    async def kill_its_worker_each_time() -> None:
        task = asyncio.ensure_future(pool.extract(attribute_bomb(), URL, (URL,), LINK, None))
        first = await _new_worker(pool, task)
        os.kill(first, signal.SIGKILL)
        os.kill(await _new_worker(pool, task, other_than=first), signal.SIGKILL)  # tried again in a fresh one
        with pytest.raises(ExtractionError, match=r"^extraction worker died on this page \(2 times\)$"):
            await task

    try:
        asyncio.run(kill_its_worker_each_time())
        article = asyncio.run(pool.extract(HTML, URL, (URL,), LINK, None))
    finally:
        pool.close()
    assert article.title == "Talks resume in Geneva"


# Starts the fork server as `newsmon crawl` does before importing Scrapy, then reports the processes below it and
# whether a worker, forked from that server, finds the extraction modules loaded at its start.
EARLY = """
import json, os, sys
from concurrent.futures import ProcessPoolExecutor
from bench.procs import descendants
from crawler.workers import _fork_context, start_fork_server


def preloaded():
    return "trafilatura" in sys.modules and "crawler.extraction_preload" in sys.modules


if __name__ == "__main__":
    start_fork_server(int(sys.argv[1]))
    running, loaded = bool(descendants(os.getpid())), None  # the fork server (and its resource tracker)
    if running:
        with ProcessPoolExecutor(1, mp_context=_fork_context()) as pool:
            loaded = pool.submit(preloaded).result(timeout=120)
    print(json.dumps({"running": running, "preloaded": loaded}))
"""


@pytest.mark.parametrize("workers, expected", [(1, {"running": True, "preloaded": True}),
                                               (0, {"running": False, "preloaded": None})])
def test_the_fork_server_starts_before_the_first_page_only_when_workers_extract(
    workers: int, expected: dict[str, object], tmp_path: Path
) -> None:
    import json
    import subprocess
    import sys

    from tests.conftest import REPO

    script = tmp_path / "early.py"  # a main script, as the console script is: the fork server preloads it
    script.write_text(EARLY, encoding="utf-8")
    result = subprocess.run([sys.executable, str(script), str(workers)], capture_output=True, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected
