"""Extraction in worker processes: trafilatura is CPU-bound, and the crawl's own process has a reactor to run.

Cleaning a page costs about 20 ms of pure Python, so in the crawl's process it would hold up every download
and store behind it and leave the machine's other cores idle. The pool runs ``extract_article`` in child
processes started by a fork server (a clean process that imported trafilatura once, so no thread or lock of
the crawl is copied into a worker), and the spider awaits the result.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import FrameType

from crawler.links import Link
from db.records import Article
from newsmon.errors import ExtractionError

logger = logging.getLogger(__name__)


def default_workers() -> int:
    """One worker per core the process may use; none (extract inline) on a single core."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return cores if cores > 1 else 0


def start_fork_server(workers: int | None) -> None:
    """Start the extraction workers' fork server now, when the crawl will use workers (``workers``: the
    config's ``crawl.extraction_workers``, None for one per core).

    The fork server spends a second or two importing trafilatura and warming its models
    (``crawler.extraction_preload``). Started before the crawl's own process imports Scrapy and SQLAlchemy
    and fetches its feeds, it does that on another core meanwhile, instead of while the first pages wait.
    Calling it again, or the pool's first page, finds the same server running.
    """
    if (default_workers() if workers is None else workers) <= 0:
        return
    from multiprocessing import forkserver

    _fork_context()
    forkserver.ensure_running()


def _fork_context() -> multiprocessing.context.ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    # "__main__": the fork server runs the main script once, so that each worker, forked from it, finds it
    # loaded (multiprocessing otherwise runs it again in every worker).
    context.set_forkserver_preload(["crawler.forkserver_guard", "__main__", "crawler.extraction_preload"])
    return context


# Past the time limit, a worker stuck where the alarm cannot reach it (inside one long C call) is killed.
KILL_MARGIN = 10.0
ALARM_REPEAT = 0.25


class _Expired(BaseException):
    """Raised by the alarm: a BaseException, so no ``except Exception`` on the way swallows it."""


def _expired(_signum: int, frame: FrameType | None) -> None:
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            return  # an exception raised in a finaliser is only printed; the repeated alarm comes back after it
        frame = frame.f_back
    raise _Expired


