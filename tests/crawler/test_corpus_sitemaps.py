"""Every file of ../shared/corpus/sitemaps through read_sitemap, one case per file (skipped when absent).

Each case pins what the parser yields for the file: how it was read (a urlset, an index, a robots.txt, a plain list
of URLs or a feed), its number of distinct links or child sitemaps, one to three exact URLs (the first listed
first), how many entries carry a date, the first entry's date in UTC and the exact news titles, copied from the
file by hand. An entry's date is its news:publication_date, else its <lastmod>; a child sitemap's is its <lastmod>.
Generated sitemaps and robots.txt files (no corpus needed) at the end cover robots.txt parsing and the date range.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import pytest

from crawler.extract import Link
from crawler.spiders.sitemap import SitemapContent, SitemapKind, read_sitemap
from newsmon.errors import ExtractionError
from tests.servers import CORPUS

MAX_BYTES = 20_000_000  # the config default (crawl.max_bytes)

# Short names for the table.
URLSET, INDEX, ROBOTS, PLAIN = SitemapKind.URLSET, SitemapKind.INDEX, SitemapKind.ROBOTS, SitemapKind.PLAIN
FEED = SitemapKind.FEED


class Sitemap(NamedTuple):
    kind: SitemapKind
    entries: int  # distinct links (urlset, plain, feed) or child sitemaps (index, robots)
    urls: tuple[str, ...]  # exact URLs among them, the first one listed first
    dated: int = 0  # how many links (or child sitemaps) have a date
    first_date: str | None = None  # the first one's date, UTC
    titles: tuple[str, ...] = ()  # exact news titles among the links


# sitemaps/<folder>/<file>: what the parser yields.
SITEMAPS: dict[str, Sitemap] = {
    # news:publication_date, not the later <lastmod>; "quarantine-insanity.html </loc>" and titles padded with spaces.
    "news/advertools__nytimes-news-sitemap-2020.xml": Sitemap(URLSET, 6, (
        "https://www.nytimes.com/interactive/2020/05/11/magazine/quarantine-insanity.html",
        "https://www.nytimes.com/2020/05/19/arts/music/germany-music-coronavirus.html",
    ), 6, "2020-05-11T09:00:01Z", (
        "Quarantine Was Driving Me Crazy — So I Decided to Lose My Mind on Purpose",
        "I Didn’t Feel Parisian Until I Escaped Paris",
        "I'm Usually a Conflict Photographer. Now, I'm Documenting My Family.",
    )),
    # The news namespace bound to "ns0:"; "Weekly Roundup - Sept. 1  - B" has its double space folded.
    "news/bentonvillebulletin__news-sitemap-10urls-ns0-prefix.xml": Sitemap(URLSET, 10, (
        "https://www.bentonvillebulletin.com/p/the-pastrami-wagon-rolls-into-downtown-bentonville",
        "https://www.bentonvillebulletin.com/p/water-leak-repairs-starting-to-pay-off",
    ), 10, "2025-09-03T17:36:05Z", (
        "The Pastrami Wagon Rolls Into Downtown Bentonville",
        "13 Restaurants and Bars That Have Opened in Bentonville This Year ⋆",
        "Weekly Roundup - Sept. 1 - B",
    )),
    "news/bentonvillebulletin__news-sitemap-empty.xml": Sitemap(URLSET, 0, ()),
    "news/crawler-commons__wordpresscom-shinpaideshou-news-sitemap.xml": Sitemap(URLSET, 3, (
        "https://shinpaideshou.wordpress.com/2017/04/25/job-opening-reischauer-policy-research-fellow/",
    ), 3, "2017-04-25T10:00:36Z", (
        "Job Opening: Reischauer Policy Research Fellow",
        "Call for Papers: Nation, Gender and History, Asian Cinemas in Perspective",
        "Job Opening: Lecturer in Japanese Studies, University of Leeds",
    )),
    # <lastmod> (18:51:50+01:00), not the embedded video's publication_date (18:44:05+01:00); no news titles.
    "article-and-media/crawler-commons__hebdenbridgetimes-articles-sitemap.xml": Sitemap(URLSET, 74, (
        "http://www.hebdenbridgetimes.co.uk/news/local/video-tour-de-yorkshire-in-calderdale-1-7242580",
        "http://www.hebdenbridgetimes.co.uk/news/local/now-you-see-it-now-you-don-t-it-s-off-the-wall-1-7229940",
    ), 74, "2015-05-03T17:51:50Z"),
    # The page links, never the literal content_loc "None"; <lastmod> 16:01:00, not video:publication_date 16:03:31.
    "article-and-media/advertools__washingtonpost-video-sitemap.xml": Sitemap(URLSET, 6, (
        (
            "https://www.washingtonpost.com/politics/trump-indonesia-trees/2020/05/05/"
            "62db5abb-8139-4f0d-a10e-748ecdac17e9_video.html"
        ),
        (
            "https://www.washingtonpost.com/national/yousef-shulman/2020/04/23/"
            "867b6273-3308-4720-99b4-dbea038de943_video.html"
        ),
    ), 6, "2020-05-05T16:01:00Z"),
    "generic/trafilatura__sitemaps-org-sitemap.xml": Sitemap(URLSET, 84, (
        "https://www.sitemaps.org/",
        "https://www.sitemaps.org/protocol.html",
        "https://www.sitemaps.org/zh_TW/terms.html",
    ), 84, "2016-11-21T00:00:00Z"),
    "generic/trafilatura__sitemaps-org-sitemap.xml.gz": Sitemap(URLSET, 84, (  # the same file, gzipped
        "https://www.sitemaps.org/",
        "https://www.sitemaps.org/zh_TW/terms.html",
    ), 84, "2016-11-21T00:00:00Z"),
    "index/advertools__sitemap_index.xml": Sitemap(INDEX, 4, (
        "https://advertools.readthedocs.io/sitemap.xml",
        "https://raw.githubusercontent.com/eliasdabbas/advertools/master/tests/data/sitemap_testing/sitemap_index.xml",
        "https://www.google.com/adwords/sitemap_us.xml",
    ), 3, "2020-05-20T18:23:17Z"),  # the raw.githubusercontent entry has no <lastmod>
    # <sitemap> entries holding a bare URL with no <loc>; "&amp;" decoded.
    "index/crawler-commons__sitemap.index-bare-text-entries.xml": Sitemap(INDEX, 15, (
        "https://example.com/sitemap.jss?portalCode=10260&lang=en",
        "https://example.com/sitemap.jss?portalCode=2&lang=en",
        "https://example.com/sitemap.jss?portalCode=10570&lang=en",
    )),
    "index/trafilatura__sitemap2-index-cdata.xml": Sitemap(INDEX, 2, (
        "http://www.example.com/sitemap1.xml.gz",
        "http://www.example.com/sitemap2.xml.gz",  # inside CDATA, with a date-only lastmod
    ), 2, "2004-10-01T18:23:17Z"),
    "robots/advertools__robots.txt": Sitemap(ROBOTS, 1, ("https://advertools.readthedocs.io/sitemap.xml",)),
    # "sitemap:" first, in lower case; the bare URL with no "sitemap:" is no directive; the mixed case is kept.
    "robots/crawler-commons__sitemap-directives-robots.txt": Sitemap(ROBOTS, 2, (
        "http://domain.com/sitemap.xml",
        "http://domain.com/dir/MixedCased-sitemap.xml",
    )),
    "spec-examples-and-edge-cases/advertools__zipped_sitemap.xml.gz": Sitemap(URLSET, 5, (
        "http://www.gzipped.com/",
        "http://www.gzipped.com/catalog?desc=vacation_hawaii&item=12",  # query parameters in a stable order
    ), 4, "2005-01-01T00:00:00Z"),
    "spec-examples-and-edge-cases/commoncrawl-news-crawl__sitemap-news-with-xsl-and-comments.xml": Sitemap(
        URLSET, 1, ("http://www.example.com/business/article55.html",), 1, "2008-12-23T00:00:00Z",
        ("Companies A, B in Merger Talks",),
    ),
    # An Atom feed used as a sitemap: the rel="alternate" link, not rel="edit".
    "spec-examples-and-edge-cases/crawler-commons__atom.xml": Sitemap(FEED, 1, (
        "http://example.org/2003/12/13/atom03.html",
    ), 1, "2003-12-13T18:30:02Z", ("Atom-Powered Robots Run Amok",)),
    "spec-examples-and-edge-cases/crawler-commons__sitemap-images.xml": Sitemap(URLSET, 1, (
        "http://www.example.com/images/some_image_landing_page.html",
    )),
    "spec-examples-and-edge-cases/crawler-commons__sitemap-links.xml": Sitemap(URLSET, 3, (  # xhtml:link: no links
        "http://www.example.com/english/",
        "http://www.example.com/schweiz-deutsch/",
    )),
    "spec-examples-and-edge-cases/crawler-commons__sitemap-news.xml": Sitemap(URLSET, 2, (
        "http://www.example.org/business/article55.html",
        "http://www.example.org/empty_news_name.html",
    ), 2, "2008-12-23T00:00:00Z", ("Companies A, B in Merger Talks", "Test empty news attributes")),
    # video:publication_date is the video's date, not the page's; no <lastmod>.
    "spec-examples-and-edge-cases/crawler-commons__sitemap-videos.xml": Sitemap(URLSET, 3, (
        "http://www.example.com/videos/some_video_landing_page.html",
        "http://www.example.com/videos/some_video_landing_page-3.html",
    )),
    "spec-examples-and-edge-cases/crawler-commons__sitemap-with-bom.txt": Sitemap(PLAIN, 2, (
        "http://www.domain.com/page1.html",
        "http://www.domain.com/page2.html",
    )),
    # The wrong namespace (google.com/schemas/sitemap/0.9) and whitespace inside <loc>.
    "spec-examples-and-edge-cases/crawler-commons__sitemap.badns.xml": Sitemap(URLSET, 2, (
        "http://www.example.com/1",
        "http://www.example.com/2",
    )),
    "spec-examples-and-edge-cases/crawler-commons__sitemap.ns.xml": Sitemap(URLSET, 2, (  # the prefix "sit:"
        "http://www.example.com/1",
        "http://www.example.com/2",
    )),
    "spec-examples-and-edge-cases/crawler-commons__sitemap.txt": Sitemap(PLAIN, 2, (
        "http://www.domain.com/page1.html",
        "http://www.domain.com/page2.html",
    )),
    "spec-examples-and-edge-cases/crawler-commons__sitemap.txt.gz": Sitemap(PLAIN, 5, (
        "http://www.example.com/",
        "http://www.example.com/catalog?desc=vacation_usa&item=83",
    )),
    "spec-examples-and-edge-cases/crawler-commons__xmlSitemap.gz": Sitemap(URLSET, 5, (
        "http://www.example.com/",
        "http://www.example.com/catalog?desc=vacation_newfoundland&item=74",
    ), 4, "2005-01-01T00:00:00Z"),
    # A stray <sitemap> inside the <urlset> is neither a link nor a child sitemap.
    "spec-examples-and-edge-cases/trafilatura__sitemap-hreflang.xml": Sitemap(URLSET, 3, (
        "http://www.example.com/english/page.html",
        "http://www.example.com/schweiz-deutsch/page.html",
    )),
}  # fmt: skip
# Files that give no sitemap at all: their one-line reason.
NOT_SITEMAPS = {
    "robots/crawler-commons__astore.amazon.com-robots.txt": "not a sitemap: a robots.txt with no Sitemap: lines",
    "robots/crawler-commons__twitter.com-robots.txt": "not a sitemap: a robots.txt with no Sitemap: lines",
}
# Where a child sitemap, not a link, is what the file lists.
LISTS_SITEMAPS = {SitemapKind.INDEX, SitemapKind.ROBOTS}
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)


def params(names: list[str]) -> list[object]:
    return [pytest.param(name, id=name) for name in names]


def read_file(name: str) -> SitemapContent:
    # Not under /robots.txt: a robots.txt of the corpus is recognised by its content.
    path = CORPUS / "sitemaps" / name
    return read_sitemap(path.read_bytes(), f"https://sitemaps.example/{name}", "corpus", MAX_BYTES)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.corpus
def test_every_corpus_sitemap_file_has_a_case(corpus: Path) -> None:
    on_disk = {f"{path.parent.name}/{path.name}" for path in (corpus / "sitemaps").glob("*/*") if path.is_file()}
    on_disk = {name for name in on_disk if not name.startswith("source-licenses/")}
    assert on_disk == set(SITEMAPS) | set(NOT_SITEMAPS)


@pytest.mark.corpus
@pytest.mark.parametrize("name", params(sorted(SITEMAPS)))
def test_sitemap_yields_its_links_or_child_sitemaps_dates_and_titles(corpus: Path, name: str) -> None:
    expected = SITEMAPS[name]
    content = read_file(name)
    assert content.kind is expected.kind
    if expected.kind in LISTS_SITEMAPS:
        assert content.links == []
        listed = content.sitemaps
        dates = [content.modified.get(sitemap) for sitemap in listed]
    else:
        assert content.sitemaps == [] and content.modified == {}
        listed = [link.url for link in content.links]
        dates = [link.published_at for link in content.links]
    assert len(listed) == expected.entries
    if expected.urls:
        assert listed[0] == expected.urls[0]
    for url in expected.urls:
        assert url in listed
    assert sum(date is not None for date in dates) == expected.dated
    if expected.first_date:
        assert dates[0] == utc(expected.first_date)
    else:
        assert not dates or dates[0] is None
    titles = [link.title for link in content.links if link.title]
    assert len(titles) == (len(content.links) if expected.titles else 0)  # a news sitemap titles every link
    for title in expected.titles:
        assert title in titles


@pytest.mark.corpus
@pytest.mark.parametrize("name", params(sorted(SITEMAPS)))
def test_links_are_canonical_and_once_and_dates_utc_and_believable(corpus: Path, name: str) -> None:
    latest = datetime.now(UTC) + timedelta(days=1)
    content = read_file(name)
    assert len({link.url for link in content.links}) == len(content.links)
    assert len(set(content.sitemaps)) == len(content.sitemaps)
    assert set(content.modified) <= set(content.sitemaps)
    for link in content.links:
        assert link.source == "corpus"
        assert link.url.startswith(("http://", "https://")) and link.url == link.url.strip(), link.url
        assert "#" not in link.url and "utm_" not in link.url, link.url
        assert link.title is None or link.title == " ".join(link.title.split()), repr(link.title)
    for sitemap in content.sitemaps:
        assert sitemap.startswith(("http://", "https://")) and sitemap == sitemap.strip(), sitemap
    dates = [link.published_at for link in content.links] + list(content.modified.values())
    for date in dates:
        if date is not None:
            assert date.utcoffset() == timedelta(0)
            assert EARLIEST <= date <= latest, date


@pytest.mark.corpus
@pytest.mark.parametrize("name", params(sorted(NOT_SITEMAPS)))
def test_a_file_that_gives_no_sitemap_is_an_extraction_error(corpus: Path, name: str) -> None:
    with pytest.raises(ExtractionError) as error:
        read_file(name)
    assert str(error.value) == NOT_SITEMAPS[name]


# Generated robots.txt files and sitemaps (no corpus needed): what the corpus does not show.

NEWS_URLSET = (
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9" '
    'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1" '
    'xmlns:video="http://www.google.com/schemas/sitemap-video/1.1">'
)
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def read(body: bytes | str, url: str = "https://news.example/sitemaps/news.xml") -> SitemapContent:
    return read_sitemap(body.encode() if isinstance(body, str) else body, url, "news", MAX_BYTES, now=NOW)


def test_a_robots_txt_gives_its_sitemap_lines_as_child_sitemaps() -> None:
    body = """# Sitemap: https://news.example/commented-out.xml
