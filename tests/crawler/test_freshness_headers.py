"""What a listing says about when to ask again reaches the crawl's report (and so the service's schedule)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_newsmon, write_config
from tests.servers import Outlet, rss


def test_retry_after_and_max_age_are_reported_per_source(tmp_path: Path, outlet: Outlet) -> None:
    outlet.add("/busy.xml", "slow down", status=429, content_type="text/plain", headers={"Retry-After": "120"})
    outlet.add("/cached.xml", rss([]), content_type="application/rss+xml",
               headers={"Cache-Control": "public, max-age=900"})
    outlet.add("/plain.xml", rss([]), content_type="application/rss+xml")
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'n.db'}", [
        {"name": "busy", "feed": outlet.url("/busy.xml")},
        {"name": "cached", "feed": outlet.url("/cached.xml")},
        {"name": "plain", "feed": outlet.url("/plain.xml")},
    ])
    result = run_newsmon("--config", str(config), "crawl", "--no-deliver", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = {row["source"]: row for row in json.loads(result.stdout)["sources"]}
    assert rows["busy"]["status"] == "failed" and rows["busy"]["error"] == "HTTP 429"
    assert rows["busy"]["retry_after"] == 120
    assert outlet.hits["/busy.xml"] == 1  # not retried at once, as a 503 would be
    assert rows["cached"]["max_age"] == 900 and rows["cached"]["retry_after"] is None
    assert rows["plain"]["max_age"] is None
    assert rows["plain"]["seconds"] is not None and rows["plain"]["seconds"] >= 0
