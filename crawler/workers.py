"""Extraction in worker processes: trafilatura is CPU-bound, and the crawl's own process has a reactor to run.

Cleaning a page costs about 20 ms of pure Python, so in the crawl's process it would hold up every download
and store behind it and leave the machine's other cores idle. The pool runs ``extract_article`` in child
processes started by a fork server (a clean process that imported trafilatura once, so no thread or lock of
the crawl is copied into a worker), and the spider awaits the result.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from crawler.extract import Article, Link, extract_article
from newsmon.errors import ExtractionError

logger = logging.getLogger(__name__)


def default_workers() -> int:
    """One worker per core the process may use; none (extract inline) on a single core."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return cores if cores > 1 else 0


class ExtractionPool:
    """Runs ``extract_article`` in ``workers`` processes (inline when 0) and survives a crashed worker."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor: Executor | None = None

    def _pool(self) -> Executor:
        if self._executor is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["crawler.extract"])
            self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self._executor

    async def extract(
        self, html: str, url: str, urls: tuple[str, ...], link: Link, language_hint: str | None
    ) -> Article:
        """Extract one page; raises ExtractionError as ``extract_article`` does, or when its worker died."""
        if self.workers <= 0:
            return extract_article(html, url, urls, link, language_hint)
        future = self._pool().submit(extract_article, html, url, urls, link, language_hint)
        try:
            return await asyncio.wrap_future(future)
        except BrokenProcessPool as exc:
            # A worker killed by the OS (memory, a crash in lxml) takes the pool with it: start a fresh one.
            logger.warning("an extraction worker died on %s; restarting the pool", url)
            self.close()
            raise ExtractionError("extraction worker died on this page") from exc

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
