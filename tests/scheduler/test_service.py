"""The real `newsmon run` in a child process against loopback outlets, a webhook channel and a real database."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import time
import urllib.request
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from db.models import CrawlRun, OutboxMessage, Story
from db.session import make_engine
from tests.conftest import run_newsmon, write_config
from tests.processes import free_port, newsmon_run, wait_until
from tests.servers import Outlet, Webhook, article_page, filler, rss

WORDS = ("Negotiators met in Geneva on Sunday to discuss a ceasefire, the exchange of prisoners and the "
         "security guarantees that Kyiv asked for; officials from both delegations spoke after six hours of talks.")


def _publish(outlet: Outlet, numbers: range, etag: str) -> None:
    """Articles 0..n-1 and a feed listing the given ones (newest first), with an ETag."""
    items = []
    for number in numbers:
        title = f"Ceasefire talks, day {number}"
        url = outlet.add(f"/world/day-{number}.html", article_page(title, [f"Day {number}. {WORDS}", filler(number)]))
        items.append({"title": title, "link": url})
    outlet.add("/feed.xml", rss(items[::-1]), content_type="application/rss+xml", etag=etag)


def _stories(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return list(session.scalars(select(Story.title)))
    except SQLAlchemyError:  # the service may not have created the schema yet
        return []
    finally:
        engine.dispose()


def _stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_run_polls_alerts_stops_on_sigterm_and_restarts_without_losing_or_doubling(
    tmp_path: Path, database_url: str, outlet: Outlet, webhook: Webhook
) -> None:
    _publish(outlet, range(3), etag='"v1"')
    config = write_config(
        tmp_path / "config.yaml", database_url, [{"name": "wire", "feed": outlet.url("/feed.xml"), "every": "2s"}],
        channels={"chat": webhook.url}, rules=[{"name": "talks", "query": "ceasefire", "notify": ["chat"]}],
        service={"deliver_every": "1s", "stop_grace": "20s"},
    )
    port = free_port()
    with newsmon_run(config, "--http", f"127.0.0.1:{port}") as service:
        wait_until(lambda: len(webhook.received) >= 3, what="the first three alerts")
        # (the alerts may be out before the service has recorded the crawl that found them)
        wait_until(lambda: json.loads(_get(f"http://127.0.0.1:{port}/healthz")[1])["sources"] == {"ok": 1},
              what="the crawl to be recorded")
        status, body = _get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and json.loads(body)["ok"] is True
        status, metrics = _get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        assert b"newsmon_stories_stored 3.0" in metrics
        assert b'newsmon_sources{status="ok"} 1.0' in metrics
        assert b'newsmon_sources{status="articles failing"} 0.0' in metrics  # every status, 0 included
        assert b"newsmon_crawl_duration_seconds_count" in metrics

        second = run_newsmon("--config", str(config), "run", timeout=60)
        assert second.returncode == 1
        assert "another `newsmon run`" in second.stderr and "schedules this database" in second.stderr

        _publish(outlet, range(5), etag='"v2"')  # two more stories; the service stops while it may be reading them
        time.sleep(1.0)
        code, log = _stop(service)
    assert code == 0, log
    assert "SIGTERM" in log and "newsmon run stopped" in log
    assert "crawl wire:" in log  # one line per crawl

    with newsmon_run(config) as service:
        wait_until(lambda: len(webhook.received) >= 5 and len(_stories(database_url)) >= 5, what="all five stories")
        time.sleep(6)  # a few more polls (every 2s, each a crawl process) and delivery runs, which must add nothing
        code, _ = _stop(service)
    assert code == 0
    titles = _stories(database_url)
    assert sorted(titles) == sorted(f"Ceasefire talks, day {n}" for n in range(5))
    alerted = Counter(re.search(r"day \d+", str(message["message"])).group(0) for message in webhook.received)
    assert len(alerted) == 5 and set(alerted.values()) == {1}, alerted
    assert outlet.hits["/feed.xml"] >= 3
    # The unchanged feed was answered 304 after the first complete read (conditional GET in the service).
    assert any(h.get("If-None-Match") == '"v2"' for path, h in outlet.requests if path == "/feed.xml")


def test_dead_source_turns_failing_notifies_and_recovers(tmp_path: Path, outlet: Outlet, webhook: Webhook) -> None:
    database_url = f"sqlite:///{tmp_path / 'newsmon.db'}"
    config = write_config(
        tmp_path / "config.yaml", database_url, [{"name": "gone", "feed": outlet.url("/feed.xml"), "every": "1s"}],
        channels={"ops": webhook.url}, service={"deliver_every": "1s", "health_channel": "ops"},
    )
    with newsmon_run(config) as service:  # nothing at /feed.xml yet: 404 on every poll
        wait_until(lambda: any("is failing" in str(m["title"]) for m in webhook.received), timeout=60,
              what="the failing notice")
        sources = json.loads(run_newsmon("--config", str(config), "sources", "--format", "json").stdout)
        assert sources[0]["status"] == "failing" and sources[0]["failures_in_a_row"] >= 3
        assert sources[0]["last_error"] == "HTTP 404"
        _publish(outlet, range(2), etag='"v1"')
        wait_until(lambda: any("recovered" in str(m["title"]) for m in webhook.received), timeout=60,
              what="the recovery notice")
        code, log = _stop(service)
    assert code == 0
    assert "source gone is failing" in log
    sources = json.loads(run_newsmon("--config", str(config), "sources", "--format", "json").stdout)
    assert sources[0]["status"] == "ok"
    # The schedule the service left: an interval within the bounds of every: 1s, and a next poll.
    assert 1 <= sources[0]["poll_every_s"] <= 4 and sources[0]["next_poll"]
    notices = [str(m["title"]) for m in webhook.received]
    assert notices == ["newsmon: source gone is failing", "newsmon: source gone has recovered"]
    failing = next(m for m in webhook.received if "failing" in str(m["title"]))
    assert "HTTP 404" in str(failing["message"])
    # Backoff: polled every 1s when fine, the failures in a row were spaced 1, 2, 4 ... seconds apart.
    engine = make_engine(database_url)
    with Session(engine) as session:
        runs = list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))
        notice_rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.story_id.is_(None))))
    engine.dispose()
    # Backoff: the service planned 1, 2, 4 ... seconds after the failures in a row (every: 1s), and kept to it:
    # no failed crawl started before the delay planned after the one before. (Lower bounds only: a loaded
    # machine stretches every gap by the crawl process's start, so comparing gaps with each other is noise.)
    planned = {int(count): float(seconds) for count, seconds
               in re.findall(r"crawl gone: failed \((\d+) in a row\).*; next in (\d+)s", log)}
    assert [planned.get(count) for count in (1, 2, 3)] == [1.0, 2.0, 4.0], log
    failed = [run for run in runs if run.status == "failed"]
    for count, (earlier, later) in enumerate(pairwise(failed), start=1):
        assert earlier.finished_at is not None
        waited = (later.started_at - earlier.finished_at).total_seconds()
        assert waited >= planned.get(count, 1.0) - 0.25, (count, waited, planned)
    assert [row.status for row in notice_rows] == ["sent", "sent"]


def test_a_source_whose_every_article_fails_is_counted_notified_and_recovers(
    tmp_path: Path, outlet: Outlet, webhook: Webhook
) -> None:
    _publish(outlet, range(2), etag='"v1"')
    for number in range(2):  # the feed is read fine; its articles are not
        outlet.routes[f"/world/day-{number}.html"].status = 500
    database_url = f"sqlite:///{tmp_path / 'newsmon.db'}"
    config = write_config(
        tmp_path / "config.yaml", database_url, [{"name": "hollow", "feed": outlet.url("/feed.xml"), "every": "1s"}],
        channels={"ops": webhook.url}, service={"deliver_every": "1s", "health_channel": "ops"},
    )
    port = free_port()
    with newsmon_run(config, "--http", f"127.0.0.1:{port}") as service:
        wait_until(lambda: any("articles are failing" in str(m["title"]) for m in webhook.received), timeout=60,
              what="the articles-failing notice")
        assert b'newsmon_sources{status="articles failing"} 1.0' in _get(f"http://127.0.0.1:{port}/metrics")[1]
        assert json.loads(_get(f"http://127.0.0.1:{port}/healthz")[1])["sources"] == {"articles failing": 1}
        for number in range(2):
            outlet.routes[f"/world/day-{number}.html"].status = 200
        wait_until(lambda: any("recovered" in str(m["title"]) for m in webhook.received), timeout=60,
              what="the recovery notice")
        code, log = _stop(service)
    assert code == 0
    assert "source hollow is articles failing (was ok)" in log
    assert [str(m["title"]) for m in webhook.received] == [
        "newsmon: source hollow's articles are failing", "newsmon: source hollow has recovered",
    ]
    notice = str(webhook.received[0]["message"])
    assert "3 crawls in a row; most common reason: HTTP 500 (2 of 2 failed pages)" in notice
    assert sorted(_stories(database_url)) == ["Ceasefire talks, day 0", "Ceasefire talks, day 1"]


def test_a_hung_crawl_is_stopped_at_the_time_limit_and_recorded(tmp_path: Path, outlet: Outlet) -> None:
    outlet.add("/slow.xml", rss([]), content_type="application/rss+xml", delay=60)
    database_url = f"sqlite:///{tmp_path / 'newsmon.db'}"
    config = write_config(
        tmp_path / "config.yaml", database_url, [{"name": "slow", "feed": outlet.url("/slow.xml"), "every": "1h"}],
        crawl={"timeout": 120}, service={"crawl_time_limit": "3s"},
    )
    with newsmon_run(config) as service:
        def recorded() -> list[dict[str, Any]] | None:
            rows = json.loads(run_newsmon("--config", str(config), "sources", "--format", "json").stdout or "[]")
            return rows if rows and rows[0]["status"] == "failing" else None

        rows = wait_until(recorded, timeout=60, what="the killed crawl to be recorded")
        code, log = _stop(service)
    assert code == 0
    assert "crawl slow: failed (1 in a row)" in log
    assert rows[0]["last_error"]
    assert "time limit" in rows[0]["last_error"] or "unfinished" in rows[0]["last_error"], rows[0]


def test_a_second_signal_exits_at_once(tmp_path: Path, outlet: Outlet) -> None:
    outlet.add("/slow.xml", rss([]), content_type="application/rss+xml", delay=60)
    config = write_config(
        tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'newsmon.db'}",
        [{"name": "slow", "feed": outlet.url("/slow.xml"), "every": "1h"}],
        crawl={"timeout": 120}, service={"stop_grace": "60s"},
    )
    with newsmon_run(config) as service:
        wait_until(lambda: outlet.hits["/slow.xml"] >= 1, what="the crawl to start")
        service.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        assert service.poll() is None  # waiting for the in-flight crawl, within its grace
        started = time.monotonic()
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=10)
        assert time.monotonic() - started < 5
    assert service.returncode != 0


@pytest.mark.parametrize("address", ["8080", "localhost:http", ":99999"])
def test_run_refuses_a_bad_http_address(tmp_path: Path, address: str) -> None:
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'n.db'}", [])
    result = run_newsmon("--config", str(config), "run", "--http", address, timeout=60)
    assert result.returncode == 2
    assert "HOST:PORT" in result.stderr


def test_due_sources_are_crawled_in_batches_not_a_process_each(tmp_path: Path, outlet: Outlet) -> None:
    sources = []
    for number in range(12):
        outlet.add(f"/feed-{number}.xml", rss([]), content_type="application/rss+xml")
        sources.append({"name": f"s{number}", "feed": outlet.url(f"/feed-{number}.xml"), "every": "1h"})
    database_url = f"sqlite:///{tmp_path / 'newsmon.db'}"
    config = write_config(tmp_path / "config.yaml", database_url, sources,
                          service={"processes": 1, "batch_size": 5})
    with newsmon_run(config, verbose=True) as service:
        wait_until(lambda: sum(outlet.hits[f"/feed-{n}.xml"] for n in range(12)) == 12, what="every source polled")
        wait_until(lambda: _count_runs(database_url) == 12, what="every crawl recorded")
        code, log = _stop(service)
    assert code == 0
    # The crawl processes' own log lines come through the service's log: one per process.
    batches = [int(n) for n in re.findall(r"crawl of (\d+) sources", log)]
    assert sum(batches) == 12 and max(batches) == 5 and len(batches) <= 4, log
    assert log.count("crawl s") == 12  # and one line per source crawled


def _count_runs(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return len(list(session.scalars(select(CrawlRun.id))))
    except SQLAlchemyError:  # the service may not have created the schema yet
        return 0
    finally:
        engine.dispose()


def test_run_refuses_an_http_port_in_use_in_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'n.db'}", [])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_newsmon("--config", str(config), "run", "--http", f"127.0.0.1:{port}", timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: cannot serve --http on 127.0.0.1:{port}")
    assert "Traceback" not in result.stderr
