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

from crawler.links import Link
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


# A closer look at a few files.


@pytest.mark.corpus
def test_nytimes_news_sitemap_titles_and_dates_with_whitespace_trimmed(corpus: Path) -> None:
    links = read_file("news/advertools__nytimes-news-sitemap-2020.xml").links
    assert links[0] == Link(
        url="https://www.nytimes.com/interactive/2020/05/11/magazine/quarantine-insanity.html",  # "... .html </loc>"
        source="corpus",
        title="Quarantine Was Driving Me Crazy — So I Decided to Lose My Mind on Purpose",
        published_at=datetime(2020, 5, 11, 9, 0, 1, tzinfo=UTC),  # publication_date, not the later lastmod
        updated_at=datetime(2020, 5, 19, 21, 57, 45, tzinfo=UTC),  # which says when it changed
    )
    assert links[1].title == "I Didn’t Feel Parisian Until I Escaped Paris"
    # The <image:loc> inside a <url> is not a link of its own.
    assert not any("static01.nyt.com" in link.url for link in links)


@pytest.mark.corpus
def test_news_namespace_bound_to_ns0_prefix_still_gives_titles_and_dates(corpus: Path) -> None:
    relative = "news/bentonvillebulletin__news-sitemap-10urls-ns0-prefix.xml"
    assert b"<ns0:title>" in (corpus / "sitemaps" / relative).read_bytes()
    links = read_file(relative).links
    assert links[0] == Link(
        url="https://www.bentonvillebulletin.com/p/the-pastrami-wagon-rolls-into-downtown-bentonville",
        source="corpus",
        title="The Pastrami Wagon Rolls Into Downtown Bentonville",
        published_at=datetime(2025, 9, 3, 17, 36, 5, tzinfo=UTC),
    )
    assert links[3].title == "13 Restaurants and Bars That Have Opened in Bentonville This Year ⋆"
    assert links[9].published_at == datetime(2025, 9, 1, 22, 2, 13, tzinfo=UTC)
    assert all(link.title and link.published_at for link in links)


@pytest.mark.corpus
def test_empty_news_sitemap_has_no_links_and_is_no_error(corpus: Path) -> None:
    assert read_file("news/bentonvillebulletin__news-sitemap-empty.xml") == SitemapContent(links=[], sitemaps=[])


@pytest.mark.corpus
def test_wordpress_news_sitemap(corpus: Path) -> None:
    links = read_file("news/crawler-commons__wordpresscom-shinpaideshou-news-sitemap.xml").links
    assert [(link.title, link.published_at) for link in links] == [
        ("Job Opening: Reischauer Policy Research Fellow", datetime(2017, 4, 25, 10, 0, 36, tzinfo=UTC)),
        (
            "Call for Papers: Nation, Gender and History, Asian Cinemas in Perspective",
            datetime(2017, 4, 24, 10, 0, 33, tzinfo=UTC),
        ),
        ("Job Opening: Lecturer in Japanese Studies, University of Leeds", datetime(2017, 4, 24, 10, 0, 10, tzinfo=UTC)),
    ]


@pytest.mark.corpus
def test_google_news_spec_example_with_empty_news_name(corpus: Path) -> None:
    links = read_file("spec-examples-and-edge-cases/crawler-commons__sitemap-news.xml").links
    assert [(link.url, link.title, link.published_at) for link in links] == [
        ("http://www.example.org/business/article55.html", "Companies A, B in Merger Talks", datetime(2008, 12, 23, tzinfo=UTC)),
        ("http://www.example.org/empty_news_name.html", "Test empty news attributes", datetime(2025, 5, 27, tzinfo=UTC)),
    ]
    # The same example behind an xml-stylesheet PI and comments.
    other = read_file("spec-examples-and-edge-cases/commoncrawl-news-crawl__sitemap-news-with-xsl-and-comments.xml")
    assert [(link.url, link.title) for link in other.links] == [
        ("http://www.example.com/business/article55.html", "Companies A, B in Merger Talks")
    ]


@pytest.mark.corpus
def test_sitemap_indexes(corpus: Path) -> None:
    assert read_file("index/trafilatura__sitemap2-index-cdata.xml").sitemaps == [
        "http://www.example.com/sitemap1.xml.gz",
        "http://www.example.com/sitemap2.xml.gz",  # inside CDATA
    ]
    bare = read_file("index/crawler-commons__sitemap.index-bare-text-entries.xml").sitemaps  # <sitemap> with no <loc>
    assert bare[0] == "https://example.com/sitemap.jss?portalCode=10260&lang=en"
    assert bare[-1] == "https://example.com/sitemap.jss?portalCode=10570&lang=en"
    assert read_file("index/advertools__sitemap_index.xml").sitemaps[0] == "https://advertools.readthedocs.io/sitemap.xml"


