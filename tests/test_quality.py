"""Extraction quality through the whole crawl path, on real pages (skips without ../shared/corpus)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.extraction import token_f1
from tests.conftest import run_newsmon, write_config
from tests.servers import Outlet, serve_aeb

pytestmark = pytest.mark.corpus


def test_aeb_pages_crawled_end_to_end_keep_trafilatura_quality(tmp_path: Path, corpus: Path, outlet: Outlet) -> None:
    feed_url, truth = serve_aeb(outlet)
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'aeb.db'}", [{"name": "aeb", "feed": feed_url}])
    crawl = run_newsmon("--config", str(config), "crawl", "--format", "json")
    assert crawl.returncode == 0, crawl.stderr
    export = run_newsmon("--config", str(config), "export")
    stories = {s["url"]: s for s in map(json.loads, export.stdout.splitlines())}
    assert len(stories) >= 178, json.loads(crawl.stdout)["sources"][0]["problems"]
    scores = [token_f1(stories[url]["text"] if url in stories else "", t["articleBody"]) for url, t in truth.items()]
    mean = sum(scores) / len(scores)
    assert mean >= 0.94, f"mean token F1 {mean:.4f} over {len(scores)} pages"
