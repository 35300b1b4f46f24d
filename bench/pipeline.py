"""Pages per second of the full crawl (fetch, extract, dedupe, store in SQLite) beside bare trafilatura.

Serves the 181 AEB pages of ``../shared/corpus/articles/aeb`` and an RSS feed of them from a threaded HTTP
server on 127.0.0.1 (in this, the parent, process), then
for each of ``--repeat`` rounds runs, each in a fresh child process so that every run starts cold the way a
scheduled crawl does:

- ``pipeline``: ``crawler.runner.run_crawl`` of one feed source into a fresh SQLite file (delay 0,
  concurrency 16, robots.txt off), the logging the CLI configures;
- ``bare, crawler options``: ``trafilatura.extract(text, url=url, include_comments=False,
  with_metadata=True)`` over the same pages, the text decoded in the clock from the bytes the way Scrapy's
  ``response.text`` does it (w3lib ``html_to_unicode``, Content-Type ``text/html``);
- ``bare, defaults``: ``trafilatura.extract(html_bytes, url=url)``.

Each child imports everything first and times only the work: wall seconds and CPU seconds of the child
process itself (the crawl extracts in worker processes, see crawler/workers.py, so its CPU seconds leave
extraction out). The parent samples the resident memory of the child's whole process tree (workers
included) every 20 ms and reports its peak. The schema of the fresh database is migrated before the clock starts (an archive is
migrated once, not on every crawl). After each crawl the stored story texts are read back from the SQLite
file and scored against the ground-truth ``articleBody`` (bag-of-words token F1).

Prints figures, never asserts them. Usage::

    python bench/pipeline.py [--repeat 3] [--format table|json]
    python bench/pipeline.py --profile [--top 25]   # one pipeline run under cProfile

"RSS start" is the child's own peak RSS when the clock starts (after imports; the bare children also hold
the 181 pages, 31 MB of HTML, by then); "peak RSS" is the peak of its whole process tree.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import platform
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # bench and tests.servers: `python bench/pipeline.py` puts only bench/ first

from bench.extraction import token_f1  # noqa: E402
from bench.procs import tree_rss_kib  # noqa: E402

if TYPE_CHECKING:
    from tests.servers import Outlet
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SOURCE = "aeb"
TARGET_RATIO = 0.8  # the target: the full pipeline at 0.8x or better of bare extraction
F1_FLOOR = 0.94  # the floor for mean token F1 through the whole crawl path
CHILD_TIMEOUT = 900  # seconds; a hung crawl must not hang the benchmark
BARE_VARIANTS = {
    "crawler": "bare extract, crawler options",
    "defaults": "bare extract, trafilatura defaults",
}
_WORD = re.compile(r"\w+")
# extract(..., with_metadata=True) puts a "---\ntitle: ...\n---" header before the text; the crawl stores none.
_METADATA_HEADER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)


# Scoring ------------------------------------------------------------------------------------------------


def page_id(url: str) -> str:
    """``http://127.0.0.1:port/aeb/<id>.html`` -> ``<id>``."""
    return url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".html")


