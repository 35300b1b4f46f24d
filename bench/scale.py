"""Pages per second of the scale-out with 1, 2 and 4 workers beside the single-machine mode, on this machine.

Serves the 181 AEB pages of ``../shared/corpus/articles/aeb`` from four loopback outlets (127.0.0.1 to
127.0.0.4, a quarter of the pages and a feed each, so that no per-host limit caps the crawl) and, for each
mode in turn, crawls them into a fresh PostgreSQL database (migrated before the clock):

- ``single process``: ``newsmon crawl`` (the crawl of ``newsmon run --role all``: one Scrapy process and its
  extraction pool);
- ``N workers``: N ``newsmon run --role worker`` processes, started and idle first, then ``newsmon run --role
  scheduler`` queues the four sources in Redis.

Figures, read back from the database so that process start-up is outside the clock in every mode:
``pages/s`` is the stored stories over the seconds from the first crawl run's start to the last story
stored; the ratio is to the single-process mode. Also the load a page puts on the shared servers, for sizing:
Redis commands (``INFO commandstats``) and PostgreSQL transactions (``pg_stat_database.xact_commit``) per
stored page, measured over the whole crawl. Runs the modes one after another, in one run.

Needs PostgreSQL (``--postgres``, default ``$NEWSMON_TEST_POSTGRES_URL`` or postgres@127.0.0.1) and Redis
(``--redis``). Prints figures, never asserts them. Usage::

    python bench/scale.py [--workers 1 2 4] [--format table|json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import redis
from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_ENV, _postgres_database, write_config
from tests.servers import Outlet, aeb_pages, rss

HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")
TIMEOUT = 600.0


def fresh_database(base: str) -> AbstractContextManager[str]:
    """A fresh PostgreSQL database, dropped afterwards (the tests' own helper)."""
    os.environ[POSTGRES_ENV] = base
    return contextmanager(_postgres_database)()


def serve_corpus(stack: ExitStack) -> list[dict[str, str]]:
    """The AEB pages over four loopback outlets; returns one feed source per outlet."""
    outlets = [stack.enter_context(Outlet(host)) for host in HOSTS]
    items: list[list[dict[str, str]]] = [[] for _ in outlets]
    for number, (key, (html, _)) in enumerate(sorted(aeb_pages().items())):
        outlet = outlets[number % len(outlets)]
        items[number % len(outlets)].append({"title": key, "link": outlet.add(f"/aeb/{key}.html", html)})
    return [{"name": f"outlet-{number}", "feed": outlet.add("/feed.xml", rss(listed), content_type="application/rss+xml"),
             "every": "1h"} for number, (outlet, listed) in enumerate(zip(outlets, items, strict=True))]


def newsmon(config: Path, *args: str) -> subprocess.Popen[bytes]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("NEWSMON_")}
    return subprocess.Popen([sys.executable, "-m", "newsmon", "--config", str(config), *args], cwd=REPO,
                            env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def crawl_figures(database_url: str) -> dict[str, Any]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            stories, last = connection.execute(text("SELECT count(*), max(fetched_at) FROM stories")).one()
            first, runs, open_runs = connection.execute(text(
                "SELECT min(started_at), count(*), count(*) FILTER (WHERE finished_at IS NULL) FROM crawl_runs"
            )).one()
    finally:
        engine.dispose()
    seconds = (last - first).total_seconds() if stories and first else None
    return {"stories": stories, "runs": runs, "open_runs": open_runs, "seconds": seconds}


def commits(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
            )).scalar_one()
    finally:
        engine.dispose()


def redis_commands(client: redis.Redis) -> int:
    return sum(int(value["calls"]) for value in client.info("commandstats").values())


def run_mode(workers: int, sources: list[dict[str, str]], postgres: str, redis_url: str, folder: Path) -> dict[str, Any]:
    """One crawl of every source: by ``newsmon crawl`` (workers == 0) or a scheduler and ``workers`` workers."""
    client = redis.Redis.from_url(redis_url)
    prefix = f"newsmon-bench-{uuid.uuid4().hex[:8]}"
    with fresh_database(postgres) as database_url, ExitStack() as processes:
        config = write_config(folder / f"config-{workers}.yaml", database_url, sources,
                              redis={"url": redis_url, "prefix": prefix}, service={"deliver_every": "5s"})
        subprocess.run([sys.executable, "-m", "newsmon", "--config", str(config), "db", "upgrade"], cwd=REPO,
                       check=True, capture_output=True)
        commits_before, commands_before = commits(database_url), redis_commands(client)
        if workers == 0:
            crawl = newsmon(config, "crawl", "--no-deliver")
            crawl.wait(TIMEOUT)
        else:
            started = [newsmon(config, "run", "--role", "worker") for _ in range(workers)]
            for process in started:
                processes.callback(_stop, process)
            time.sleep(8)  # every worker up and idle, its imports and fork server outside the clock
            processes.callback(_stop, newsmon(config, "run", "--role", "scheduler"))
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline:
                figures = crawl_figures(database_url)
                if figures["runs"] >= len(sources) and figures["open_runs"] == 0:
                    break
                time.sleep(0.5)
        figures = crawl_figures(database_url)
        figures["pg_commits"] = commits(database_url) - commits_before
        figures["redis_commands"] = redis_commands(client) - commands_before
        processes.close()
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
    client.close()
    return figures


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--postgres", default=os.environ.get("NEWSMON_TEST_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--format", choices=["table", "json"], default="table")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, Any]] = {}
    with ExitStack() as stack, tempfile.TemporaryDirectory() as folder:
        sources = serve_corpus(stack)
        for workers in [0, *args.workers]:
            name = "single process" if workers == 0 else f"{workers} worker{'s' * (workers > 1)}"
            print(f"crawling with {name}...", file=sys.stderr)
            results[name] = run_mode(workers, sources, args.postgres, args.redis, Path(folder))
    base = results["single process"]
    for figures in results.values():
        figures["pages_per_second"] = figures["stories"] / figures["seconds"] if figures["seconds"] else 0.0
        figures["ratio"] = figures["pages_per_second"] / base["pages_per_second"] if base["pages_per_second"] else 0.0
        stories = max(figures["stories"], 1)
        figures["pg_commits_per_page"] = figures["pg_commits"] / stories
        figures["redis_commands_per_page"] = figures["redis_commands"] / stories
    if args.format == "json":
        print(json.dumps({"cores": len(os.sched_getaffinity(0)), "modes": results}, indent=2, default=str))
        return 0
    print(f"{'mode':<16} {'stories':>7} {'seconds':>8} {'pages/s':>8} {'ratio':>6} {'PG commits/page':>16} "
          f"{'Redis cmds/page':>16}")
    for name, f in results.items():
        print(f"{name:<16} {f['stories']:>7} {f['seconds'] or 0:>8.1f} {f['pages_per_second']:>8.2f} "
              f"{f['ratio']:>5.2f}x {f['pg_commits_per_page']:>16.1f} {f['redis_commands_per_page']:>16.1f}")
    print(f"({len(os.sched_getaffinity(0))} cores; seconds: first crawl run's start to the last story stored)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
