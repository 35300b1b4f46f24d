"""End to end: `newsmon crawl` against loopback outlets, then the archive read back through the database and CLI."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import CrawlProblem, CrawlRun, Story
from db.session import make_engine
from tests.conftest import crawl, run_newsmon, write_config
from tests.servers import Outlet, article_page, rfc822, rss

PARAGRAPHS = [
    "Ukrainian and American negotiators met in Geneva on Sunday to refine the 20-point peace plan, "
    "officials from both delegations said after more than six hours of talks.",
    "The revised draft keeps the security guarantees that Kyiv insisted on, according to two people "
    "familiar with the discussions, while questions about territory remain open.",
    "A prisoner exchange agreed last week is expected to take place before the end of the month, "
    "the Ukrainian ombudsman said in a statement published on Monday morning.",
]


def _page(title: str, extra: str = "") -> str:
    return article_page(title, [*PARAGRAPHS, f"{title}. {extra}".strip()])


def _stories(database_url: str) -> list[Story]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        stories = list(session.scalars(select(Story).order_by(Story.id)).unique())
    engine.dispose()
    return stories


def test_crawl_stores_clean_stories_once_across_outlets_and_crawls(
    tmp_path: Path, database_url: str, outlet: Outlet, second_outlet: Outlet
) -> None:
    published = datetime(2026, 11, 23, 18, 5, tzinfo=UTC)
    a = outlet.add("/world/2026/11/23/geneva-talks-peace-plan", _page("Geneva talks refine peace plan"))
    b = outlet.add("/world/2026/11/23/odesa-strikes-overnight", _page("Strikes on Odesa overnight", "Odesa port hit."))
    # The wire copy of story A, syndicated under another outlet's URL with its own page template.
    copy = second_outlet.add("/wire/geneva-talks-copy", _page("Geneva talks refine peace plan"))
    outlet.add("/feed.xml", rss([
        {"title": "Geneva talks refine peace plan", "link": a + "?utm_source=rss&utm_medium=feed", "pubDate": rfc822(published)},
        {"title": "Strikes on Odesa overnight", "link": b + "#comments"},
    ]), content_type="application/rss+xml")
    second_outlet.add("/rss", rss([{"title": "Geneva talks (wire)", "link": copy}]), content_type="application/rss+xml")
    config = write_config(tmp_path / "config.yaml", database_url, [
        {"name": "outlet-a", "feed": outlet.url("/feed.xml"), "language": "en"},
        {"name": "outlet-b", "feed": second_outlet.url("/rss")},
    ])

    summary = crawl(config).report

    assert summary["totals"]["new"] == 2
    assert summary["totals"]["duplicate"] == 1
    assert summary["totals"]["failed"] == 0
    stories = sorted(_stories(database_url), key=lambda story: story.title)  # extraction runs in parallel
    assert [s.title for s in stories] == ["Geneva talks refine peace plan", "Strikes on Odesa overnight"]
    geneva = stories[0]
    assert {u.url for u in geneva.urls} == {a, copy}  # tracking parameters gone, the copy's URL known
    assert geneva.published_at == published  # the page gives no date: the feed's is kept, whichever copy came first
    assert "security guarantees" in geneva.text
    assert "All rights reserved" not in geneva.text and "Politics" not in geneva.text
    assert geneva.language == "en"

    # A second crawl fetches no article page again.
    hits = dict(outlet.hits)
    again = crawl(config).report
    assert again["totals"]["new"] == 0 and again["totals"]["known"] == 3
    assert outlet.hits["/world/2026/11/23/geneva-talks-peace-plan"] == hits["/world/2026/11/23/geneva-talks-peace-plan"] == 1
    assert outlet.hits["/feed.xml"] == 2
    assert len(_stories(database_url)) == 2


def test_a_broken_source_is_reported_in_one_line_and_the_others_go_on(
    tmp_path: Path, database_url: str, outlet: Outlet
) -> None:
    good = outlet.add("/news/2026/11/24/kyiv-talks", _page("Kyiv hosts talks"))
    short = outlet.add("/news/2026/11/24/teaser-only", "<html><body><p>Subscribe to read.</p></body></html>")
    outlet.add("/good.xml", rss([{"title": "Kyiv", "link": good}, {"title": "Teaser", "link": short},
                                 {"title": "Gone", "link": outlet.url("/news/2026/11/24/deleted-story")}]),
               content_type="application/rss+xml")
    outlet.add("/html-not-feed", "<!doctype html><html><head><title>Moved</title></head><body>Moved</body></html>")
    outlet.add("/empty.xml", b"", content_type="application/rss+xml")
    outlet.add("/broken.xml", b'<?xml version="1.0"?><rss><channel><title>x</ti', content_type="text/xml")
    config = write_config(tmp_path / "config.yaml", database_url, [
        {"name": "good", "feed": outlet.url("/good.xml")},
        {"name": "html", "feed": outlet.url("/html-not-feed")},
        {"name": "empty", "feed": outlet.url("/empty.xml")},
        {"name": "broken", "feed": outlet.url("/broken.xml")},
        {"name": "missing", "feed": outlet.url("/no-such-feed.xml")},
        {"name": "refused", "feed": "http://127.0.0.1:9/feed.xml"},
    ])

    summary = crawl(config).report

    by_name = {row["source"]: row for row in summary["sources"]}
    # The subscribe-to-read page is stored as a paywalled story (known, never alerted on), not as a problem.
    assert by_name["good"]["new"] == 2 and by_name["good"]["status"] == "partial"
    reasons = {p["url"]: p["reason"] for p in by_name["good"]["problems"]}
    assert short not in reasons
    assert reasons[outlet.url("/news/2026/11/24/deleted-story")] == "HTTP 404"
    assert by_name["html"]["error"] == "not a feed: the response is an HTML page"
    assert by_name["empty"]["error"] == "empty response where a feed was expected"
    assert by_name["broken"]["error"].startswith("not a feed:")
    assert by_name["missing"]["error"] == "HTTP 404"
    assert by_name["refused"]["error"] == "connection refused"
    for row in summary["sources"]:
        assert "\n" not in (row["error"] or "")
    # Every run and problem is recorded against its source.
    engine = make_engine(database_url)
    with Session(engine) as session:
        runs = {run.source.name: run for run in session.scalars(select(CrawlRun))}
        assert runs["html"].status == "failed" and runs["html"].error == by_name["html"]["error"]
        assert runs["good"].new == 2 and runs["good"].failed == 1
        assert len(session.scalars(select(CrawlProblem)).all()) == 1
        statuses = {story.url: story.status for story in session.scalars(select(Story))}
        assert statuses == {good: "article", short: "paywalled"}
    engine.dispose()


def test_private_addresses_are_refused_unless_allowed(tmp_path: Path, database_url: str, outlet: Outlet) -> None:
    outlet.add("/feed.xml", rss([]), content_type="application/rss+xml")
    config = write_config(tmp_path / "config.yaml", database_url, [{"name": "local", "feed": outlet.url("/feed.xml")}],
                          crawl={"allow_private_networks": False})
    summary = crawl(config).report
    assert summary["sources"][0]["error"].startswith("refused: 127.0.0.1 is not a public address")
    assert outlet.hits["/feed.xml"] == 0


def test_sitemap_index_gzip_and_section_page_sources(tmp_path: Path, database_url: str, outlet: Outlet) -> None:
    # A news sitemap lists only what is recent (crawl.sitemap_window): the entry is dated three hours ago.
    published = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)
    one = outlet.add(f"/politics/{published:%Y/%m/%d}/rubio-meets-delegation", _page("Rubio meets delegation"))
    two = outlet.add("/world/europe/zelenskyy-speaks-to-parliament-123456", _page("Zelenskyy speaks to parliament"))
    three = outlet.add("/world/putin-comments-on-peace-framework", _page("Putin comments on the framework"))
    news = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>{one}</loc><news:news><news:publication_date>{published.astimezone(timezone(timedelta(hours=1))).isoformat()}</news:publication_date>
<news:title>Rubio meets delegation</news:title></news:news></url></urlset>"""
    outlet.add("/sitemap-news.xml.gz", gzip.compress(news.encode()), content_type="application/gzip")
    outlet.add("/sitemap-index.xml", f"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{outlet.url('/sitemap-news.xml.gz')}</loc></sitemap></sitemapindex>""", content_type="application/xml")
    outlet.add("/world/", f"""<html><body><nav><a href="/">Home</a><a href="/world/">World</a>
<a href="/about/contact">Contact us</a><a href="/tag/ukraine">Ukraine</a></nav>
<h2><a href="{two}">Zelenskyy speaks to parliament about the plan</a></h2>
<h2><a href="{three}">Putin comments on the peace framework</a></h2>
<a href="https://elsewhere.example/world/some-long-article-slug-here">Elsewhere story about talks</a></body></html>""")
    config = write_config(tmp_path / "config.yaml", database_url, [
        {"name": "news-sitemap", "sitemap": outlet.url("/sitemap-index.xml")},
        {"name": "world-page", "page": outlet.url("/world/")},
    ])

    summary = crawl(config).report

    assert summary["totals"]["new"] == 3, summary
    stories = {s.title: s for s in _stories(database_url)}
    assert stories["Rubio meets delegation"].published_at == published
    assert set(stories) == {"Rubio meets delegation", "Zelenskyy speaks to parliament", "Putin comments on the framework"}
    assert outlet.hits["/about/contact"] == 0 and outlet.hits["/tag/ukraine"] == 0


