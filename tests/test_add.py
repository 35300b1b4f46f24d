"""`newsmon add URL`: feed discovery against real loopback outlets, and the config edited with its comments kept."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml
from click.testing import CliRunner

from crawler.discover import Candidate, Via, choose, source_name
from newsmon.cli import cli
from newsmon.config import SourceKind
from newsmon.config_file import with_source
from tests.conftest import REPO, run_newsmon, write_config
from tests.servers import Outlet, rss

ARTICLES = [f"/world/2026/05/0{i}/peace-talks-resume-in-city-{i}" for i in range(1, 7)]


def _feed(outlet: Outlet, items: int) -> str:
    return rss([{"title": f"Story {i} of the day", "link": outlet.url(f"/news/story-{i}")} for i in range(items)])


def _section(links: list[str], head: str = "", lang: str = "en") -> str:
    anchors = "".join(f'<li><a href="{path}">Peace talks resume in city number {n}</a></li>'
                      for n, path in enumerate(links))
    return (f'<!doctype html><html lang="{lang}"><head><title>World</title>{head}</head><body>'
            f'<nav><a href="/">Home</a> <a href="/about">About</a></nav><ul>{anchors}</ul></body></html>')


def _sitemap(urls: list[str], news: bool = False) -> str:
    namespace = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"' if news else ""
    entries = "".join(
        f"<url><loc>{url}</loc>"
        + ("<news:news><news:publication_date>2026-05-01T10:00:00Z</news:publication_date>"
           "<news:title>Talks resume</news:title></news:news>" if news else "")
        + "</url>"
        for url in urls
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
            f"{namespace}>{entries}</urlset>")


def _add(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command in a child process: discovery runs the Twisted reactor, which starts once per process."""
    return run_newsmon("--config", str(config), "add", *args, timeout=60)


def _sources(config: Path) -> list[dict[str, str]]:
    return yaml.safe_load(config.read_text(encoding="utf-8"))["sources"]


def _config(tmp_path: Path, sources: list[dict[str, str]] | None = None) -> Path:
    return write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'newsmon.db'}", sources or [])


def test_rel_alternate_feed_with_relative_href_is_added(tmp_path: Path, outlet: Outlet) -> None:
    head = ('<link rel="alternate" type="application/rss+xml" title="Comments" href="/comments/feed">'
            '<link rel="alternate" type="application/rss+xml" title="Top" href="news/top.xml">'
            '<link rel="alternate" type="application/atom+xml" title="All" href="news/all.xml">')
    outlet.add("/", _section([], head=head, lang="en-GB"))
    outlet.add("/news/top.xml", _feed(outlet, 3), content_type="application/rss+xml")
    outlet.add("/news/all.xml", _feed(outlet, 8), content_type="application/rss+xml")
    outlet.add("/comments/feed", _feed(outlet, 20), content_type="application/rss+xml")
    config = _config(tmp_path)
    result = _add(config, outlet.url("/"))
    assert result.returncode == 0, result.stderr
    # the feed with the most items (the comments feed is no candidate), the page's language
    assert _sources(config) == [{"name": "127-0-0-1", "feed": outlet.url("/news/all.xml"), "every": "15m",
                                 "language": "en"}]
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["url", "via", "found", "links", "rejected"]
    assert lines[2].split()[:5] == [outlet.url("/"), "address", "page", "0", "0"]
    assert lines[3].split() == [outlet.url("/news/top.xml"), "rel=alternate", "feed", "3"]
    assert lines[4].split() == [outlet.url("/news/all.xml"), "rel=alternate", "feed", "8"]
    assert lines[-1] == (f"added to {config}: {{name: 127-0-0-1, feed: {outlet.url('/news/all.xml')}, "
                         "every: 15m, language: en}")
    assert outlet.hits["/feed"] == 0 and outlet.hits["/robots.txt"] == 0  # a feed was found: no more guessing


