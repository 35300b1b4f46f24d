"""Scale-out for real: one `newsmon run --role scheduler` and several `--role worker`s in child processes,
sharing the machine's Redis and a fresh PostgreSQL database, crawling loopback outlets and alerting a webhook.
Skips, saying why, without PostgreSQL (NEWSMON_TEST_POSTGRES_URL) or Redis (127.0.0.1:6379)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
import redis
import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crawler.sharedqueue import job, sources_key
from db.models import CrawlRun, Source, Story, StoryUrl
from db.runs import give_up, open_run
from db.session import make_engine
from db.sources import sync_sources
from newsmon.config import SourceConfig
from tests.conftest import REPO, run_newsmon, write_config
from tests.processes import wait_until
from tests.servers import Outlet, Webhook, article_page, filler, rss

REDIS_URL = os.environ.get("NEWSMON_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WORDS = ("Negotiators met in Geneva on Sunday to discuss a ceasefire, the exchange of prisoners and the "
         "security guarantees that Kyiv asked for; officials from both delegations spoke after six hours of talks.")

pytestmark = pytest.mark.postgres


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own in the machine's Redis, deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {REDIS_URL} is not reachable ({exc}): scale-out tests skipped (.ci/run starts it)")
    prefix = f"newsmon-test-{uuid.uuid4().hex[:10]}"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def _publish(outlet: Outlet, prefix: str, count: int, delay: float = 0.0, etag: str | None = None) -> list[str]:
    urls, items = [], []
    for number in range(count):
        title = f"Ceasefire talks, {prefix} report {number}"
        url = outlet.add(f"/{prefix}/{number}.html",
                         article_page(title, [f"{prefix} {number}. {WORDS}", filler(f"{prefix}{number}")]), delay=delay)
        items.append({"title": title, "link": url})
        urls.append(url)
    outlet.add(f"/{prefix}/feed.xml", rss(items), content_type="application/rss+xml", etag=etag)
    return urls


@contextmanager
def _newsmon(config: Path, *args: str) -> Iterator[subprocess.Popen[str]]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "newsmon", "--config", str(config), "run", *args],
        cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate(timeout=30)


def _count(database_url: str, *what: object) -> int:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return session.scalar(select(func.count()).select_from(*what)) or 0
    except SQLAlchemyError:
        return 0
    finally:
        engine.dispose()


def _runs(database_url: str) -> list[tuple[str, str | None]]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return [(run.status, run.error) for run in session.scalars(select(CrawlRun))]
    finally:
        engine.dispose()


def _alerted(webhook: Webhook) -> Counter[str]:
    found = (re.search(r"\w+ report \d+", str(message["message"])) for message in webhook.received)
    return Counter(match.group(0) for match in found if match)


def _config(tmp_path: Path, database_url: str, prefix: str, sources: list[dict[str, str]], webhook: Webhook,
            seen_window: str = "10m", **service: str) -> Path:
    config = write_config(
        tmp_path / "config.yaml", database_url, sources,
        channels={"chat": webhook.url}, rules=[{"name": "talks", "query": "ceasefire", "notify": ["chat"]}],
        service={"deliver_every": "1s", "stop_grace": "10s", **service},
        redis={"url": REDIS_URL, "prefix": prefix, "seen_window": seen_window},
    )
    migrated = run_newsmon("--config", str(config), "db", "upgrade", timeout=120)  # once, before the processes
    assert migrated.returncode == 0, migrated.stderr
    return config


def test_one_scheduler_and_three_workers_store_every_story_once_and_alert_once(
    tmp_path: Path, postgres_url: str, redis_prefix: str, outlet: Outlet, second_outlet: Outlet, webhook: Webhook
) -> None:
    urls = _publish(outlet, "wire", 12) + _publish(outlet, "desk", 8) + _publish(second_outlet, "field", 10)
    # A fourth source lists the wire's first stories again: each is fetched, stored and alerted once.
    outlet.add("/again/feed.xml", rss([{"title": "again", "link": url} for url in urls[:5]]),
               content_type="application/rss+xml")
    sources = [{"name": name, "feed": url, "every": "3s"} for name, url in [
        ("wire", outlet.url("/wire/feed.xml")), ("desk", outlet.url("/desk/feed.xml")),
        ("field", second_outlet.url("/field/feed.xml")), ("again", outlet.url("/again/feed.xml"))]]
    config = _config(tmp_path, postgres_url, redis_prefix, sources, webhook)
    with ExitStack() as stack:
        scheduler = stack.enter_context(_newsmon(config, "--role", "scheduler"))
        workers = [stack.enter_context(_newsmon(config, "--role", "worker")) for _ in range(3)]
        wait_until(lambda: _count(postgres_url, Story) >= 30 and len(_alerted(webhook)) >= 30, timeout=120,
              what="30 stories stored and alerted")
        wait_until(lambda: sum(status == "ok" for status, _ in _runs(postgres_url)) >= 8, timeout=60,
              what="two finished runs of every source")
        for process in [*workers, scheduler]:
            process.send_signal(signal.SIGTERM)
        logs = [process.communicate(timeout=60)[1] for process in [*workers, scheduler]]
    assert [process.returncode for process in [*workers, scheduler]] == [0, 0, 0, 0], logs
    assert _count(postgres_url, Story) == 30
    assert _count(postgres_url, StoryUrl) == 30
    alerted = _alerted(webhook)
    assert len(alerted) == 30 and set(alerted.values()) == {1}, alerted
    # Every article page was fetched once, by whichever worker took it; the feeds were read on every poll.
    pages = {path: hits for path, hits in outlet.hits.items() if path.endswith(".html")}
    assert len(pages) == 20 and set(pages.values()) == {1}, pages
    assert outlet.hits["/wire/feed.xml"] >= 2
    runs = _runs(postgres_url)
    assert all(status in {"ok", "unchanged", "running"} for status, _ in runs), runs
    assert "newsmon run --role scheduler" in logs[-1] and "crawl wire: ok" in logs[-1]


def test_a_worker_killed_mid_crawl_loses_nothing_and_doubles_nothing(
    tmp_path: Path, postgres_url: str, redis_prefix: str, outlet: Outlet, webhook: Webhook
) -> None:
    # Two quick pages and 14 slow ones: the kill, when the quick ones are stored, lands while the slow ones are
    # in flight. The feed never changes and answers 304 to its ETag, and the shared filter remembers the pages
    # the killed worker had in hand (10 to 20 s) beyond the run's time limit: the next polls meet them in the
    # filter, and the feed must still be read in full until they are fetched (a run that kept the ETag then
    # would hide them for good).
    _publish(outlet, "wire", 16, etag='"wire-1"')
    for number in range(2, 16):
        outlet.routes[f"/wire/{number}.html"].delay = 3.0
    sources = [{"name": "wire", "feed": outlet.url("/wire/feed.xml"), "every": "2s"}]
    config = _config(tmp_path, postgres_url, redis_prefix, sources, webhook, seen_window="10s",
                     crawl_time_limit="6s")
    with ExitStack() as stack:
        scheduler = stack.enter_context(_newsmon(config, "--role", "scheduler"))
        doomed = stack.enter_context(_newsmon(config, "--role", "worker"))
        wait_until(lambda: _count(postgres_url, Story) >= 2, timeout=60, what="the first stories")
        doomed.send_signal(signal.SIGKILL)
        doomed.communicate(timeout=30)  # its extraction workers leave with it (their pipes close)
        stored_at_kill = _count(postgres_url, Story)
        survivor = stack.enter_context(_newsmon(config, "--role", "worker"))
        wait_until(lambda: _count(postgres_url, Story) >= 16 and len(_alerted(webhook)) >= 16, timeout=120,
              what="all 16 stories after the kill")
        for process in (survivor, scheduler):
            process.send_signal(signal.SIGTERM)
        logs = [process.communicate(timeout=60)[1] for process in (survivor, scheduler)]
    assert doomed.returncode == -signal.SIGKILL
    assert stored_at_kill < 16, "the kill came too late to test anything"
    assert [survivor.returncode, scheduler.returncode] == [0, 0], logs
    assert _count(postgres_url, Story) == 16
    alerted = _alerted(webhook)
    assert len(alerted) == 16 and set(alerted.values()) == {1}, alerted


def test_a_restarted_scheduler_takes_over_the_runs_in_flight(
    tmp_path: Path, postgres_url: str, redis_prefix: str, outlet: Outlet, webhook: Webhook
) -> None:
    """A scheduler restarted while workers crawl collects their runs instead of closing them and queueing the
    sources again (which ran a source twice at once and recorded a failed crawl)."""
    _publish(outlet, "wire", 6)
    for number in range(6):  # in flight while one scheduler stops and the next starts (a few seconds)
        outlet.routes[f"/wire/{number}.html"].delay = 8.0
    sources = [{"name": "wire", "feed": outlet.url("/wire/feed.xml"), "every": "1h"}]
    config = _config(tmp_path, postgres_url, redis_prefix, sources, webhook)
    with ExitStack() as stack:
        first = stack.enter_context(_newsmon(config, "--role", "scheduler"))
        stack.enter_context(_newsmon(config, "--role", "worker"))
        wait_until(lambda: outlet.hits["/wire/0.html"], timeout=60, what="the articles in flight")
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
        second = stack.enter_context(_newsmon(config, "--role", "scheduler"))
        wait_until(lambda: _count(postgres_url, Story) >= 6 and _next_poll_planned(postgres_url), timeout=60,
              what="the six stories, and the run collected")
        second.send_signal(signal.SIGTERM)
        log = second.communicate(timeout=60)[1]
    assert first.returncode == 0 and second.returncode == 0, log
    assert "took over 1 crawl runs a stopped scheduler left open" in log
    assert _runs(postgres_url) == [("ok", None)]  # one run, finished by the worker, collected by the second
    assert outlet.hits["/wire/feed.xml"] == 1  # the source was not queued again while its run went on
    assert "crawl wire: ok, 6 links, 6 new" in log


def _next_poll_planned(database_url: str) -> bool:
    """Whether a collected run planned the source's next poll (an hour away: every: 1h)."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            at = session.scalar(select(Source.next_poll_at))
    finally:
        engine.dispose()
    return at is not None and at > datetime.now(UTC) + timedelta(minutes=30)


