"""The Redis that scale-out processes share (``newsmon run --role scheduler|worker``), through scrapy-redis.

- ``<prefix>:sources``: the scheduler's jobs, one JSON object per due source ({"source", "run"}), read by
  idle workers (scrapy-redis's RedisSpider start-URL list).
- ``<prefix>:requests``: scrapy-redis's shared request queue: the listings and article pages any worker
  fetches. Kept when a worker stops (SCHEDULER_PERSIST): a stopping worker must not empty it for the others.
- ``<prefix>:seen:<window>``: the shared duplicate filter, one set per ``redis.seen_window`` that expires
  after two windows, so its memory is bounded by what two windows fetch (scrapy-redis's own filter is one
  set that grows for ever). The database's unique URLs stay the real dedupe; this one saves fetches.
- ``<prefix>:host:<host>``: a key per host that lives ``crawl.delay``: the per-host delay held across all
  workers, not per process.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlsplit

import redis
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy_redis.connection import get_redis_from_settings
from scrapy_redis.dupefilter import RFPDupeFilter

from newsmon.config import Config
from newsmon.errors import NewsmonError, one_line

_POLL_FLOOR = 0.01  # seconds: the shortest wait before asking for a host's slot again


def redis_settings(config: Config) -> dict[str, Any]:
    """Scrapy settings of a worker: scrapy-redis's scheduler and queue, our filter and per-host delay."""
    assert config.redis.url is not None
    prefix = config.redis.prefix
    return {
        "REDIS_URL": config.redis.url,
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_QUEUE_KEY": f"{prefix}:requests",
        "SCHEDULER_PERSIST": True,  # a stopping worker leaves the queue and the filter to the others
        "SCHEDULER_FLUSH_ON_START": False,  # a late worker must not empty what the others queued
        "SCHEDULER_IDLE_BEFORE_CLOSE": 0,
        "DUPEFILTER_CLASS": "crawler.sharedqueue.ExpiringDupeFilter",
        "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:seen",
        "REDIS_START_URLS_KEY": sources_key(prefix),
        "MAX_IDLE_TIME_BEFORE_CLOSE": 0,  # a worker waits for work for ever (it counts from import time anyway)
        "NEWSMON_REDIS_PREFIX": prefix,
        "NEWSMON_SEEN_WINDOW": config.redis.seen_window.total_seconds(),
    }


def sources_key(prefix: str) -> str:
    return f"{prefix}:sources"


def job(source: str, run_id: int) -> str:
    """What the scheduler queues for one due source (read back by ``read_job``)."""
    return json.dumps({"source": source, "run": run_id})


def read_job(data: bytes | str) -> tuple[str, int]:
    """The source and run of a queued job; raises ValueError on anything else."""
    value = json.loads(data)
    if not isinstance(value, dict) or not isinstance(value.get("source"), str) or not isinstance(value.get("run"), int):
        raise ValueError(f"not a newsmon job: {str(data)[:100]!r}")
    return value["source"], value["run"]


def connect(url: str) -> redis.Redis:
    """A client that fails in seconds, not minutes, when Redis is away."""
    return redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=10, health_check_interval=30)


def connect_or_fail(url: str | None) -> redis.Redis:
    """``connect``, once Redis has answered: a scheduler or worker started without its Redis says so in one
    line and exits (its supervisor starts it again) instead of starting half-way."""
    if url is None:
        raise NewsmonError("the scale-out needs redis.url in the config (or NEWSMON_REDIS_URL)")
    client = connect(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        raise NewsmonError(f"cannot reach Redis at {redis_address(url)} ({one_line(exc)}); start it or fix "
                           "redis.url") from None
    return client


def redis_address(url: str) -> str:
    """host:port/db of a Redis URL without its password, for logs and errors."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path or ''}"


class ExpiringDupeFilter(RFPDupeFilter):
    """scrapy-redis's duplicate filter in one set per time window, each expiring after two windows.

    A request is seen when its fingerprint is in this window's set or the last one's: a URL is remembered for
    one to two windows from its first fetch, and Redis holds at most two windows of fingerprints however long
    workers run. A fingerprint found is not added again: a page the next polls keep listing (its worker died
    with it in hand) must be forgotten in time to be fetched.
    """

    def __init__(self, server: redis.Redis, key: str, debug: bool = False, window: float = 1800.0) -> None:
        super().__init__(server, key, debug)
        self.window = max(window, 1.0)

    @classmethod
    def from_spider(cls, spider: Spider) -> ExpiringDupeFilter:
        settings = spider.settings
        return cls(get_redis_from_settings(settings), settings["SCHEDULER_DUPEFILTER_KEY"],
                   settings.getbool("DUPEFILTER_DEBUG"), settings.getfloat("NEWSMON_SEEN_WINDOW", 1800.0))

    def request_seen(self, request: Request) -> bool:
        fingerprint = self.request_fingerprint(request)
        current = int(time.time() // self.window)
        if self.server.sismember(f"{self.key}:{current - 1}", fingerprint):
            return True
        with self.server.pipeline() as pipe:
            pipe.sadd(f"{self.key}:{current}", fingerprint)
            pipe.expire(f"{self.key}:{current}", int(2 * self.window) + 1)
            added, _ = pipe.execute()
        return not added

    def close(self, reason: str = "") -> None:
        """Nothing to delete: the sets are shared with the other workers and expire by themselves."""

    def clear(self) -> None:
        current = int(time.time() // self.window)
        self.server.delete(f"{self.key}:{current - 1}", f"{self.key}:{current}")


class SharedHostDelay:
    """``crawl.delay`` between two requests to one host, across every worker: a request waits until it takes
    the host's key in Redis (SET NX with the delay as its lifetime)."""

    def __init__(self, server: redis.Redis, prefix: str, delay: float) -> None:
        self.server = server
        self.prefix = prefix
        self.delay_ms = int(delay * 1000)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedHostDelay:
        settings = crawler.settings
        return cls(get_redis_from_settings(settings), settings["NEWSMON_REDIS_PREFIX"],
                   settings.getfloat("DOWNLOAD_DELAY"))

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if self.delay_ms <= 0:
            return
        key = f"{self.prefix}:host:{(urlsplit(request.url).hostname or '').lower()}"
        while not self.server.set(key, b"1", nx=True, px=self.delay_ms):
            left = self.server.pttl(key)
            await asyncio.sleep(max(left / 1000 if left and left > 0 else 0.0, _POLL_FLOOR))