def test_common_path_is_found_when_the_page_names_no_feed(tmp_path: Path, outlet: Outlet) -> None:
    outlet.add("/", _section(ARTICLES[:2]))
    outlet.add("/rss.xml", _feed(outlet, 4), content_type="application/rss+xml")
    config = _config(tmp_path)
    result = _add(config, outlet.url("/"), "--every", "1h", "--language", "uk", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["source"] == {"name": "127-0-0-1", "feed": outlet.url("/rss.xml"), "every": "1h", "language": "uk"}
    assert report["written"] is True and report["config"] == str(config)
    assert report["chosen"] == {"url": outlet.url("/rss.xml"), "via": "common path", "found": "feed", "links": 4,
                                "rejected": None}
    tried = {c["url"]: c for c in report["candidates"]}
    assert tried[outlet.url("/feed")]["rejected"] == "HTTP 404"
    assert tried[outlet.url("/")]["rejected"] == "2 article links, 5 needed"
    assert _sources(config) == [report["source"]]


def test_news_sitemap_named_by_robots_txt_is_added(tmp_path: Path, outlet: Outlet) -> None:
    outlet.add("/", _section([]))
    outlet.add("/robots.txt", f"User-agent: *\nDisallow: /private/\nSitemap: {outlet.url('/sitemap.xml')}\n"
               "Sitemap: /sitemap-latest.xml\n", content_type="text/plain")
    outlet.add("/sitemap.xml", _sitemap([outlet.url(p) for p in ARTICLES]), content_type="application/xml")
    outlet.add("/sitemap-latest.xml", _sitemap([outlet.url(ARTICLES[0])], news=True), content_type="application/xml")
    config = _config(tmp_path)
    result = _add(config, outlet.url("/"), "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    # the news sitemap (news: namespace) wins over the plain one, which lists more
    assert report["source"] == {"name": "127-0-0-1", "sitemap": outlet.url("/sitemap-latest.xml"), "every": "15m",
                                "language": "en"}
    found = {c["url"]: (c["via"], c["found"], c["links"]) for c in report["candidates"]}
    assert found[outlet.url("/robots.txt")] == ("robots.txt", "robots.txt", 2)
    assert found[outlet.url("/sitemap.xml")] == ("robots.txt", "sitemap", 6)
    assert found[outlet.url("/sitemap-latest.xml")] == ("robots.txt", "news sitemap", 1)
    assert _sources(config) == [report["source"]]


def test_section_page_with_article_links_is_added_as_a_page(tmp_path: Path, outlet: Outlet) -> None:
    outlet.add("/world/", _section(ARTICLES, lang="fr"))
    config = _config(tmp_path)
    result = _add(config, outlet.url("/world/"), "--name", "world")
    assert result.returncode == 0, result.stderr
    assert _sources(config) == [{"name": "world", "page": outlet.url("/world/"), "every": "15m", "language": "fr"}]


def test_nothing_found_exits_1_with_one_line_naming_what_was_tried(tmp_path: Path, outlet: Outlet) -> None:
    outlet.add("/", _section(ARTICLES[:1]))
    outlet.add("/robots.txt", "User-agent: *\nDisallow:\n", content_type="text/plain")
    config = _config(tmp_path)
    before = config.read_bytes()
    result = _add(config, outlet.url("/"))
    assert result.returncode == 1 and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [(
        f"error: found no feed, sitemap or section page for {outlet.url('/')}; tried the address (1 article link, "
        "5 needed); /feed, /rss, /rss.xml, /feed.xml, /atom.xml, /index.xml, /feeds/posts/default (HTTP 404); "
        "/?feed=rss2 (not a feed: the response is an HTML page); /robots.txt (no Sitemap: lines)"
    )]
    assert config.read_bytes() == before


def test_dry_run_writes_nothing(tmp_path: Path, outlet: Outlet) -> None:
    outlet.add("/feed", _feed(outlet, 2), content_type="application/rss+xml")
    config = _config(tmp_path)
    before = config.read_bytes()
    result = _add(config, outlet.url("/feed"), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (f"would add to {config} (dry run, nothing written): "
                                              f"{{name: 127-0-0-1, feed: {outlet.url('/feed')}, every: 15m}}")
    assert config.read_bytes() == before
    assert outlet.hits["/"] == 0  # the address is a feed: taken as it is, nothing else fetched


COMMENTED = """\
# Our outlets. Run `newsmon check` after editing.
database:
  url: {database}  # beside this file

crawl:
  delay: 0
  allow_private_networks: true   # the test outlet is on loopback
  obey_robots_txt: false

sources:
  # Wires first.
  - name: 127-0-0-1
    feed: https://wire.example.org/rss   # the main wire
    every: 10m
  # - name: paused
  #   feed: https://paused.example.org/rss

# Channels and rules below.
channels: {{}}
rules:
  - name: talks
    query: '"peace talks" OR ceasefire'  # kept quoted
"""


def test_comments_and_layout_survive_and_the_result_checks(tmp_path: Path, outlet: Outlet) -> None:
    outlet.add("/", _section([], head='<link rel="alternate" type="application/rss+xml" href="/rss">'))
    outlet.add("/rss", _feed(outlet, 5), content_type="application/rss+xml")
    config = tmp_path / "config.yaml"
    before = COMMENTED.format(database=f"sqlite:///{tmp_path / 'newsmon.db'}")
    config.write_text(before, encoding="utf-8")
    result = _add(config, outlet.url("/"))
    assert result.returncode == 0, result.stderr
    added = (
        "  - name: 127-0-0-1-2\n"  # the name from the host, made unique
        f"    feed: {outlet.url('/rss')}\n"
        "    every: 15m\n"
        "    language: en\n"
    )
    # every line as it was; the new source after the last one and the comment under the list
    anchor = "  #   feed: https://paused.example.org/rss\n"
    assert config.read_text(encoding="utf-8") == before.replace(anchor, anchor + added)
    check = run_newsmon("--config", str(config), "check", "--format", "json")
    assert check.returncode == 0, check.stderr
    assert [s["name"] for s in json.loads(check.stdout)["sources"]] == ["127-0-0-1", "127-0-0-1-2"]


def test_a_url_already_a_source_is_refused(tmp_path: Path, outlet: Outlet) -> None:
    outlet.add("/", _section([], head='<link rel="alternate" type="application/rss+xml" href="/rss">'))
    outlet.add("/rss", _feed(outlet, 5), content_type="application/rss+xml")
    config = _config(tmp_path, [{"name": "home", "page": outlet.url("/")},
                                {"name": "wire", "feed": outlet.url("/rss")}])
    # the address itself: refused before anything is fetched
    given = CliRunner().invoke(cli, ["--config", str(config), "add", outlet.url("/")])
    assert given.exit_code == 1 and str(given.exception) == f"{outlet.url('/')} is already a source (home, page)"
    assert sum(outlet.hits.values()) == 0
    # the feed it leads to
    config = _config(tmp_path, [{"name": "wire", "feed": outlet.url("/rss")}])
    found = _add(config, outlet.url("/"))
    assert found.returncode == 1
    assert found.stderr.splitlines()[-1] == f"error: {outlet.url('/rss')} is already a source (wire, feed)"
    assert _sources(config) == [{"name": "wire", "feed": outlet.url("/rss")}]


def test_a_name_already_taken_is_refused_before_fetching(tmp_path: Path, outlet: Outlet) -> None:
    config = _config(tmp_path, [{"name": "wire", "feed": "https://wire.example.org/rss"}])
    result = CliRunner().invoke(cli, ["--config", str(config), "add", outlet.url("/"), "--name", "wire"])
    assert result.exit_code == 1
    assert str(result.exception) == "a source named 'wire' already exists; choose another --name"
    bad = CliRunner().invoke(cli, ["--config", str(config), "add", outlet.url("/"), "--language", "English"])
    assert bad.exit_code == 1 and str(bad.exception).startswith("cannot add the source: language: String should match")
    assert sum(outlet.hits.values()) == 0


def test_a_private_address_is_refused_like_in_a_crawl(tmp_path: Path, outlet: Outlet) -> None:
    outlet.add("/feed", _feed(outlet, 2), content_type="application/rss+xml")
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'newsmon.db'}", [],
                          crawl={"allow_private_networks": False})
    result = _add(config, outlet.url("/"))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: found no feed, sitemap or section page for {outlet.url('/')}; tried the address (refused: "
        "127.0.0.1 is not a public address (set crawl.allow_private_networks: true to allow))"
    )
    assert sum(outlet.hits.values()) == 0


# The parts without the network ---------------------------------------------------------------------------


def test_names_come_from_the_host_and_are_made_unique() -> None:
    assert source_name("https://www.bbc.co.uk/news", set()) == "bbc"
    assert source_name("https://news.example.org/", set()) == "example"
    assert source_name("https://www.pravda.com.ua/", set()) == "pravda"
    assert source_name("https://meduza.io/", set()) == "meduza"
    assert source_name("http://127.0.0.1:8080/", set()) == "127-0-0-1"
    assert source_name("https://example.org/", {"example", "example-2"}) == "example-3"


def test_choice_prefers_alternate_feeds_then_feeds_then_news_sitemaps_then_sitemaps_then_the_page() -> None:
    page = Candidate("https://o.example/", Via.ADDRESS, SourceKind.PAGE, "page", 12)
    common = Candidate("https://o.example/rss", Via.COMMON_PATH, SourceKind.FEED, "feed", 50)
    small = Candidate("https://o.example/a.xml", Via.ALTERNATE, SourceKind.FEED, "feed", 3)
    big = Candidate("https://o.example/b.xml", Via.ALTERNATE, SourceKind.FEED, "feed", 9)
    news = Candidate("https://o.example/n.xml", Via.ROBOTS, SourceKind.SITEMAP, "news sitemap", 2, news=True)
    plain = Candidate("https://o.example/s.xml", Via.ROBOTS, SourceKind.SITEMAP, "sitemap", 400)
    broken = Candidate("https://o.example/x.xml", Via.ALTERNATE, rejected="HTTP 500")
    assert choose([page, common, small, big, news, plain, broken]) is big
    assert choose([page, common, news, plain]) is common
    assert choose([page, plain, news]) is news
    assert choose([page, plain]) is plain
    assert choose([page, broken]) is page
    assert choose([broken]) is None
    given = Candidate("https://o.example/s.xml", Via.ADDRESS, SourceKind.SITEMAP, "sitemap", 1)
    assert choose([given, big]) is given  # the user named a listing


def test_the_shipped_config_only_gains_the_new_lines() -> None:
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    entry = {"name": "new", "feed": "https://new.example.org/?feed=rss2", "every": "15m"}
    edited = with_source(text, entry)
    anchor = "    page: https://www.theguardian.com/world/ukraine\n    every: 30m\n    language: en\n"
    assert edited == text.replace(anchor, anchor + "  - name: new\n    feed: https://new.example.org/?feed=rss2\n"
                                                   "    every: 15m\n")
    assert with_source("database:\n  url: sqlite:///x.db\n", entry).endswith(
        "sources:\n- name: new\n  feed: https://new.example.org/?feed=rss2\n  every: 15m\n")
    assert with_source("sources: []  # none yet\n", entry) == (  # a flow list becomes a block; the comment stays put
        "sources:     # none yet\n- name: new\n  feed: https://new.example.org/?feed=rss2\n  every: 15m\n")