def _open_runs(database_url: str, sources: list[dict[str, str]], given_up: tuple[str, ...] = ()) -> dict[str, int]:
    """A run of each source opened as the scheduler would (those named in ``given_up`` given up already):
    source name -> run id, for jobs the test queues itself."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session, session.begin():
            ids = sync_sources(session, [SourceConfig(**source) for source in sources], datetime.now(UTC))
            runs = {name: open_run(session, ids[name], datetime.now(UTC)) for name in ids}
            give_up(session, [runs[name] for name in given_up], timedelta(0), datetime.now(UTC))
    finally:
        engine.dispose()
    return runs


def test_a_worker_skips_the_job_of_a_run_given_up_while_it_waited(
    tmp_path: Path, postgres_url: str, redis_prefix: str, outlet: Outlet, webhook: Webhook
) -> None:
    _publish(outlet, "stale", 2)
    _publish(outlet, "live", 2)
    sources = [{"name": name, "feed": outlet.url(f"/{name}/feed.xml"), "every": "1h"} for name in ("stale", "live")]
    config = _config(tmp_path, postgres_url, redis_prefix, sources, webhook)
    runs = _open_runs(postgres_url, sources, given_up=("stale",))  # the workers were away too long
    client = redis.Redis.from_url(REDIS_URL)
    client.rpush(sources_key(redis_prefix), job("stale", runs["stale"]), job("live", runs["live"]))
    client.close()
    with _newsmon(config, "--role", "worker") as worker:
        wait_until(lambda: _count(postgres_url, Story) >= 2 and ("ok", None) in _runs(postgres_url), timeout=60,
              what="the live source's run")
        worker.send_signal(signal.SIGTERM)
        log = worker.communicate(timeout=60)[1]
    assert f"skipped the job of stale: its crawl run {runs['stale']} is over" in log
    assert outlet.hits["/stale/feed.xml"] == 0 and outlet.hits["/live/feed.xml"] == 1


def test_a_busy_worker_takes_a_due_source_without_waiting_for_its_articles(
    tmp_path: Path, postgres_url: str, redis_prefix: str, outlet: Outlet, webhook: Webhook
) -> None:
    _publish(outlet, "slow", 3)
    for number in range(3):
        outlet.routes[f"/slow/{number}.html"].delay = 10.0
    _publish(outlet, "quick", 2)
    sources = [{"name": name, "feed": outlet.url(f"/{name}/feed.xml"), "every": "1h"} for name in ("slow", "quick")]
    config = _config(tmp_path, postgres_url, redis_prefix, sources, webhook)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["crawl"]["timeout"] = 30  # the slow pages are slow, not broken
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    runs = _open_runs(postgres_url, sources)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.rpush(sources_key(redis_prefix), job("slow", runs["slow"]))
        with _newsmon(config, "--role", "worker"):
            wait_until(lambda: outlet.hits["/slow/0.html"], timeout=60, what="the slow pages in flight")
            client.rpush(sources_key(redis_prefix), job("quick", runs["quick"]))  # due while the worker is busy
            wait_until(lambda: _count(postgres_url, Story) >= 5, timeout=60, what="all five stories")
    finally:
        client.close()
    moments = {path: moment for (path, _), moment in zip(outlet.requests, outlet.times, strict=True)}
    # Read within a few seconds, while the slow pages were still being answered (10 s), not after them (and
    # after the worker's next look for work, every 5 s, as scrapy-redis alone would have it).
    assert moments["/quick/feed.xml"] - moments["/slow/0.html"] < 6.0, moments


def test_the_per_host_delay_holds_across_workers(
    tmp_path: Path, postgres_url: str, redis_prefix: str, outlet: Outlet, webhook: Webhook
) -> None:
    _publish(outlet, "wire", 8)
    sources = [{"name": "wire", "feed": outlet.url("/wire/feed.xml"), "every": "1h"}]
    config = _config(tmp_path, postgres_url, redis_prefix, sources, webhook)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["crawl"]["delay"] = 0.4
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    with ExitStack() as stack:
        stack.enter_context(_newsmon(config, "--role", "scheduler"))
        for _ in range(2):
            stack.enter_context(_newsmon(config, "--role", "worker"))
        wait_until(lambda: _count(postgres_url, Story) >= 8, timeout=90, what="the eight stories")
    times = [moment for (path, _), moment in zip(outlet.requests, outlet.times, strict=True) if path.endswith(".html")]
    assert len(times) == 8, [path for path, _ in outlet.requests]
    # Two workers, one host: together no faster than one request per crawl.delay (each on its own would allow
    # two). The slot is taken before the connection is made, so single gaps at the server jitter around it.
    assert times[-1] - times[0] >= 7 * 0.4 * 0.93, times
    gaps = [later - earlier for earlier, later in pairwise(times)]
    assert min(gaps) >= 0.15, gaps


@contextmanager
def _own_redis(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A Redis of this test's own on loopback, to take away and bring back."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("no redis-server binary to start a Redis of the test's own")
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_connect_timeout=1)
    try:
        wait_until(lambda: _pings(client), timeout=20, what="the test's Redis")
        yield process
    finally:
        client.close()
        process.terminate()
        process.wait(10)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def test_a_scheduler_outlives_a_redis_outage_and_records_what_it_could_not_queue(
    tmp_path: Path, postgres_url: str, outlet: Outlet, webhook: Webhook
) -> None:
    _publish(outlet, "wire", 3)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sources = [{"name": "wire", "feed": outlet.url("/wire/feed.xml"), "every": "2s"}]
    config = write_config(tmp_path / "config.yaml", postgres_url, sources, service={"deliver_every": "1s"},
                          redis={"url": f"redis://127.0.0.1:{port}/0", "prefix": "outage"})
    assert run_newsmon("--config", str(config), "db", "upgrade", timeout=120).returncode == 0
    with ExitStack() as stack:
        own = stack.enter_context(_own_redis(port))
        scheduler = stack.enter_context(_newsmon(config, "--role", "scheduler"))
        worker = stack.enter_context(_newsmon(config, "--role", "worker"))
        wait_until(lambda: _count(postgres_url, Story) >= 3, timeout=60, what="the first stories")
        own.terminate()
        own.wait(10)
        wait_until(lambda: any(error and "could not be queued in Redis" in error for _, error in _runs(postgres_url)),
              timeout=60, what="a poll recorded as not queued")
        assert scheduler.poll() is None  # still running
        _publish(outlet, "wire", 5)
        stack.enter_context(_own_redis(port))  # Redis back (empty): the next polls are queued again
        wait_until(lambda: _count(postgres_url, Story) >= 5, timeout=90, what="the stories published during the outage")
        for process in (worker, scheduler):
            process.send_signal(signal.SIGTERM)
        logs = [process.communicate(timeout=60)[1] for process in (worker, scheduler)]
    assert scheduler.returncode == 0, logs[1]
    assert "could not queue 1 sources in Redis (recorded as failed crawls)" in logs[1]
    assert "crawl wire: failed" in logs[1]
