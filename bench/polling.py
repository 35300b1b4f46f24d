"""How fast and how cheaply `newsmon run` polls thousands of feeds, and what conditional GET saves.

A feed farm on loopback (bench/feedfarm.py: 2,000 generated RSS feeds of 20 items, 11-23 KB each) and the
real service (scheduler.service.Service, in this process; its crawls in child processes as always). The archive
is seeded with every item the feeds list, as after a service has run for a while: a round measures polling,
not the first extraction of 40,000 articles. Then two rounds, every source due at once:

- round 1: no validators yet, every feed answers 200 and is parsed; 10% of the feeds have 1-3 new items;
- round 2: after another 10% of the feeds gained items, the others answer 304;
- round 3: no feed changed, every one answers 304: the floor of what polling costs.

Printed per round: seconds, requests that got 304, articles stored, CPU seconds of the service (its process
and its crawl processes) and the peak memory of the service process and of its largest crawl process.

    python -m bench.polling [--feeds 2000] [--database-url postgresql+psycopg://...] [--batch-size 50]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from bench.feedfarm import FeedFarm
from bench.procs import tree_rss_kib
from crawler.urls import canonical_url
from db.models import CrawlRun, Story, StoryUrl
from db.session import open_database
from db.sources import sync_sources
from newsmon.config_load import load_config
from newsmon.logging import configure_logging
from scheduler.service import Service


def _seed_archive(database_url: str, config_path: Path, farm: FeedFarm) -> int:
    """Every article the feeds list now, stored as if crawled before (URLs canonical, as the crawl keeps them)."""
    config = load_config(config_path)
    engine = open_database(database_url)
    now = datetime.now(UTC)
    articles = farm.existing_articles()
    with Session(engine) as session, session.begin():
        ids = sync_sources(session, config.sources, now)
        by_feed = {source.url.rsplit("/", 1)[-1].split(".")[0]: ids[source.name] for source in config.sources}
        stories, urls = [], []
        for number, (url, title) in enumerate(articles, start=1):
            feed = url.split("/article/", 1)[1].split("/", 1)[0]
            canonical = canonical_url(url)
            text = f"{title}. Seeded story {number}."
            stories.append({"id": number, "source_id": by_feed[feed], "url": canonical, "title": title, "text": text,
                            "fetched_at": now, "matched_at": now,
                            "content_hash": hashlib.sha256(text.encode()).hexdigest()})
            urls.append({"story_id": number, "source_id": by_feed[feed], "url": canonical, "seen_at": now})
        session.execute(insert(Story), stories)
        session.execute(insert(StoryUrl), urls)
    engine.dispose()
    return len(articles)


def _count(service: Service, model: type) -> int:
    assert service.sessions is not None
    with service.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _round(service: Service, farm: FeedFarm, feeds: int, trigger: bool) -> dict[str, float]:
    farm_pid = {farm.process.pid} if farm.process else set()
    peak = 0.0
    runs_before, stories_before = _count(service, CrawlRun), _count(service, Story)
    farm.reset_stats()
    cpu_self, cpu_children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    if trigger:
        service.poll_now()
    last_report = started
    # Done when every feed's crawl is recorded and the service has handled the last batch (its next polls).
    while (done := _count(service, CrawlRun) - runs_before) < feeds or service.health()["crawls_in_flight"]:
        time.sleep(0.25)
        peak = max(peak, tree_rss_kib(os.getpid(), exclude=farm_pid) / 1024)
        if time.perf_counter() - last_report > 5:
            last_report = time.perf_counter()
            print(f"  ... {done} of {feeds} feeds polled after {last_report - started:.0f}s", file=sys.stderr)
    seconds = time.perf_counter() - started
    after_self, after_children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    stats = farm.stats()
    return {
        "seconds": seconds,
        "feeds_200": stats.get("feed_200", 0),
        "feeds_304": stats.get("feed_304", 0),
        "articles_fetched": stats.get("article_200", 0),
        "stories_stored": _count(service, Story) - stories_before,
        "cpu_service": (after_self.ru_utime + after_self.ru_stime) - (cpu_self.ru_utime + cpu_self.ru_stime),
        "cpu_crawls": (after_children.ru_utime + after_children.ru_stime)
        - (cpu_children.ru_utime + cpu_children.ru_stime),
        "farm_cpu": stats.get("cpu_seconds", 0),
        "peak_rss": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--batch-size", type=int, default=None, help="service.batch_size (default: the config's)")
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    configure_logging(0)

    with tempfile.TemporaryDirectory(prefix="newsmon-polling-") as folder, FeedFarm(args.feeds, args.items) as farm:
        database_url = args.database_url or f"sqlite:///{folder}/newsmon.db"
        service_settings: dict[str, object] = {"processes": args.processes, "deliver_every": "30s"}
        if args.batch_size:
            service_settings["batch_size"] = args.batch_size
        config_path = Path(folder) / "config.yaml"
        config_path.write_text(yaml.safe_dump({
            "database": {"url": database_url},
            # One loopback host stands for 2,000 outlets: no per-host delay, robots.txt not asked for.
            "crawl": {"delay": 0, "allow_private_networks": True, "obey_robots_txt": False, "concurrency": 16},
            "service": service_settings,
            "sources": [{"name": f"feed-{n}", "feed": url, "every": "1h"} for n, url in enumerate(farm.feed_urls)],
        }))
        seeded = _seed_archive(database_url, config_path, farm)
        farm.advance(0.1)
        print(f"{args.feeds} feeds of {args.items} items; archive seeded with {seeded} stories", file=sys.stderr)

        service = Service(load_config(config_path), config_path)
        thread = threading.Thread(target=service.run, name="service", daemon=True)
        thread.start()
        while service.sessions is None:
            time.sleep(0.05)
        # Round 1: at start every source is due (none was polled by a service before).
        first = _round(service, farm, args.feeds, trigger=False)
        farm.advance(0.1)
        second = _round(service, farm, args.feeds, trigger=True)
        third = _round(service, farm, args.feeds, trigger=True)
        service.stop("bench done")
        thread.join()
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"\n{'':22}{'round 1':>12}{'round 2':>12}{'round 3':>12}")
    for key, label in [("seconds", "seconds"), ("feeds_200", "feeds read (200)"), ("feeds_304", "feeds unchanged (304)"),
                       ("articles_fetched", "articles fetched"), ("stories_stored", "stories stored"),
                       ("cpu_service", "CPU s, service"), ("cpu_crawls", "CPU s, crawl procs"),
                       ("peak_rss", "peak RSS MiB, all")]:
        print(f"{label:22}{first[key]:>12.1f}{second[key]:>12.1f}{third[key]:>12.1f}")
    cpu1, cpu2, cpu3 = (r["cpu_service"] + r["cpu_crawls"] for r in (first, second, third))
    print(f"\nround 2 / round 1: time {second['seconds'] / first['seconds']:.2f}x, CPU {cpu2 / cpu1:.2f}x "
          f"({cpu2:.1f} vs {cpu1:.1f} CPU s)")
    print(f"round 3 / round 1: time {third['seconds'] / first['seconds']:.2f}x, CPU {cpu3 / cpu1:.2f}x "
          f"({cpu3:.1f} vs {cpu1:.1f} CPU s)")
    print(f"peak RSS of the bench's own process (the service, and the seeding's leftovers): {own:.0f} MiB")
    print("peak RSS MiB, all: the bench process with every crawl process and extraction worker, sampled 4x a second")
    farm_cpu = ", ".join(f"{r['farm_cpu']:.1f}" for r in (first, second, third))
    print(f"(the farm itself used {farm_cpu} CPU s in the three rounds; not counted)")


if __name__ == "__main__":
    main()