def stored_texts(database: Path) -> dict[str, str]:
    """Page id -> stored story text, for every URL the crawl recorded (a duplicate's URL maps to its story)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT story_urls.url, stories.text FROM story_urls JOIN stories ON stories.id = story_urls.story_id"
        ).fetchall()
    return {page_id(url): text for url, text in rows}


def count_stories(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        return int(connection.execute("SELECT count(*) FROM stories").fetchone()[0])


def mean_f1(texts: dict[str, str], truth: dict[str, str]) -> dict[str, Any]:
    """Mean F1 over the pages that produced a text, and over every page (a missing text scores 0)."""
    scores = {key: token_f1(texts[key], body) for key, body in truth.items() if key in texts}
    total = sum(scores.values())
    return {
        "pages_scored": len(scores),
        "mean_f1": total / len(scores) if scores else 0.0,
        "mean_f1_all_pages": total / len(truth) if truth else 0.0,
        "pages_below_0_5": sorted(key for key, score in scores.items() if score < 0.5),
    }


# Children: each runs one measurement and prints one JSON object as its last line of stdout --------------


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> dict[str, float]:
    wall, cpu = _clock()
    return {"seconds": wall - start[0], "cpu_seconds": cpu - start[1]}


def _preload_scrapy_components() -> None:
    """Import what CrawlerProcess would load lazily (reactor, handlers, middlewares), so the clock skips it."""
    import importlib

    from scrapy.settings import default_settings

    names = [default_settings.TWISTED_REACTOR.rsplit(".", 1)[0]]
    tables = ("DOWNLOAD_HANDLERS_BASE", "DOWNLOADER_MIDDLEWARES_BASE", "EXTENSIONS_BASE", "SPIDER_MIDDLEWARES_BASE")
    for table in tables:
        for key, value in getattr(default_settings, table).items():  # {scheme: path} or {path: order}
            path = value if isinstance(value, str) else key
            names.append(path.rsplit(".", 1)[0])
    for key in dir(default_settings):
        value = getattr(default_settings, key)
        if key.endswith("_CLASS") and isinstance(value, str) and "." in value:
            names.append(value.rsplit(".", 1)[0])
    for name in dict.fromkeys(names):
        try:
            importlib.import_module(name)
        except ImportError:  # an optional handler whose dependency is not installed (s3, ftp ...)
            pass


def pipeline_child(spec: dict[str, Any]) -> dict[str, Any]:
    """One full crawl of the feed into the SQLite file named in ``spec`` (under cProfile when it names a file)."""
    import crawler.pipelines  # noqa: F401 - loaded by name from ITEM_PIPELINES; imported here, outside the clock
    import crawler.safety  # noqa: F401 - likewise, from DOWNLOADER_MIDDLEWARES
    from crawler.runner import run_crawl
    from db.session import open_database
    from newsmon.config_load import validate_config
    from newsmon.logging import configure_logging

    _preload_scrapy_components()
    configure_logging(0)  # what `newsmon crawl` runs with: warnings only, expected failures filtered
    config = validate_config(
        {
            "database": {"url": spec["database_url"]},
            "crawl": {"delay": 0, "concurrency": 16, "allow_private_networks": True, "obey_robots_txt": False},
            "sources": [{"name": SOURCE, "feed": spec["feed_url"]}],
        },
        environ={},  # NEWSMON_DATABASE_URL in the caller's environment must not redirect the benchmark
    )
    open_database(config.database.url).dispose()
    gc.collect()
    rss_at_start = _max_rss_mib()
    profiler = cProfile.Profile() if spec.get("profile") else None
    start = _clock()
    if profiler is None:
        report = run_crawl(config)
    else:
        report = profiler.runcall(run_crawl, config)
    timing = _since(start)
    if profiler is not None:
        profiler.dump_stats(spec["profile"])
    tally = report.tallies[SOURCE]
    return {
        **timing,
        "rss_at_start_mib": rss_at_start,
        "peak_rss_mib": _max_rss_mib(),
        "links": tally.links,
        "new": tally.new,
        "duplicate": tally.duplicate,
        "known": tally.known,
        "failed": tally.failed,
        "error": tally.error,
        "problems": tally.problems,
    }


def decode_like_scrapy(body: bytes, content_type: str = "text/html") -> str:
    """The text Scrapy's ``TextResponse.text`` gives for this body and Content-Type (BOM, header, meta, guess)."""
    from w3lib.encoding import html_to_unicode, resolve_encoding

    def guess(data: bytes) -> str | None:  # TextResponse._auto_detect_fun
        for encoding in ("ascii", "utf-8", "cp1252"):
            try:
                data.decode(encoding)
            except UnicodeError:
                continue
            return resolve_encoding(encoding)
        return None

    return html_to_unicode(content_type, body, auto_detect_fun=guess, default_encoding="ascii")[1]


