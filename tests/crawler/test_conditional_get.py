"""Conditional GET of listings against a real outlet: a 304 costs no parsing and never hides a story."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import crawl, write_config
from tests.servers import Outlet, article_page, rss

PARAGRAPHS = [
    "Negotiators from both delegations met in Geneva on Sunday to go through the revised draft line by line, "
    "officials said after the meeting ended late in the evening.",
    "A prisoner exchange is expected before the end of the month, according to two people familiar with the talks.",
]


def _serve(outlet: Outlet, count: int, **validators: str) -> str:
    items = []
    for number in range(1, count + 1):
        url = outlet.add(f"/world/story-{number}.html", article_page(f"Story {number}", [f"Story {number}.", *PARAGRAPHS]))
        items.append({"title": f"Story {number}", "link": url})
    return outlet.add("/rss.xml", rss(items), content_type="application/rss+xml", **validators)


def _feed_headers(outlet: Outlet) -> dict[str, str]:
    return [headers for path, headers in outlet.requests if path == "/rss.xml"][-1]


def test_an_unchanged_feed_answers_304_and_a_changed_one_is_read(tmp_path: Path, database_url: str, outlet: Outlet) -> None:
    feed = _serve(outlet, 2, etag='"v1"')
    config = write_config(tmp_path / "config.yaml", database_url, [{"name": "wire", "feed": feed}])
    first = crawl(config).only
    assert (first["status"], first["new"]) == ("ok", 2)
    assert "If-None-Match" not in _feed_headers(outlet)

    second = crawl(config).only
    assert _feed_headers(outlet)["If-None-Match"] == '"v1"'
    assert (second["status"], second["links"], second["new"]) == ("unchanged", 0, 0)

    _serve(outlet, 3, etag='"v2"')  # a new story: a new ETag
    third = crawl(config).only
    assert (third["status"], third["new"], third["known"]) == ("ok", 1, 2)
    assert crawl(config).only["status"] == "unchanged"
    assert _feed_headers(outlet)["If-None-Match"] == '"v2"'


def test_last_modified_alone_is_used_too(tmp_path: Path, database_url: str, outlet: Outlet) -> None:
    stamp = "Tue, 24 Nov 2026 06:00:00 GMT"
    feed = _serve(outlet, 1, last_modified=stamp)
    config = write_config(tmp_path / "config.yaml", database_url, [{"name": "wire", "feed": feed}])
    assert crawl(config).only["new"] == 1
    assert crawl(config).only["status"] == "unchanged"
    assert _feed_headers(outlet)["If-Modified-Since"] == stamp


def test_a_listing_read_with_a_failed_page_is_read_again_in_full(tmp_path: Path, database_url: str, outlet: Outlet) -> None:
    feed = _serve(outlet, 2, etag='"v1"')
    outlet.routes["/world/story-2.html"].status = 404  # listed before the page went up
    config = write_config(tmp_path / "config.yaml", database_url, [{"name": "wire", "feed": feed}])
    first = crawl(config).only
    assert (first["status"], first["new"], first["failed"]) == ("partial", 1, 1)

    outlet.routes["/world/story-2.html"].status = 200
    second = crawl(config).only  # no 304: the story that failed is fetched and stored
    assert "If-None-Match" not in _feed_headers(outlet)
    assert (second["status"], second["new"]) == ("ok", 1)
    assert crawl(config).only["status"] == "unchanged"


def test_a_source_given_another_url_forgets_the_old_validators(tmp_path: Path, database_url: str, outlet: Outlet) -> None:
    feed = _serve(outlet, 1, etag='"v1"')
    config = write_config(tmp_path / "config.yaml", database_url, [{"name": "wire", "feed": feed}])
    assert crawl(config).only["status"] == "ok"
    moved = outlet.add("/feeds/world.xml", outlet.routes["/rss.xml"].body, content_type="application/rss+xml",
                       etag='"v1"')
    write_config(tmp_path / "config.yaml", database_url, [{"name": "wire", "feed": moved}])
    assert crawl(config).only["status"] == "ok"
    assert "If-None-Match" not in [headers for path, headers in outlet.requests if path == "/feeds/world.xml"][-1]