def extract_within(
    limit: float, html: str, url: str, urls: tuple[str, ...], link: Link, language_hint: str | None
) -> Article:
    """``extract_article`` cut off after ``limit`` seconds (a pathological page must not hold up a crawl).

    The alarm interrupts Python code, which is where trafilatura spends its time on a hostile page (100,000
    paragraphs take it 11 s). Runs in a worker's main thread, or inline in the crawl's main thread.
    """
    # Imported here: the crawl's own process hands pages to workers and never loads the extraction itself.
    from crawler.extract import extract_article

    if multiprocessing.parent_process() is not None:
        die_with_parent()  # a pool worker: it leaves with the fork server, which leaves with the crawl
    if limit <= 0:
        return extract_article(html, url, urls, link, language_hint)
    previous = signal.signal(signal.SIGALRM, _expired)
    # Repeated every ALARM_REPEAT after the limit: an alarm that lands in a __del__ run by the garbage
    # collector would be swallowed there ("Exception ignored in ..."), so it waits for the next one.
    signal.setitimer(signal.ITIMER_REAL, limit, ALARM_REPEAT)
    try:
        return extract_article(html, url, urls, link, language_hint)
    except _Expired:
        raise ExtractionError(f"extraction took longer than {limit:g}s; page skipped") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux; elsewhere nothing happens).

    A crawl process killed outright (SIGKILL, the OOM killer) cannot shut its pool down: the fork server (its
    child) and the workers (the fork server's children, holding the task queue's pipe open themselves) would
    wait for work for ever. Set in the fork server when it starts (crawler.forkserver_guard) and in each worker
    at its first page, so that the whole pool leaves with the crawl process. Threads or an initializer per
    worker would cost memory in every worker; this costs nothing.
    """
    global _GUARDED
    # Per process: a fork clears the kernel's setting but copies this flag (the workers are forked from the
    # fork server, which set it for itself).
    if _GUARDED == os.getpid() or not sys.platform.startswith("linux"):
        return
    _GUARDED = os.getpid()
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the call took effect
        os._exit(0)


_PR_SET_PDEATHSIG = 1
_GUARDED = 0  # the pid that set it


class ExtractionPool:
    """Runs ``extract_article`` in ``workers`` processes (inline when 0), one page per process at a time.

    Each page gets at most ``time_limit`` seconds (0: no limit). Each worker is a process pool of its own (a
    lane), handed a page only when it is idle: a page that kills its worker (the OS's memory killer, a crash in
    lxml), or that overruns its time limit where the alarm cannot reach it and has its worker killed, takes down
    that worker alone. The pages in the other workers go on, and a page waiting for a worker was never handed
    to the dead one. (A shared pool of N workers is broken as a whole by one death: every page in it failed.)
    A page whose worker died is tried once more in a fresh worker, in case something else killed it.
    """

    def __init__(self, workers: int, time_limit: float = 0.0) -> None:
        self.workers = workers
        self.time_limit = time_limit
        self._lanes = [_Lane() for _ in range(max(workers, 0))]
        if workers <= 0:
            # Inline, this process loads what the fork server preloads for its workers, now: the first page's
            # time limit must not be spent loading the models every page uses.
            import crawler.extraction_preload  # noqa: F401
        self._idle: asyncio.Queue[_Lane] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def extract(
        self, html: str, url: str, urls: tuple[str, ...], link: Link, language_hint: str | None
    ) -> Article:
        """Extract one page; raises ExtractionError as ``extract_article`` does, or when the page overran its time
        limit in its worker, or its worker died on it twice."""
        if self.workers <= 0:
            return extract_within(self.time_limit, html, url, urls, link, language_hint)
        deaths = 0
        while True:
            idle = self._idle_lanes()
            lane = await idle.get()
            try:
                return await lane.extract(self.time_limit, html, url, urls, link, language_hint)
            except _WorkerDied as exc:
                deaths += 1
                if deaths == MAX_DEATHS:
                    raise ExtractionError(f"extraction worker died on this page ({deaths} times)") from exc
                logger.warning("an extraction worker died on %s; trying the page again in a fresh one", url)
            finally:
                idle.put_nowait(lane)

    def _idle_lanes(self) -> asyncio.Queue[_Lane]:
        """The lanes free for a page. A queue belongs to one event loop: a crawl has one, a test may run several
        in turn, each after the last one's pages are done."""
        loop = asyncio.get_running_loop()
        if self._idle is None or self._loop is not loop:
            self._idle, self._loop = asyncio.Queue(), loop
            for lane in self._lanes:
                self._idle.put_nowait(lane)
        return self._idle

    def close(self) -> None:
        for lane in self._lanes:
            lane.close()


# A page is tried in this many fresh workers before its worker's death is blamed on it.
MAX_DEATHS = 2


class _WorkerDied(Exception):
    """The page's worker process died under it (see ExtractionPool)."""


class _Lane:
    """One worker process that extracts one page at a time, started on first use and again after it died."""

    def __init__(self) -> None:
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(max_workers=1, mp_context=_fork_context())
        return self._executor

    async def extract(
        self, limit: float, html: str, url: str, urls: tuple[str, ...], link: Link, language_hint: str | None
    ) -> Article:
        try:
            future = self._pool().submit(extract_within, limit, html, url, urls, link, language_hint)
        except BrokenProcessPool:  # the worker died between pages (the OS's memory killer, say): not this page
            self.close()
            future = self._pool().submit(extract_within, limit, html, url, urls, link, language_hint)
        # The lane was idle, so the page starts now: the guard counts its own time, not a queue's.
        guard = limit + KILL_MARGIN if limit > 0 else None
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), guard)
        except TimeoutError:
            logger.warning("an extraction worker is stuck on %s; killing it", url)
            self._kill()
            raise ExtractionError(f"extraction took longer than {limit:g}s; page skipped") from None
        except BrokenProcessPool as exc:
            self.close()
            raise _WorkerDied(url) from exc
        except asyncio.CancelledError:
            self.close()  # the page may still be running in the worker: the next page gets a fresh one
            raise

    def _kill(self) -> None:
        """Kill the worker (stuck in one long C call) and start afresh with the next page."""
        # ProcessPoolExecutor has no public way to stop a running task before Python 3.14's kill_workers().
        for process in list(getattr(self._executor, "_processes", {}).values()):
            process.kill()
        self.close()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
