"""Placing a new story among many stored ones: time per story and memory, on SQLite (and PostgreSQL if given).

The archive is filled with --stories stories generated from real text (the AEB article bodies of
../shared/corpus, paragraphs shuffled and a third of the words replaced, so each is a story of its own), all
within the clustering window, with their signatures and LSH bands. Then --new stories are stored through
store_article, as a crawl stores them: half are edited copies of stored stories (they must join their
clusters), half are new. Printed: fill time, milliseconds per placement (median and 95th percentile),
how many copies found their cluster, the process's peak memory and the database's size.

    python -m bench.clusters [--stories 100000] [--new 400] [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, text

from bench.archives import archive_url, p95
from crawler.extract import Article, content_hash
from db.clusters import ClusterPolicy, band_keys
from db.models import Source, Story, StoryBand
from db.neardup import fingerprint
from db.session import open_database, session_factory
from db.sources import sync_sources
from db.storage import store_article
from newsmon.config import SourceConfig

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def base_texts(corpus: Path) -> list[list[str]]:
    truth = json.loads((corpus / "articles" / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    bodies = [value["articleBody"] for value in truth.values() if len(value["articleBody"].split()) >= 80]
    return [[line for line in body.splitlines() if line.strip()] for body in bodies]


def generated(bases: list[list[str]], vocabulary: list[str], rng: random.Random) -> str:
    paragraphs = list(rng.choice(bases))
    rng.shuffle(paragraphs)
    return "\n".join(
        " ".join(word if rng.random() < 0.67 else rng.choice(vocabulary) for word in paragraph.split())
        for paragraph in paragraphs
    )


def fill(url: str, count: int, bases: list[list[str]], rng: random.Random) -> float:
    """``count`` stories with signatures, clusters and bands, fetched over the last 6 days; returns seconds."""
    vocabulary = sorted({word for paragraphs in bases for p in paragraphs for word in p.split()})
    engine = open_database(url)
    sessions = session_factory(engine)
    started = time.perf_counter()
    with sessions.begin() as session:
        source_id = sync_sources(session, [SourceConfig(name="bench", feed="https://bench.example/feed")], NOW)["bench"]
    for start in range(0, count, 2_000):
        stories, bands = [], []
        for index in range(start, min(count, start + 2_000)):
            body = generated(bases, vocabulary, rng)
            print_ = fingerprint(body)
            story_id = index + 1
            title = f"Generated story number {story_id}"
            stories.append({
                "id": story_id, "source_id": source_id, "url": f"https://bench.example/{story_id}", "title": title,
                "text": body, "fetched_at": NOW - timedelta(days=6) * (1 - index / count),
                "content_hash": content_hash(body), "matched_at": NOW, "cluster_id": story_id,
                "signature": print_.signature, "shingles": print_.shingles, "version": 1,
            })
            bands += [{"band": band, "story_id": story_id} for band in band_keys(print_, title)]
        with sessions.begin() as session:
            session.execute(insert(Story), stories)
            session.execute(insert(StoryBand), bands)
        done = min(count, start + 2_000)
        if done % 20_000 == 0 or done == count:
            print(f"  stored {done:,} stories ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("SELECT setval(pg_get_serial_sequence('stories', 'id'), :n)"), {"n": count})
            connection.execute(text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def place_new(url: str, stored: int, new: int, rng: random.Random) -> dict[str, float]:
    engine = open_database(url)
    sessions = session_factory(engine)
    with sessions() as session:
        source_id = session.scalar(select(Source.id).where(Source.name == "bench"))
    timings, found = [], 0
    for index in range(new):
        copy_of = rng.randrange(1, stored + 1) if index % 2 == 0 else None
        with sessions() as session:
            stored_text = session.scalar(select(Story.text).where(Story.id == (copy_of or rng.randrange(1, stored + 1))))
        assert stored_text is not None
        if copy_of is not None:  # an edited copy: a paragraph cut, a sentence added
            paragraphs = stored_text.split("\n")
            body = "\n".join(paragraphs[1:] or paragraphs) + "\nThe story was updated with reactions."
        else:  # words of a stored story in another order: the same words, not the same story
            words = stored_text.split()
            body = " ".join(rng.sample(words, min(200, len(words))))
        article = Article(
            url=f"https://new.example/{index}", urls=(f"https://new.example/{index}",), source="bench",
            title=f"New story {index}", text=body, author=None, site_name=None, language=None, published_at=None,
            content_hash=content_hash(body), fingerprint=fingerprint(body),  # computed in the extraction worker
        )
        started = time.perf_counter()
        with sessions.begin() as session:
            _, story_id = store_article(session, article, source_id, NOW, ClusterPolicy())
            cluster = session.scalar(select(Story.cluster_id).where(Story.id == story_id))
        timings.append((time.perf_counter() - started) * 1000)
        found += copy_of is not None and cluster == copy_of
    engine.dispose()
    return {
        "median_ms": statistics.median(timings),
        "p95_ms": p95(timings),
        "copies_found": found,
        "copies": (new + 1) // 2,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=400)
    parser.add_argument("--database-url", help="a PostgreSQL database to fill (its tables are emptied first)")
    args = parser.parse_args(argv)
    if not CORPUS.is_dir():
        print("../shared/corpus is absent", file=sys.stderr)
        return 1
    rng = random.Random(11)
    bases = base_texts(CORPUS)
    with tempfile.TemporaryDirectory() as folder:
        url = archive_url(args.database_url, folder, "bench.db")
        print(f"filling {url.split('://')[0]} with {args.stories:,} stories...", file=sys.stderr)
        fill_seconds = fill(url, args.stories, bases, rng)
        figures = place_new(url, args.stories, args.new, rng)
        size = os.path.getsize(f"{folder}/bench.db") if not args.database_url else None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.stories:,} stored stories, filled in {fill_seconds:.0f} s")
    print(f"placing a new story (store_article, clustering included): median {figures['median_ms']:.2f} ms, "
          f"95th percentile {figures['p95_ms']:.2f} ms, over {args.new} stories")
    print(f"edited copies that joined their story's cluster: {figures['copies_found']} of {figures['copies']}")
    print(f"peak memory of this process {peak:.0f} MiB" + (f"; database {size / 2**20:.0f} MiB" if size else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