def test_crawl_names_sources_and_rejects_unknown_ones(tmp_path: Path, outlet: Outlet) -> None:
    outlet.add("/a.xml", rss([]), content_type="application/rss+xml")
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'n.db'}", [
        {"name": "a", "feed": outlet.url("/a.xml")},
        {"name": "b", "feed": outlet.url("/b.xml")},
    ])
    summary = crawl(config, "a").report
    assert [row["source"] for row in summary["sources"]] == ["a"]
    result = run_newsmon("--config", str(config), "crawl", "nope")
    assert result.returncode == 2
    assert "no source named 'nope' (known: a, b)" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.corpus
def test_every_real_edge_case_feed_is_crawled_without_stopping_the_others(
    tmp_path: Path, corpus: Path, outlet: Outlet
) -> None:
    good = outlet.add("/news/2026/11/24/kyiv-talks", _page("Kyiv hosts talks"))
    outlet.add("/good.xml", rss([{"title": "Kyiv", "link": good}]), content_type="application/rss+xml")
    sources = [{"name": "good", "feed": outlet.url("/good.xml")}]
    for index, path in enumerate(sorted((corpus / "feeds" / "edge-cases").iterdir())):
        outlet.add(f"/edge/{path.name}", path.read_bytes(), content_type="application/xml")
        sources.append({"name": f"edge-{index}", "feed": outlet.url(f"/edge/{path.name}")})
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'n.db'}", sources,
                          crawl={"timeout": 3})
    # The edge-case items link to the real outlets' hosts; with private networks allowed, they fail fast here.
    summary = crawl(config).report
    by_name = {row["source"]: row for row in summary["sources"]}
    assert by_name["good"]["new"] == 1
    assert len(by_name) == len(sources)
    for row in summary["sources"]:
        assert row["status"] in {"ok", "partial", "failed"}
        assert "\n" not in (row["error"] or "")