def bare_child(spec: dict[str, Any]) -> dict[str, Any]:
    """trafilatura.extract over every page, in one process, no HTTP and no database."""
    import trafilatura

    from newsmon.logging import configure_logging
    from tests.servers import aeb_pages

    configure_logging(0)
    urls: dict[str, str] = spec["urls"]
    pages = aeb_pages()
    jobs = [(key, urls[key], html) for key, (html, _) in pages.items()]
    decode_like_scrapy(b"<html></html>")  # imports w3lib outside the clock
    outputs: dict[str, str | None] = {}
    gc.collect()
    rss_at_start = _max_rss_mib()
    start = _clock()
    if spec["variant"] == "crawler":
        for key, url, html in jobs:
            text = decode_like_scrapy(html)
            outputs[key] = trafilatura.extract(text, url=url, include_comments=False, with_metadata=True)
    else:
        for key, url, html in jobs:
            outputs[key] = trafilatura.extract(html, url=url)
    timing = _since(start)
    texts = {key: _METADATA_HEADER.sub("", out) for key, out in outputs.items() if out}
    truth = {key: expected["articleBody"] for key, (_, expected) in pages.items()}
    return {
        **timing,
        "rss_at_start_mib": rss_at_start,
        "peak_rss_mib": _max_rss_mib(),
        "empty": sorted(key for key, out in outputs.items() if not out),
        "quality": mean_f1(texts, truth),
    }


