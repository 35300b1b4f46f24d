"""Only recent sitemap entries are fetched, and no listing floods a crawl however many links it holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import crawl, write_config
from tests.servers import Outlet, article_page, rss

NOW = datetime.now(UTC)
PARAGRAPHS = [("Negotiators met in Geneva on Sunday to discuss the ceasefire and the exchange of prisoners, "
               "officials from both delegations said after six hours of talks behind closed doors in the old city."),
              "A second round is planned for next week, when the foreign ministers are expected to join them."]


def _urlset(entries: list[tuple[str, datetime | None]]) -> str:
    urls = "".join(
        f"<url><loc>{loc}</loc>" + (f"<lastmod>{when.isoformat()}</lastmod>" if when else "") + "</url>"
        for loc, when in entries
    )
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'


def _crawl(tmp_path: Path, sources: list[dict[str, str]], **settings: object) -> dict[str, dict[str, object]]:
    """The rows of a crawl of ``sources`` with these crawl settings, by source."""
    return crawl(write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'n.db'}", sources,
                              crawl=settings)).rows


def test_only_sitemap_entries_within_the_window_are_fetched(tmp_path: Path, outlet: Outlet) -> None:
    ages = {"fresh": timedelta(hours=2), "yesterday": timedelta(days=1), "old": timedelta(days=5), "undated": None}
    entries = []
    for name, age in ages.items():
        url = outlet.add(f"/news/{name}", article_page(f"Story {name}", [f"{name}. {PARAGRAPHS[0]}", PARAGRAPHS[1]]))
        entries.append((url, NOW - age if age else None))
    outlet.add("/sitemap.xml", _urlset(entries), content_type="application/xml")
    rows = _crawl(tmp_path, [{"name": "site", "sitemap": outlet.url("/sitemap.xml")}])
    assert rows["site"]["new"] == 3
    assert outlet.hits["/news/old"] == 0
    assert all(outlet.hits[f"/news/{name}"] == 1 for name in ("fresh", "yesterday", "undated"))
    # A wider window takes the old one too.
    rows = _crawl(tmp_path, [{"name": "site", "sitemap": outlet.url("/sitemap.xml")}], sitemap_window="7d")
    assert rows["site"]["new"] == 1 and outlet.hits["/news/old"] == 1


def test_an_indexs_old_sitemaps_are_not_read(tmp_path: Path, outlet: Outlet) -> None:
    recent = outlet.add("/news/recent", article_page("Recent", PARAGRAPHS))
    outlet.add("/sitemap-today.xml", _urlset([(recent, NOW)]), content_type="application/xml")
    outlet.add("/sitemap-2019.xml", _urlset([(outlet.url("/news/ancient"), None)]), content_type="application/xml")
    index = (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{outlet.url('/sitemap-today.xml')}</loc><lastmod>{NOW.isoformat()}</lastmod></sitemap>"
        f"<sitemap><loc>{outlet.url('/sitemap-2019.xml')}</loc><lastmod>2019-05-01</lastmod></sitemap>"
        "</sitemapindex>"
    )
    outlet.add("/index.xml", index, content_type="application/xml")
    rows = _crawl(tmp_path, [{"name": "site", "sitemap": outlet.url("/index.xml")}])
    assert rows["site"]["new"] == 1 and rows["site"]["status"] == "ok"
    assert outlet.hits["/sitemap-2019.xml"] == 0


def test_a_listing_with_thousands_of_links_is_cut_to_the_newest_and_says_so(tmp_path: Path, outlet: Outlet) -> None:
    items = [{"title": f"Item {n}", "link": outlet.url(f"/item/{n}"), "pubDate": (NOW - timedelta(minutes=n))
              .strftime("%a, %d %b %Y %H:%M:%S +0000")} for n in range(10_000)]
    outlet.add("/huge.xml", rss(items[::-1]), content_type="application/rss+xml")  # oldest first, to be sorted
    outlet.add("/small.xml", rss([]), content_type="application/rss+xml")
    rows = _crawl(tmp_path, [{"name": "huge", "feed": outlet.url("/huge.xml")},
                             {"name": "small", "feed": outlet.url("/small.xml")}], max_links=20)
    huge = rows["huge"]
    assert huge["status"] == "partial" and huge["links"] == 20
    assert huge["problems"][0] == {"url": outlet.url("/huge.xml"),
                                   "reason": "lists 10000 links; only the newest 20 are read (crawl.max_links)"}
    fetched = {path for path, _ in outlet.requests if path.startswith("/item/")}
    assert fetched == {f"/item/{n}" for n in range(20)}  # the newest twenty, not the first twenty listed
    assert rows["small"]["status"] == "ok"