def _atom(entries: list[tuple[str, str, datetime, datetime]]) -> str:
    items = "".join(
        f"<entry><title>{title}</title><link href=\"{url}\"/><id>{url}</id>"
        f"<published>{published.isoformat()}</published><updated>{updated.isoformat()}</updated></entry>"
        for title, url, published, updated in entries
    )
    return f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>{items}</feed>'


def _age_stories(database_url: str, by: timedelta) -> None:
    engine = make_engine(database_url)
    with Session(engine) as session, session.begin():
        for story in session.scalars(select(Story)).unique():
            story.fetched_at -= by
    engine.dispose()


def test_a_story_the_feed_says_changed_is_fetched_again_and_kept_as_versions(
    tmp_path: Path, database_url: str, outlet: Outlet
) -> None:
    path = "/world/2026/11/24/geneva-talks"
    url = outlet.add(path, _page("Geneva talks refine peace plan"))
    published = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    outlet.add("/atom.xml", _atom([("Geneva talks", url, published, published)]), content_type="application/atom+xml")
    config = write_config(tmp_path / "config.yaml", database_url, [{"name": "wire", "feed": outlet.url("/atom.xml")}])
    assert crawl(config).report["totals"]["new"] == 1
    _age_stories(database_url, timedelta(hours=2))  # as if that crawl ran two hours ago (re-reads are hourly at most)

    changed = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    outlet.add(path, _page("Geneva talks: a deal on prisoners", "Both sides agreed to exchange 1,200 prisoners."))
    outlet.add("/atom.xml", _atom([("Geneva talks", url, published, changed)]), content_type="application/atom+xml")
    second = crawl(config).report
    third = crawl(config).report  # nothing changed since: not fetched again

    assert second["totals"]["new"] == 0 and outlet.hits[path] == 2 and third["totals"]["known"] == 1
    [story] = _stories(database_url)
    assert story.version == 2 and story.title == "Geneva talks: a deal on prisoners"
    assert "1,200 prisoners" in story.text
    shown = json.loads(run_newsmon("--config", str(config), "show", str(story.id), "--format", "json").stdout)
    assert [(v["version"], v["title"]) for v in shown["versions"]] == [(1, "Geneva talks refine peace plan")]
    assert shown["version"] == 2