User-agent: *
Disallow: /private/   # not for crawlers
SITEMAP: https://news.example/sitemaps/news.xml
sitemap:/sitemaps/index.xml
  Sitemap :  https://news.example/sitemaps/news.xml
Sitemap: https://cdn.example/Sitemaps/Video.xml # another host, its case kept
https://news.example/sitemaps/bare-url.xml
Sitemap: mailto:desk@news.example
Sitemap:
Allow: /sitemaps/
"""
    content = read(body, "https://news.example/robots.txt")
    assert content == SitemapContent(
        sitemaps=[
            "https://news.example/sitemaps/news.xml",
            "https://news.example/sitemaps/index.xml",  # relative: resolved against the robots.txt
            "https://cdn.example/Sitemaps/Video.xml",
        ]
    )
    assert content.kind is SitemapKind.ROBOTS


def test_a_robots_txt_is_known_by_its_content_or_by_its_path() -> None:
    body = "User-Agent: newsbot\nCrawl-delay: 5\nSitemap: news-sitemap.xml\n"
    content = read(body, "https://news.example/feeds/config.txt")
    assert (content.kind, content.sitemaps) == (SitemapKind.ROBOTS, ["https://news.example/feeds/news-sitemap.xml"])
    assert read("\ufeffsitemap: /news.xml\r\n".encode(), "https://news.example/robots.txt").kind is SitemapKind.ROBOTS
    # A robots.txt of comments only is still a robots.txt at /robots.txt, and is no sitemap anywhere.
    with pytest.raises(ExtractionError, match="^not a sitemap: a robots.txt with no Sitemap: lines$"):
        read("# nothing to see\n", "https://news.example/robots.txt")
    with pytest.raises(ExtractionError, match="^not a sitemap: neither XML nor a list of URLs$"):
        read("# nothing to see\n", "https://news.example/sitemap.txt")


def test_entry_dates_before_1995_or_more_than_a_day_ahead_are_not_believed() -> None:
    def url(path: str, publication_date: str | None = None, lastmod: str | None = None) -> str:
        news = (
            f"<news:news><news:publication_date>{publication_date}</news:publication_date>"
            f"<news:title>{path}</news:title></news:news>"
            if publication_date
            else ""
        )
        modified = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
        return f"<url><loc>https://news.example/{path}</loc>{modified}{news}</url>"

    body = NEWS_URLSET + "".join([
        url("epoch", "1970-01-01T00:00:00Z", "2026-11-24T09:00:00+01:00"),  # the lastmod takes over
        url("1994", "1994-12-31T23:59:59Z"),
        url("1995", "1995-01-01T00:00:00Z"),
        url("in-12-hours", "2026-11-25T00:00:00Z"),
        url("in-36-hours", "2026-11-26T00:00:00Z", "2099-01-01"),  # and so is the lastmod
        url("lastmod-only-2999", None, "2999-01-01"),
        url("unreadable", "yesterday", "0000-00-00"),
    ]) + "</urlset>"  # fmt: skip
    dates = {link.url.rsplit("/", 1)[1]: link.published_at for link in read(body).links}
    assert dates == {
        "epoch": datetime(2026, 11, 24, 8, 0, tzinfo=UTC),
        "1994": None,
        "1995": datetime(1995, 1, 1, tzinfo=UTC),
        "in-12-hours": datetime(2026, 11, 25, tzinfo=UTC),
        "in-36-hours": None,
        "lastmod-only-2999": None,
        "unreadable": None,
    }


def test_an_index_keeps_only_believable_lastmods_and_web_urls() -> None:
    body = """<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>news-1.xml</loc><lastmod>1970-01-01</lastmod></sitemap>
  <sitemap><loc>news-2.xml</loc><lastmod>2026-11-24T11:00:00+01:00</lastmod></sitemap>
  <sitemap><loc>news-3.xml</loc><lastmod>2030-01-01</lastmod></sitemap>
  <sitemap><loc>javascript:alert(1)</loc></sitemap>
