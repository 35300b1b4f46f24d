"""CPU, wall time and memory of one ``newsmon crawl`` beside bare trafilatura, every process counted.

Serves the 181 AEB pages of ``../shared/corpus/articles/aeb`` and an RSS feed of them from a threaded HTTP
server on 127.0.0.1 (in this, the parent, process). Each round runs, each as a fresh command:

- ``crawl``: ``newsmon --config ... crawl`` of the feed into a fresh SQLite file (delay 0, concurrency 16,
  robots.txt off): the command a user or the scheduler runs, start-up included;
- ``crawl, 1 page``: the same command on a feed of one page, so that the difference between the two is the
  cost of 180 pages without the start-up (what a page costs in the service, where a batch of sources shares
  one start-up);
- ``bare, crawler options``: one Python process that imports trafilatura, reads the same pages from disk and
  runs ``trafilatura.extract(text, url=url, include_comments=False, with_metadata=True)`` on each, the text
  decoded the way Scrapy's ``response.text`` does it (w3lib ``html_to_unicode``, Content-Type ``text/html``);
- ``bare, defaults``: likewise with ``trafilatura.extract(html_bytes, url=url)``.

Every command runs under ``python -m bench.procs``, which waits for every process the command started (the
crawl's fork server and extraction workers included) and reports their CPU seconds together; the parent
samples the resident memory of the whole process tree every 20 ms and reports its peaks: summed RSS (a page
the fork server shares with its workers counts in each) and summed PSS (shared pages split between the
processes sharing them: what the tree really holds, the figure held against the 400 MiB target). The bare children
also time their own extraction loop ("work CPU s"), the per-page cost the crawl's per-page figure is set
against. After each crawl the stored story texts are read back from the SQLite file and scored against the
ground-truth ``articleBody`` (bag-of-words token F1).

Prints figures, never asserts them. Usage::

    python bench/pipeline.py [--repeat 3] [--format table|json]
    python bench/pipeline.py --profile [--top 25]   # one crawl run in-process under cProfile
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
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # bench and tests.servers: `python bench/pipeline.py` puts only bench/ first

from bench.extraction import token_f1  # noqa: E402
from bench.procs import tree_memory_kib  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SOURCE = "aeb"
F1_FLOOR = 0.94  # the floor for mean token F1 through the whole crawl path
CHILD_TIMEOUT = 900  # seconds; a hung crawl must not hang the benchmark
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


def database_bytes(database: Path) -> int:
    """Bytes the SQLite archive's pages hold (its free pages left out), after the crawl closed it."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        pages, free, size = (connection.execute(f"PRAGMA {name}").fetchone()[0]
                             for name in ("page_count", "freelist_count", "page_size"))
    return int((pages - free) * size)


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


def _read_aeb() -> dict[str, tuple[bytes, dict[str, str]]]:
    """The AEB pages (id -> (html bytes, ground truth)), as tests.servers.aeb_pages reads them."""
    import gzip

    folder = CORPUS / "articles" / SOURCE
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    return {key: (gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes()), value)
            for key, value in truth.items()}


