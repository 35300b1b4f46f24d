"""The shared duplicate filter of the scale-out against the machine's Redis: what it remembers, and that its
memory is bounded (expiring keys, one per window). Skips without Redis at 127.0.0.1:6379."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from scrapy import Request

from crawler.sharedqueue import ExpiringDupeFilter, job, read_job

REDIS_URL = os.environ.get("NEWSMON_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def server() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {REDIS_URL} is not reachable ({exc}): .ci/run starts it")
    yield client
    client.close()


def test_a_url_is_remembered_for_one_to_two_windows_in_keys_that_expire(server: redis.Redis) -> None:
    key = f"newsmon-test-{uuid.uuid4().hex[:8]}:seen"
    seen = ExpiringDupeFilter(server, key, window=1.0)
    try:
        page = Request("https://news.example.org/a.html")
        assert seen.request_seen(page) is False
        assert seen.request_seen(page) is True
        assert seen.request_seen(Request("https://news.example.org/b.html")) is False
        keys = list(server.scan_iter(f"{key}:*"))
        assert keys and all(0 < server.ttl(name) <= 3 for name in keys)  # every set expires
        time.sleep(2.1)  # two windows later it is forgotten: fetched again
        assert seen.request_seen(page) is False
        seen.close()  # a stopping worker leaves the shared sets to the others
        assert list(server.scan_iter(f"{key}:*"))
    finally:
        for name in server.scan_iter(f"{key}:*"):
            server.delete(name)


def test_a_url_met_again_is_not_remembered_anew(server: redis.Redis) -> None:
    """A page that later polls keep listing (its worker died with it in hand) is forgotten two windows after
    its first fetch, however often it is met in between, and then fetched again."""
    key = f"newsmon-test-{uuid.uuid4().hex[:8]}:seen"
    seen = ExpiringDupeFilter(server, key, window=2.0)
    page = Request("https://news.example.org/lost.html")
    try:
        while time.time() % 2.0 > 0.1:  # start at the beginning of a window, so the sleeps land in known ones
            time.sleep(0.01)
        assert seen.request_seen(page) is False  # window k
        time.sleep(2.0)
        assert seen.request_seen(page) is True  # window k+1: found in the last window's set
        time.sleep(2.1)
        assert seen.request_seen(page) is False  # window k+2: the first fetch is two windows back
    finally:
        for name in server.scan_iter(f"{key}:*"):
            server.delete(name)


def test_jobs_read_back_and_anything_else_is_refused() -> None:
    assert read_job(job("bbc-world", 42)) == ("bbc-world", 42)
    for bad in (b"https://example.org/", b'{"source": 1, "run": 2}', b"[]", b'{"source": "a"}'):
        with pytest.raises(ValueError, match="not a newsmon job|Expecting|JSON"):
            read_job(bad)