def run_child(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run ``kind`` in a fresh interpreter; returns the JSON it printed. Raises RuntimeError when it fails.

    The crawl extracts in worker processes (crawler.workers), which ru_maxrss of the child does not see, so
    the parent also samples the resident memory of the child's whole process tree (``tree_rss_mib``).
    """
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind]
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=stdout, stderr=stderr, text=True, cwd=REPO)
        assert child.stdin is not None
        child.stdin.write(json.dumps(spec))
        child.stdin.close()
        peak_kib, deadline = 0, time.monotonic() + CHILD_TIMEOUT
        while child.poll() is None:
            peak_kib = max(peak_kib, tree_rss_kib(child.pid))
            if time.monotonic() > deadline:
                child.kill()
                raise RuntimeError(f"{kind} child did not finish within {CHILD_TIMEOUT} s")
            time.sleep(0.02)
        stdout.seek(0)
        stderr.seek(0)
        lines = stdout.read().strip().splitlines()
        if child.returncode != 0 or not lines:
            tail = "\n".join(stderr.read().strip().splitlines()[-15:])
            raise RuntimeError(f"{kind} child exited with {child.returncode}:\n{tail}")
    result: dict[str, Any] = json.loads(lines[-1])
    result["tree_rss_mib"] = peak_kib / 1024
    return result


# The parent: serve, alternate the runs, summarise --------------------------------------------------------


def progress(message: str) -> None:
    if sys.stderr.isatty():
        print(message, file=sys.stderr, flush=True)


def measure(repeat: int) -> dict[str, Any]:
    from tests.servers import Outlet, serve_aeb

    runs: dict[str, list[dict[str, Any]]] = {"pipeline": [], **{variant: [] for variant in BARE_VARIANTS}}
    with Outlet() as outlet:
        feed_url, truth_by_url = serve_aeb(outlet)
        pages = len(truth_by_url)
        truth = {page_id(url): expected["articleBody"] for url, expected in truth_by_url.items()}
        urls = {page_id(url): url for url in truth_by_url}
        kinds = ["pipeline", *BARE_VARIANTS]
        for index in range(repeat):
            # Reverse the order every other round, so a slow drift of the machine favours no one.
            for kind in kinds if index % 2 == 0 else kinds[::-1]:
                progress(f"round {index + 1}/{repeat}: {kind} ...")
                if kind == "pipeline":
                    result = _pipeline_run(feed_url, truth)
                else:
                    result = run_child("bare", {"variant": kind, "urls": urls})
                result["pages_per_second"] = pages / result["seconds"]
                runs[kind].append(result)
                progress(f"  {result['seconds']:.2f} s, {result['pages_per_second']:.1f} pages/s")
    return summarise(runs, pages, repeat)


def _pipeline_run(feed_url: str, truth: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-") as folder:
        database = Path(folder) / "bench.db"
        server_cpu = time.process_time()  # this process does nothing but serve while the child runs
        result = run_child("pipeline", {"feed_url": feed_url, "database_url": f"sqlite:///{database}"})
        result["server_cpu_seconds"] = time.process_time() - server_cpu
        result["stories"] = count_stories(database)
        result["quality"] = mean_f1(stored_texts(database), truth)
    return result


def _figures(results: list[dict[str, Any]]) -> dict[str, Any]:
    rates = [r["pages_per_second"] for r in results]
    return {
        "pages_per_second_best": max(rates),
        "pages_per_second_median": statistics.median(rates),
        "seconds_median": statistics.median(r["seconds"] for r in results),
        "cpu_seconds_median": statistics.median(r["cpu_seconds"] for r in results),
        "rss_at_start_mib_max": max(r["rss_at_start_mib"] for r in results),
        "peak_rss_mib_max": max(r["peak_rss_mib"] for r in results),
        "tree_rss_mib_max": max(r["tree_rss_mib"] for r in results),
        "runs": results,
    }


def summarise(runs: dict[str, list[dict[str, Any]]], pages: int, repeat: int) -> dict[str, Any]:
    figures = {kind: _figures(results) for kind, results in runs.items()}
    pipeline = figures["pipeline"]["pages_per_second_median"]
    ratios = {kind: pipeline / figures[kind]["pages_per_second_median"] for kind in BARE_VARIANTS}
    last = runs["pipeline"][-1]
    return {
        "benchmark": "pipeline",
        "pages": pages,
        "repeat": repeat,
        "python": platform.python_version(),
        "cpus": _cpu_count(),
        "measured": (
            "wall seconds of the work only, in a fresh child process per run (imports and schema migration "
            "before the clock); CPU s = the measured process only (the crawl extracts in worker processes); "
            "HTTP server in the parent process; peak RSS = the child's whole process tree, sampled every 20 ms"
        ),
        "figures": figures,
        "ratio_pipeline_over_bare": ratios,
        "server_cpu_seconds_median": statistics.median(r["server_cpu_seconds"] for r in runs["pipeline"]),
        "extraction_workers": _extraction_workers(),
        "target_ratio": TARGET_RATIO,
        "target_met": ratios["crawler"] >= TARGET_RATIO,
        "stored": {
            "stories": last["stories"],
            "new": last["new"],
            "duplicate": last["duplicate"],
            "known": last["known"],
            "failed": last["failed"],
            "error": last["error"],
            "problems": last["problems"],
            "every_run_stored_all": all(r["new"] + r["duplicate"] == pages for r in runs["pipeline"]),
        },
        "f1_floor": F1_FLOOR,
        "f1_floor_met": all(r["quality"]["mean_f1_all_pages"] >= F1_FLOOR for r in runs["pipeline"]),
    }


def _extraction_workers() -> int:
    from crawler.workers import default_workers

    return default_workers()


def _cpu_count() -> int | None:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count()


def print_table(summary: dict[str, Any]) -> None:
    from tabulate import tabulate

    figures = summary["figures"]
    labels = {"pipeline": "full pipeline (feed -> crawl -> SQLite)", **BARE_VARIANTS}
    rows = []
    for kind, label in labels.items():
        f = figures[kind]
        rows.append([
            label,
            f["pages_per_second_best"],
            f["pages_per_second_median"],
            f["seconds_median"],
            f["cpu_seconds_median"],
            f["rss_at_start_mib_max"],
            f["tree_rss_mib_max"],
        ])
    headers = ["", "pages/s best", "pages/s median", "wall s", "CPU s", "RSS start MiB", "peak RSS MiB"]
    print(
        f"newsmon pipeline benchmark: {summary['pages']} AEB pages, {summary['repeat']} rounds, "
        f"Python {summary['python']}, {summary['cpus']} CPUs"
    )
    print(f"measured: {summary['measured']}")
    print()
    print(tabulate(rows, headers=headers, floatfmt=".1f"))
    print("(medians over the rounds; RSS start = after imports, before the clock; peak RSS = largest of the rounds)")
    print()
    ratios = summary["ratio_pipeline_over_bare"]
    verdict = "met" if summary["target_met"] else "NOT met"
    print(
        f"pipeline / bare, median over median: {ratios['crawler']:.2f}x of bare extract with the crawler's options "
        f"(target {summary['target_ratio']:.1f}x: {verdict}), {ratios['defaults']:.2f}x of trafilatura defaults"
    )
    print(
        f"the crawl extracts in {summary['extraction_workers']} worker processes; the parent (HTTP server and "
        f"memory sampling) used {summary['server_cpu_seconds_median']:.1f} CPU s per crawl"
    )
    stored = summary["stored"]
    print(
        f"stored by the last crawl: {stored['stories']} stories for {summary['pages']} pages "
        f"(new {stored['new']}, duplicate {stored['duplicate']}, known {stored['known']}, failed {stored['failed']})"
        + ("" if stored["every_run_stored_all"] else "; NOT every run stored every page")
    )
    if stored["error"]:
        print(f"  source error: {stored['error']}")
    for url, reason in stored["problems"]:
        print(f"  failed {url}: {reason}")
    for kind, label in labels.items():
        qualities = {round(r["quality"]["mean_f1_all_pages"], 4) for r in figures[kind]["runs"]}
        quality = figures[kind]["runs"][-1]["quality"]
        spread = "" if len(qualities) == 1 else f" (runs ranged {min(qualities):.4f}-{max(qualities):.4f})"
        low = ", ".join(key[:12] for key in quality["pages_below_0_5"]) or "none"
        print(
            f"mean token F1 vs articleBody, {label}: {quality['mean_f1_all_pages']:.4f} over all pages "
            f"({quality['mean_f1']:.4f} over the {quality['pages_scored']} with text){spread}; F1 < 0.5: {low}"
        )
    verdict = "met" if summary["f1_floor_met"] else "NOT met"
    print(f"F1 floor {summary['f1_floor']:.2f} through the crawl path: {verdict}")


def profile_pipeline(top: int) -> None:
    """One pipeline run with cProfile around ``run_crawl`` in the child; prints the ``top`` functions by
    cumulative time, then by own time."""
    import pstats

    from tests.servers import Outlet, serve_aeb

    with Outlet() as outlet, tempfile.TemporaryDirectory(prefix="newsmon-bench-") as folder:
        feed_url, _ = serve_aeb(outlet)
        stats_path = Path(folder) / "pipeline.pstats"
        spec = {
            "feed_url": feed_url,
            "database_url": f"sqlite:///{Path(folder) / 'bench.db'}",
            "profile": str(stats_path),
        }
        result = run_child("pipeline", spec)
        print(f"one profiled pipeline run: {result['seconds']:.2f} s wall, {result['cpu_seconds']:.2f} s CPU")
        stats = pstats.Stats(str(stats_path))
        stats.sort_stats(pstats.SortKey.CUMULATIVE).print_stats(top)
        stats.sort_stats(pstats.SortKey.TIME).print_stats(top)


def child_main(kind: str) -> None:
    spec = json.loads(sys.stdin.read())
    result = pipeline_child(spec) if kind == "pipeline" else bare_child(spec)
    print(json.dumps(result))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Pages per second of the full crawl beside bare trafilatura.")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every measurement (default 3)")
    parser.add_argument("--format", dest="fmt", choices=("table", "json"), default="table")
    parser.add_argument("--profile", action="store_true", help="profile one pipeline run instead")
    parser.add_argument("--top", type=int, default=25, help="functions listed by --profile (default 25)")
    parser.add_argument("--child", choices=("pipeline", "bare"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args.child)
        return 0
    if not (CORPUS / "articles" / SOURCE / "ground-truth.json").is_file():
        message = f"skipped: the corpus is not at {CORPUS} (needs articles/{SOURCE}/)"
        print(json.dumps({"benchmark": "pipeline", "skipped": message}) if args.fmt == "json" else message)
        return 0
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.profile:
        profile_pipeline(args.top)
        return 0
    try:
        summary = measure(args.repeat)
    except RuntimeError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    if args.fmt == "json":
        print(json.dumps(summary, indent=2))
    else:
        print_table(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