def bare_child(spec: dict[str, Any]) -> dict[str, Any]:
    """trafilatura.extract over every page, in one process, no HTTP and no database."""
    import trafilatura

    from newsmon.logging import configure_logging

    configure_logging(0)  # what `newsmon crawl` runs with
    urls: dict[str, str] = spec["urls"]
    pages = _read_aeb()  # straight from the files: this process's CPU counts, the test servers' imports must not
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
    work = _since(start)
    timing = {"work_seconds": work["seconds"], "work_cpu_seconds": work["cpu_seconds"]}
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
    """Run ``kind`` in a fresh interpreter; returns the JSON it printed. Raises RuntimeError when it fails."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind]
    stdout, _ = run_counted(command, json.dumps(spec))
    return json.loads(stdout.strip().splitlines()[-1])


def run_counted(command: list[str], stdin: str = "", env: dict[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """Run ``command`` under ``bench.procs`` (every process it starts counted); returns its stdout and the
    figures: wall and CPU seconds of the whole tree, and its peak resident memory sampled every 20 ms."""
    counted = [sys.executable, "-m", "bench.procs", "--", *command]
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        child = subprocess.Popen(counted, stdin=subprocess.PIPE, stdout=stdout, stderr=stderr, text=True,
                                 cwd=REPO, env=env)
        assert child.stdin is not None
        child.stdin.write(stdin)
        child.stdin.close()
        peak, deadline = {"rss": 0, "pss": 0}, time.monotonic() + CHILD_TIMEOUT
        while child.poll() is None:
            # The counter itself (a small Python process waiting) is left out of the memory figures.
            for kind, kib in tree_memory_kib(child.pid, with_root=False).items():
                peak[kind] = max(peak[kind], kib)
            if time.monotonic() > deadline:
                child.kill()
                raise RuntimeError(f"{command[:3]} did not finish within {CHILD_TIMEOUT} s")
            time.sleep(0.02)
        stdout.seek(0)
        stderr.seek(0)
        errors = stderr.read().strip().splitlines()
        figures = json.loads(errors[-1]) if errors and errors[-1].startswith("{") else None
        if child.returncode != 0 or figures is None or figures["returncode"] != 0:
            raise RuntimeError(f"{' '.join(command[:4])} ... failed:\n" + "\n".join(errors[-15:]))
        figures["peak_rss_mib"], figures["peak_pss_mib"] = peak["rss"] / 1024, peak["pss"] / 1024
        return stdout.read(), figures


# The parent: serve, alternate the runs, summarise --------------------------------------------------------

KINDS = {
    "crawl": "newsmon crawl, 181 pages",
    "crawl_one": "newsmon crawl, 1 page",
    "crawler": "bare extract, crawler options",
    "defaults": "bare extract, trafilatura defaults",
}
TARGET_CPU_RATIO = 1.5  # issue 21: a whole crawl at most 1.5x the CPU of bare extraction in one process
TARGET_SPEEDUP = 1.25  # ...and its wall time 1.25x shorter on 2 cores
TARGET_PAGE_RATIO = 1.2  # ...and, start-up aside, a page at most 1.2x bare extraction's CPU
TARGET_PEAK_MIB = 400


def progress(message: str) -> None:
    if sys.stderr.isatty():
        print(message, file=sys.stderr, flush=True)


def measure(repeat: int) -> dict[str, Any]:
    from tests.servers import Outlet, rss, serve_aeb

    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    with Outlet() as outlet:
        feed_url, truth_by_url = serve_aeb(outlet)
        first = next(iter(truth_by_url))
        one_url = outlet.add("/aeb/one.xml", rss([{"title": "one", "link": first}], "AEB"),
                             content_type="application/rss+xml")
        pages = len(truth_by_url)
        truth = {page_id(url): expected["articleBody"] for url, expected in truth_by_url.items()}
        urls = {page_id(url): url for url in truth_by_url}
        kinds = list(KINDS)
        for index in range(repeat):
            # Reverse the order every other round, so a slow drift of the machine favours no one.
            for kind in kinds if index % 2 == 0 else kinds[::-1]:
                progress(f"round {index + 1}/{repeat}: {KINDS[kind]} ...")
                if kind in ("crawl", "crawl_one"):
                    result = _crawl_run(feed_url if kind == "crawl" else one_url, truth)
                else:
                    stdout, result = run_counted([sys.executable, str(Path(__file__).resolve()), "--child", "bare"],
                                                 json.dumps({"variant": kind, "urls": urls}))
                    result.update(json.loads(stdout.strip().splitlines()[-1]))
                runs[kind].append(result)
                progress(f"  {result['wall_seconds']:.2f} s, {result['cpu_seconds']:.2f} CPU s")
    return summarise(runs, pages, repeat)


def _crawl_run(feed_url: str, truth: dict[str, str]) -> dict[str, Any]:
    """One ``newsmon crawl`` of ``feed_url`` into a fresh, migrated SQLite archive (the migration uncounted:
    an archive is migrated once, not on every crawl)."""
    import yaml

    with tempfile.TemporaryDirectory(prefix="newsmon-bench-") as folder:
        database = Path(folder) / "bench.db"
        config = Path(folder) / "config.yaml"
        config.write_text(yaml.safe_dump({
            "database": {"url": f"sqlite:///{database}"},
            "crawl": {"delay": 0, "concurrency": 16, "allow_private_networks": True, "obey_robots_txt": False},
            "sources": [{"name": SOURCE, "feed": feed_url}],
        }), encoding="utf-8")
        # NEWSMON_DATABASE_URL and the like in the caller's environment must not redirect the benchmark.
        env = {key: value for key, value in os.environ.items() if not key.startswith("NEWSMON_")}
        newsmon = _newsmon_command()
        subprocess.run([*newsmon, "--config", str(config), "db", "upgrade"], check=True, env=env,
                       capture_output=True, cwd=REPO)
        stdout, result = run_counted([*newsmon, "--config", str(config), "crawl", "--format", "json"], env=env)
        row = json.loads(stdout)["sources"][0]
        result.update({key: row[key] for key in ("links", "new", "duplicate", "known", "failed", "problems")})
        result["error"] = row.get("error")
        result["stories"] = count_stories(database)
        result["database_bytes"] = database_bytes(database)
        result["quality"] = mean_f1(stored_texts(database), truth)
    return result


def _newsmon_command() -> list[str]:
    """The console script a user runs, next to this interpreter (``python -m newsmon`` where there is none)."""
    script = Path(sys.executable).with_name("newsmon")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "newsmon"]


def _figures(results: list[dict[str, Any]]) -> dict[str, Any]:
    def median(key: str) -> float:
        return statistics.median(r[key] for r in results)

    figures = {
        "wall_seconds_median": median("wall_seconds"),
        "cpu_seconds_median": median("cpu_seconds"),
        "peak_rss_mib_max": max(r["peak_rss_mib"] for r in results),
        "peak_pss_mib_max": max(r["peak_pss_mib"] for r in results),
        "runs": results,
    }
    if "work_cpu_seconds" in results[0]:
        figures["work_cpu_seconds_median"] = median("work_cpu_seconds")
    return figures


def summarise(runs: dict[str, list[dict[str, Any]]], pages: int, repeat: int) -> dict[str, Any]:
    figures = {kind: _figures(results) for kind, results in runs.items()}
    crawl, one, bare = figures["crawl"], figures["crawl_one"], figures["crawler"]
    per_page = (crawl["cpu_seconds_median"] - one["cpu_seconds_median"]) / (pages - 1)
    bare_per_page = bare["work_cpu_seconds_median"] / pages
    ratios = {
        "cpu_crawl_over_bare": crawl["cpu_seconds_median"] / bare["cpu_seconds_median"],
        "cpu_crawl_over_bare_defaults": crawl["cpu_seconds_median"] / figures["defaults"]["cpu_seconds_median"],
        "wall_speedup_over_bare": bare["wall_seconds_median"] / crawl["wall_seconds_median"],
        "page_cpu_over_bare": per_page / bare_per_page,
    }
    last = runs["crawl"][-1]
    return {
        "benchmark": "pipeline",
        "pages": pages,
        "repeat": repeat,
        "python": platform.python_version(),
        "cpus": _cpu_count(),
        "extraction_workers": _extraction_workers(),
        "measured": (
            "each run a fresh command; CPU s = every process it started (python -m bench.procs), start-up "
            "included; wall s = start to the last process's exit; peak RSS and PSS = the whole process tree, "
            "sampled every 20 ms (RSS counts pages a forked worker shares in each process, PSS splits them); HTTP server in the benchmark's own process"
        ),
        "figures": figures,
        "page_cpu_seconds": {"crawl": per_page, "bare": bare_per_page},
        "ratios": ratios,
        "targets": {
            "cpu_crawl_over_bare": [TARGET_CPU_RATIO, ratios["cpu_crawl_over_bare"] <= TARGET_CPU_RATIO],
            "wall_speedup_over_bare": [TARGET_SPEEDUP, ratios["wall_speedup_over_bare"] >= TARGET_SPEEDUP],
            "page_cpu_over_bare": [TARGET_PAGE_RATIO, ratios["page_cpu_over_bare"] <= TARGET_PAGE_RATIO],
            "peak_pss_mib": [TARGET_PEAK_MIB, crawl["peak_pss_mib_max"] < TARGET_PEAK_MIB],
        },
        "pages_per_second_median": pages / crawl["wall_seconds_median"],
        "sqlite_bytes_per_story": last["database_bytes"] / max(1, last["stories"]),
        "stored": {
            "stories": last["stories"],
            "new": last["new"],
            "duplicate": last["duplicate"],
            "known": last["known"],
            "failed": last["failed"],
            "error": last["error"],
            "problems": last["problems"],
            "every_run_stored_all": all(r["new"] + r["duplicate"] == pages for r in runs["crawl"]),
        },
        "f1_floor": F1_FLOOR,
        "f1_floor_met": all(r["quality"]["mean_f1_all_pages"] >= F1_FLOOR for r in runs["crawl"]),
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
    rows = []
    for kind, label in KINDS.items():
        f = figures[kind]
        work = f.get("work_cpu_seconds_median")
        rows.append([label, f["wall_seconds_median"], f["cpu_seconds_median"],
                     "" if work is None else f"{work:.2f}", f["peak_rss_mib_max"], f["peak_pss_mib_max"]])
    print(
        f"newsmon pipeline benchmark: {summary['pages']} AEB pages, {summary['repeat']} rounds, "
        f"Python {summary['python']}, {summary['cpus']} CPUs, {summary['extraction_workers']} extraction workers"
    )
    print(f"measured: {summary['measured']}")
    print()
    print(tabulate(rows, headers=["", "wall s", "CPU s", "work CPU s", "peak RSS MiB", "peak PSS MiB"], floatfmt=".2f"))
    print("(medians over the rounds; work CPU s = the bare child's extraction loop alone; peaks = largest)")
    print()
    ratios, targets, page = summary["ratios"], summary["targets"], summary["page_cpu_seconds"]

    def verdict(key: str) -> str:
        return "met" if targets[key][1] else "NOT met"

    print(f"CPU of a whole crawl / bare extraction in one process: {ratios['cpu_crawl_over_bare']:.2f}x "
          f"(target at most {TARGET_CPU_RATIO}x: {verdict('cpu_crawl_over_bare')}); "
          f"{ratios['cpu_crawl_over_bare_defaults']:.2f}x of trafilatura's defaults")
    print(f"wall time: bare / crawl = {ratios['wall_speedup_over_bare']:.2f}x "
          f"(target at least {TARGET_SPEEDUP}x: {verdict('wall_speedup_over_bare')}); "
          f"{summary['pages_per_second_median']:.1f} pages/s")
    print(f"CPU per page without start-up: crawl {page['crawl'] * 1000:.1f} ms (181 pages less 1 page, over 180), "
          f"bare {page['bare'] * 1000:.1f} ms: {ratios['page_cpu_over_bare']:.2f}x "
          f"(target at most {TARGET_PAGE_RATIO}x: {verdict('page_cpu_over_bare')})")
    print(f"peak memory of the crawl: {figures['crawl']['peak_pss_mib_max']:.0f} MiB held (PSS; target under "
          f"{TARGET_PEAK_MIB}: {verdict('peak_pss_mib')}), {figures['crawl']['peak_rss_mib_max']:.0f} MiB "
          f"summed RSS")
    print(f"SQLite archive after the crawl: {summary['sqlite_bytes_per_story'] / 1024:.1f} KiB per stored story")
    stored = summary["stored"]
    print(
        f"stored by the last crawl: {stored['stories']} stories for {summary['pages']} pages "
        f"(new {stored['new']}, duplicate {stored['duplicate']}, known {stored['known']}, failed {stored['failed']})"
        + ("" if stored["every_run_stored_all"] else "; NOT every run stored every page")
    )
    if stored["error"]:
        print(f"  source error: {stored['error']}")
    for problem in stored["problems"]:
        print(f"  failed {problem}")
    for kind in ("crawl", "crawler", "defaults"):
        qualities = {round(r["quality"]["mean_f1_all_pages"], 4) for r in figures[kind]["runs"]}
        quality = figures[kind]["runs"][-1]["quality"]
        spread = "" if len(qualities) == 1 else f" (runs ranged {min(qualities):.4f}-{max(qualities):.4f})"
        low = ", ".join(key[:12] for key in quality["pages_below_0_5"]) or "none"
        print(
            f"mean token F1 vs articleBody, {KINDS[kind]}: {quality['mean_f1_all_pages']:.4f} over all pages "
            f"({quality['mean_f1']:.4f} over the {quality['pages_scored']} with text){spread}; F1 < 0.5: {low}"
        )
    verdict_f1 = "met" if summary["f1_floor_met"] else "NOT met"
    print(f"F1 floor {summary['f1_floor']:.2f} through the crawl path: {verdict_f1}")


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