</sitemapindex>"""
    content = read(body)
    assert content.sitemaps == [f"https://news.example/sitemaps/news-{i}.xml" for i in (1, 2, 3)]
    assert content.modified == {"https://news.example/sitemaps/news-2.xml": datetime(2026, 11, 24, 10, 0, tzinfo=UTC)}
    assert content.kind is SitemapKind.INDEX


def test_news_elements_without_a_prefix_are_read() -> None:
    body = """<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://news.example/a</loc>
  <news xmlns="http://www.google.com/schemas/sitemap-news/0.9"><publication><name>N</name></publication>
    <publication_date>2026-11-24T10:30:00+02:00</publication_date><title>Talks resume</title></news></url></urlset>"""
    assert read(body).links == [
        Link(
            url="https://news.example/a",
            source="news",
            title="Talks resume",
            published_at=datetime(2026, 11, 24, 8, 30, tzinfo=UTC),
        )
    ]


def test_the_page_loc_and_date_are_read_not_the_media_ones() -> None:
    # An <image:loc> before the page's own <loc>, and a video's publication date: neither is the page's.
    body = f"""{NEWS_URLSET}<url>
  <image:image><image:loc>https://cdn.example/photo.jpg</image:loc></image:image>
  <video:video><video:publication_date>2020-01-01T00:00:00Z</video:publication_date>
    <video:title>A video</video:title></video:video>
  <loc>https://news.example/world/story</loc><lastmod>2026-11-24T10:00:00Z</lastmod></url></urlset>"""
    assert read(body).links == [
        Link(url="https://news.example/world/story", source="news", published_at=datetime(2026, 11, 24, 10, tzinfo=UTC))
    ]


def test_news_titles_are_plain_text() -> None:
    body = f"""{NEWS_URLSET}<url><loc>https://news.example/a</loc><news:news><news:title>
    Ben &amp;amp; Jerry&amp;#8217;s   new\tflavour&#x9f;
  </news:title></news:news></url><url><loc>https://news.example/b</loc>
  <news:news><news:title><![CDATA[AT&T deal]]></news:title></news:news></url></urlset>"""
    # Entities escaped twice decoded, whitespace folded, C1 control characters dropped; a single "&" stays.
    assert [link.title for link in read(body).links] == ["Ben & Jerry’s new flavour", "AT&T deal"]
