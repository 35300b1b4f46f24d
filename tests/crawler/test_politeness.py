"""A crawl is polite: robots.txt obeyed, the per-host delay kept, and the configured User-Agent on every request."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

from tests.conftest import run_newsmon, write_config
from tests.servers import Outlet, article_page, rss

PARAGRAPHS = [
    "Negotiators from both delegations met in Geneva on Sunday to go through the revised draft line by line.",
    "A prisoner exchange is expected before the end of the month, according to two people familiar with the talks.",
    "The next round is planned for the following week, officials said after the meeting ended late in the evening.",
]
USER_AGENT = "newsmon-test/1.0 (+mailto:desk@example.org)"
DELAY = 0.4  # seconds; Scrapy waits 0.5x to 1.5x of it between two requests to one host


def test_robots_txt_delay_and_user_agent_are_obeyed(tmp_path: Path, outlet: Outlet) -> None:
    outlet.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    # Each story's own text (the headline is not part of it): three stories, not one and two copies.
    allowed = [outlet.add(f"/news/2026/11/24/story-{i}", article_page(f"Story {i}", [f"Report number {i}.", *PARAGRAPHS]))
               for i in range(3)]
    private = outlet.add("/private/2026/11/24/draft", article_page("Draft", PARAGRAPHS))
    items = [{"title": url.rsplit("/", 1)[1], "link": url} for url in [*allowed, private]]
    outlet.add("/feed.xml", rss(items), content_type="application/rss+xml")
    config = write_config(
        tmp_path / "config.yaml",
        f"sqlite:///{tmp_path / 'newsmon.db'}",
        [{"name": "outlet", "feed": outlet.url("/feed.xml")}],
        crawl={"obey_robots_txt": True, "delay": DELAY, "user_agent": USER_AGENT},
    )

    result = run_newsmon("--config", str(config), "crawl", "--format", "json")

    assert result.returncode == 0, result.stderr
    [row] = json.loads(result.stdout)["sources"]
    assert row["new"] == 3
    assert {p["url"]: p["reason"] for p in row["problems"]} == {private: "Forbidden by robots.txt"}
    assert outlet.hits["/private/2026/11/24/draft"] == 0
    assert outlet.requests[0][0] == "/robots.txt"  # asked for before anything else on the host
    assert {headers.get("User-Agent") for _, headers in outlet.requests} == {USER_AGENT}
    assert len(outlet.times) == 5  # robots.txt, the feed, three articles
    gaps = [later - earlier for earlier, later in pairwise(outlet.times[1:])]  # robots.txt is fetched at once
    assert min(gaps) >= 0.5 * DELAY * 0.9, gaps