@pytest.mark.corpus
def test_gzip_sitemaps_read_like_their_plain_copies(corpus: Path) -> None:
    assert (corpus / "sitemaps" / "generic/trafilatura__sitemaps-org-sitemap.xml.gz").read_bytes()[:2] == b"\x1f\x8b"
    plain = read_file("generic/trafilatura__sitemaps-org-sitemap.xml")
    assert read_file("generic/trafilatura__sitemaps-org-sitemap.xml.gz") == plain
    assert plain.links[0] == Link(
        url="https://www.sitemaps.org/", source="corpus", published_at=datetime(2016, 11, 21, tzinfo=UTC)
    )
    zipped = read_file("spec-examples-and-edge-cases/crawler-commons__xmlSitemap.gz").links
    assert [link.url for link in zipped] == [
        "http://www.example.com/",
        "http://www.example.com/catalog?desc=vacation_hawaii&item=12",
        "http://www.example.com/catalog?desc=vacation_new_zealand&item=73",
        "http://www.example.com/catalog?desc=vacation_newfoundland&item=74",
        "http://www.example.com/catalog?desc=vacation_usa&item=83",
    ]
    assert [link.published_at for link in zipped] == [
        datetime(2005, 1, 1, tzinfo=UTC),
        None,
        datetime(2004, 12, 23, tzinfo=UTC),
        datetime(2004, 12, 23, 18, 0, 15, tzinfo=UTC),
        datetime(2004, 11, 23, tzinfo=UTC),
    ]
    text = read_file("spec-examples-and-edge-cases/crawler-commons__sitemap.txt.gz").links
    assert [link.url for link in text] == [link.url for link in zipped]


@pytest.mark.corpus
def test_plain_text_sitemaps_with_and_without_bom(corpus: Path) -> None:
    assert (corpus / "sitemaps" / "spec-examples-and-edge-cases/crawler-commons__sitemap-with-bom.txt").read_bytes()[:3] == b"\xef\xbb\xbf"
    expected = ["http://www.domain.com/page1.html", "http://www.domain.com/page2.html"]
    for name in ["crawler-commons__sitemap.txt", "crawler-commons__sitemap-with-bom.txt"]:
        assert [link.url for link in read_file(f"spec-examples-and-edge-cases/{name}").links] == expected


@pytest.mark.corpus
def test_odd_namespaces_still_give_their_links(corpus: Path) -> None:
    # A wrong sitemap namespace with whitespace inside <loc>, and the sitemap namespace bound to "sit:".
    for name in ["crawler-commons__sitemap.badns.xml", "crawler-commons__sitemap.ns.xml"]:
        links = read_file(f"spec-examples-and-edge-cases/{name}").links
        assert [link.url for link in links] == ["http://www.example.com/1", "http://www.example.com/2"]


@pytest.mark.corpus
def test_media_sitemaps_give_the_page_links_not_the_media(corpus: Path) -> None:
    video = read_file("article-and-media/advertools__washingtonpost-video-sitemap.xml").links
    assert video[0].url == (
        "https://www.washingtonpost.com/politics/trump-indonesia-trees/2020/05/05/62db5abb-8139-4f0d-a10e-748ecdac17e9_video.html"
    )
    assert all(link.url.endswith("_video.html") for link in video)  # never the literal content_loc "None"
    articles = read_file("article-and-media/crawler-commons__hebdenbridgetimes-articles-sitemap.xml").links
    assert articles[0] == Link(
        url="http://www.hebdenbridgetimes.co.uk/news/local/video-tour-de-yorkshire-in-calderdale-1-7242580",
        source="corpus",
        published_at=datetime(2015, 5, 3, 17, 51, 50, tzinfo=UTC),  # the page's <lastmod>, not its video's date
    )
    assert all(link.url.startswith("http://www.hebdenbridgetimes.co.uk/") for link in articles)
    images = read_file("spec-examples-and-edge-cases/crawler-commons__sitemap-images.xml").links
    assert [link.url for link in images] == ["http://www.example.com/images/some_image_landing_page.html"]


@pytest.mark.corpus
def test_an_atom_feed_used_as_a_sitemap(corpus: Path) -> None:
    assert read_file("spec-examples-and-edge-cases/crawler-commons__atom.xml").links == [
        Link(
            url="http://example.org/2003/12/13/atom03.html",  # the rel="alternate" link, not rel="edit"
            source="corpus",
            title="Atom-Powered Robots Run Amok",
            published_at=datetime(2003, 12, 13, 18, 30, 2, tzinfo=UTC),
        )
    ]
