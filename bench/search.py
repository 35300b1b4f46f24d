"""Full-text search latency over a large archive, on SQLite (and PostgreSQL if given).

The archive is filled with --stories stories generated from real text (the AEB article bodies and
trafilatura pages of ../shared/corpus: paragraphs drawn from several articles, a fifth of the words
replaced), published over the last year, indexed as the storage layer indexes them. Then typical queries run
through alerts.search.search (the path `newsmon search` takes: the index, ranking, the exact check), each
--repeat times: a term, a phrase, a boolean with a date filter, a prefix, a rare term. Printed: the median and
95th percentile latency per query and over all, and the fill time; then the web page's chart (the term's
matches per day over 30 days, newsmon.stories.timeline), which counts every match rather than the 20 best.

    python -m bench.search [--stories 1000000] [--repeat 20] [--database-url postgresql+psycopg://...]
    python -m bench.search --database-url ... --fill-only    # fill, measure later
    python -m bench.search --database-url ... --reuse        # measure what an earlier run filled (migrated first)
    python -m bench.search --database-url ... --reuse --index gin   # ...on the GIN index, as without rum
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from alerts.search import search
from bench.archives import archive_url, p95
from db.models import Story
from db.search import RANKED_INDEX, SEARCH_COLUMN, SEARCH_INDEX, Filters, Sort, index_stories
from db.session import open_database, session_factory
from db.sources import sync_sources
from newsmon.config import SourceConfig
from newsmon.stories import timeline

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
QUERIES = {
    "term": ("government", None),
    "phrase": ('"prime minister"', None),
    "boolean, last 30 days": ("(election OR vote) AND minister NOT football", timedelta(days=30)),
    "prefix": ("negotiat*", None),
    "title term": ("title:police", None),
}


def paragraphs(corpus: Path) -> list[str]:
    truth = json.loads((corpus / "articles" / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    found = [line.strip() for value in truth.values() for line in value["articleBody"].splitlines()]
    return [p for p in found if len(p.split()) >= 12]


def fill(url: str, count: int, pool: list[str], rng: random.Random) -> float:
    engine = open_database(url)
    sessions = session_factory(engine)
    vocabulary = sorted({word for p in pool[:2000] for word in p.split()})
    started = time.perf_counter()
    with sessions.begin() as session:
        source_id = sync_sources(session, [SourceConfig(name="bench", feed="https://bench.example/feed")], NOW)["bench"]
    batch = 5_000
    for start in range(0, count, batch):
        stories, index = [], []
        for story_id in range(start + 1, min(count, start + batch) + 1):
            body = "\n".join(
                " ".join(w if rng.random() < 0.8 else rng.choice(vocabulary) for w in rng.choice(pool).split())
                for _ in range(rng.randint(3, 8))
            )
            title = " ".join(rng.choice(pool).split()[:rng.randint(6, 12)])
            stories.append({
                "id": story_id, "source_id": source_id, "url": f"https://bench.example/{story_id}", "title": title,
                "text": body, "published_at": NOW - timedelta(seconds=rng.randrange(365 * 86400)),
                "fetched_at": NOW, "content_hash": f"{story_id:064x}", "matched_at": NOW, "cluster_id": story_id,
                "version": 1,
            })
            index.append((story_id, title, body))
        with Session(engine) as session, session.begin():
            session.execute(insert(Story), stories)
            index_stories(session, index)  # as the storage layer indexes a stored story
        done = min(count, start + batch)
        if done % 100_000 == 0 or done == count:
            print(f"  stored {done:,} stories ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def measure(url: str, repeat: int) -> dict[str, dict[str, float]]:
    engine = open_database(url)
    figures: dict[str, dict[str, float]] = {}
    every: list[float] = []
    for name, (query, window) in QUERIES.items():
        timings, found = [], 0
        for _ in range(repeat):
            filters = Filters(since=NOW - window) if window else Filters()
            with Session(engine) as session:
                started = time.perf_counter()
                hits = search(session, query, filters, Sort.RELEVANCE, limit=20)
                timings.append((time.perf_counter() - started) * 1000)
            found = len(hits)
        every += timings
        figures[name] = {"median_ms": statistics.median(timings), "p95_ms": p95(timings), "hits": found}
    figures["all"] = {"median_ms": statistics.median(every), "p95_ms": p95(every), "hits": 0}
    # The web page's chart: the term's matches per day over the last 30 days, every copy counted.
    timings, counted = [], 0
    for _ in range(max(1, repeat // 4)):
        with Session(engine) as session:
            started = time.perf_counter()
            found = timeline(session, QUERIES["term"][0], Filters(until=NOW))
            timings.append((time.perf_counter() - started) * 1000)
        counted = sum(count for _, count in found.days)
    figures["chart: term, 30 days"] = {"median_ms": statistics.median(timings), "p95_ms": p95(timings),
                                       "hits": counted}
    engine.dispose()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", help="a PostgreSQL database to fill (its stories are emptied first)")
    parser.add_argument("--fill-only", action="store_true", help="fill the PostgreSQL database and stop")
    parser.add_argument("--reuse", action="store_true", help="measure the PostgreSQL database as an earlier run left it")
    parser.add_argument("--index", choices=("rum", "gin"),
                        help="with --reuse: measure on this full-text index (built first, the other dropped)")
    args = parser.parse_args(argv)
    if (args.fill_only or args.reuse) and not args.database_url:
        parser.error("--fill-only and --reuse need --database-url")
    if args.reuse:
        if args.index:
            use_index(args.database_url, args.index)
        figures = measure(args.database_url, args.repeat)
        print_figures(figures, f"the stories already in {args.database_url.split(':')[0]}, {index_sizes(args.database_url)}")
        return 0
    if not CORPUS.is_dir():
        print("../shared/corpus is absent", file=sys.stderr)
        return 1
    rng = random.Random(5)
    pool = paragraphs(CORPUS)
    with tempfile.TemporaryDirectory() as folder:
        url = archive_url(args.database_url, folder, "search.db")
        print(f"filling {url.split(':')[0]} with {args.stories:,} stories...", file=sys.stderr)
        seconds = fill(url, args.stories, pool, rng)
        if args.fill_only:
            print(f"{args.stories:,} stories filled and indexed in {seconds:.0f} s")
            return 0
        figures = measure(url, args.repeat)
    print_figures(figures, f"{args.stories:,} stories on {url.split(':')[0]}, filled and indexed in {seconds:.0f} s")
    return 0


def use_index(url: str, kind: str) -> None:
    """Leave the archive with the RUM or the GIN full-text index only (what migration 0013 makes of a server
    with or without the rum extension)."""
    engine = open_database(url)
    wanted, other = (RANKED_INDEX, SEARCH_INDEX) if kind == "rum" else (SEARCH_INDEX, RANKED_INDEX)
    method = f"rum ({SEARCH_COLUMN} rum_tsvector_ops)" if kind == "rum" else f"gin ({SEARCH_COLUMN})"
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(text(f"CREATE INDEX IF NOT EXISTS {wanted} ON stories USING {method}"))
        connection.execute(text(f"DROP INDEX IF EXISTS {other}"))
    print(f"  {kind} index in place ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    engine.dispose()


def index_sizes(url: str) -> str:
    """The sizes of the stories' text and of the full-text index and column, for the figures' heading."""
    engine = open_database(url)
    with engine.connect() as connection:
        row = connection.execute(text(
            "SELECT sum(octet_length(title) + octet_length(text)), sum(pg_column_size(search_vector)), "
            "(SELECT sum(pg_relation_size(indexrelid)) FROM pg_index JOIN pg_class ON pg_class.oid = indexrelid "
            f"WHERE relname IN ('{SEARCH_INDEX}', '{RANKED_INDEX}')) FROM stories"
        )).one()
    engine.dispose()
    text_mb, vector_mb, index_mb = (value / 2**20 if value else 0 for value in row)
    return f"text {text_mb:.0f} MB, tsvectors {vector_mb:.0f} MB, full-text index {index_mb:.0f} MB"


def print_figures(figures: dict[str, dict[str, float]], heading: str) -> None:
    print(heading)
    print(f"{'query':<26} {'median ms':>10} {'p95 ms':>8} {'hits':>7}")
    for name, row in figures.items():
        print(f"{name:<26} {row['median_ms']:>10.1f} {row['p95_ms']:>8.1f} {row['hits'] if name != 'all' else '':>7}")


if __name__ == "__main__":
    sys.exit(main())
