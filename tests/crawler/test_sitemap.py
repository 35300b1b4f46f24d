"""read_sitemap: generated sitemaps (run anywhere) and the sitemaps of ../shared/corpus (skipped when absent)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest

from crawler.extract import Link
from crawler.spiders.sitemap import SitemapContent, read_sitemap
from newsmon.errors import ExtractionError

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
SITEMAPS = CORPUS / "sitemaps"
T = TypeVar("T")

MAX_BYTES = 20_000_000  # the config default (crawl.max_bytes)
SITEMAP_URL = "https://news.example/sitemaps/news.xml"
URLSET = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'


def corpus_test(test: T) -> T:
    """Marks a test that reads ../shared/corpus (per test, not a module-level pytestmark: the tests on
    generated sitemaps in this file must run where the corpus is absent)."""
    test = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")(test)
    return pytest.mark.corpus(test)


def read(body: bytes, url: str = SITEMAP_URL, max_bytes: int = MAX_BYTES) -> SitemapContent:
    return read_sitemap(body, url, "news", max_bytes)


def read_file(relative: str) -> SitemapContent:
    return read_sitemap((SITEMAPS / relative).read_bytes(), f"https://sitemaps.example/{relative}", "corpus", MAX_BYTES)


def assert_one_line_reason(error: pytest.ExceptionInfo[ExtractionError], *fragments: str) -> None:
    message = str(error.value)
    assert message and "\n" not in message and len(message) < 300, repr(message)
    for fragment in fragments:
        assert fragment in message, repr(message)


# Generated sitemaps: no corpus needed.


def test_a_news_sitemap_keeps_title_and_publication_date_in_utc() -> None:
    body = f"""<?xml version="1.0" encoding="UTF-8"?>{URLSET}
  <url><loc>https://news.example/world/2026/11/24/peace-talks</loc><lastmod>2026-11-24T12:00:00Z</lastmod>
    <news:news><news:publication><news:name>Example</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>2026-11-24T10:30:00+02:00</news:publication_date>
      <news:title>Peace talks resume in Geneva</news:title></news:news></url>
  <url><loc>/world/2026/11/23/ceasefire</loc><lastmod>2026-11-23</lastmod></url>
</urlset>""".encode()
    assert read(body) == SitemapContent(
        links=[
            Link(
                url="https://news.example/world/2026/11/24/peace-talks",
                source="news",
                title="Peace talks resume in Geneva",
                published_at=datetime(2026, 11, 24, 8, 30, tzinfo=UTC),
            ),
            # A relative <loc> is resolved against the sitemap URL; a date-only lastmod is midnight UTC.
            Link(
                url="https://news.example/world/2026/11/23/ceasefire",
                source="news",
                title=None,
                published_at=datetime(2026, 11, 23, tzinfo=UTC),
            ),
        ]
    )


def test_locs_are_canonical_and_listed_once_and_non_web_locs_are_dropped() -> None:
    body = f"""{URLSET}
  <url><loc>https://News.Example/world/story?utm_source=sitemap</loc></url>
  <url><loc>  https://news.example/world/story#top  </loc></url>
  <url><loc>javascript:alert(1)</loc></url>
  <url><loc>ftp://news.example/archive.zip</loc></url>
  <url><lastmod>2026-11-24</lastmod></url>
  <url><loc>https://news.example/world/other?id=2</loc></url>
</urlset>""".encode()
    assert [link.url for link in read(body).links] == [
        "https://news.example/world/story",
        "https://news.example/world/other?id=2",
    ]


def test_a_sitemap_index_lists_child_sitemaps_resolved_and_once() -> None:
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://news.example/sitemaps/news-1.xml</loc><lastmod>2026-11-24</lastmod></sitemap>
  <sitemap><loc>news-2.xml.gz</loc></sitemap>
  <sitemap><loc>https://news.example/sitemaps/news-1.xml</loc></sitemap>
</sitemapindex>"""
    assert read(body) == SitemapContent(
        links=[],
        sitemaps=["https://news.example/sitemaps/news-1.xml", "https://news.example/sitemaps/news-2.xml.gz"],
        modified={"https://news.example/sitemaps/news-1.xml": datetime(2026, 11, 24, tzinfo=UTC)},
    )


def test_an_empty_news_sitemap_has_no_links_and_is_no_error() -> None:
    assert read(f"{URLSET}</urlset>".encode()) == SitemapContent(links=[], sitemaps=[])


def test_entity_expansion_is_not_performed() -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol;" if i == 1 else f"&lol{i - 1};") * 10}">' for i in range(1, 10)
    )
    body = f"""<?xml version="1.0"?><!DOCTYPE urlset [{entities}]>{URLSET}
  <url><loc>https://news.example/laughs</loc><news:news><news:title>&lol9;</news:title></news:news></url>
</urlset>""".encode()
    links = read(body).links
    assert [link.url for link in links] == ["https://news.example/laughs"]
    assert len(links[0].title or "") < 100


def test_an_external_entity_is_not_loaded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    body = f"""<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>{URLSET}
  <url><loc>https://news.example/xxe</loc><news:news><news:title>&xxe;</news:title></news:news></url>
</urlset>""".encode()
    links = read(body).links
    assert [link.url for link in links] == ["https://news.example/xxe"]
    assert "secret" not in (links[0].title or "")


def test_a_gzip_sitemap_is_inflated() -> None:
    body = gzip.compress(f"{URLSET}<url><loc>https://news.example/zipped</loc></url></urlset>".encode())
    assert [link.url for link in read(body).links] == ["https://news.example/zipped"]


def test_a_gzip_bomb_over_max_bytes_is_refused() -> None:
    inflated = f"{URLSET}<url><loc>https://news.example/bomb</loc></url></urlset>".encode() + b" " * 5_000_000
    bomb = gzip.compress(inflated)
    assert len(bomb) < 50_000
    with pytest.raises(ExtractionError) as error:
        read(bomb, max_bytes=1_000_000)
    assert_one_line_reason(error, "gzip")
    assert len(read(bomb, max_bytes=len(inflated) + 1).links) == 1  # the same body is fine under a larger cap


def test_a_plain_text_sitemap_with_a_bom_is_read() -> None:
    body = b"\xef\xbb\xbfhttps://news.example/a\r\nhttps://news.example/b?utm_source=x\n\nhttps://news.example/a\n"
    assert read(body) == SitemapContent(
        links=[Link(url="https://news.example/a", source="news"), Link(url="https://news.example/b", source="news")]
    )


def test_a_feed_in_place_of_a_sitemap_is_read_as_a_feed() -> None:
    # The sitemap protocol accepts an RSS or Atom feed as a sitemap.
    body = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>World</title>
<item><title>Peace talks</title><link>https://news.example/world/peace-talks</link>
<pubDate>Tue, 24 Nov 2026 10:30:00 +0000</pubDate></item></channel></rss>"""
    assert read(body).links == [
        Link(
            url="https://news.example/world/peace-talks",
            source="news",
            title="Peace talks",
            published_at=datetime(2026, 11, 24, 10, 30, tzinfo=UTC),
        )
    ]


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        (b"", ("empty response",)),
        (b" \n\t ", ("empty response",)),
        (b"<!DOCTYPE html><html><head><title>Home</title></head><body>News</body></html>", ("root element is <html>",)),
        (b"User-agent: *\nDisallow: /private/\n", ("a robots.txt with no Sitemap: lines",)),
        (b'<?xml version="1.0"?><catalog><book>1</book></catalog>', ("root element is <catalog>",)),
    ],
    ids=["empty", "whitespace", "html", "robots", "other-xml"],
)
def test_a_body_that_is_not_a_sitemap_is_an_extraction_error(body: bytes, fragments: tuple[str, ...]) -> None:
    with pytest.raises(ExtractionError) as error:
        read(body)
    assert_one_line_reason(error, *fragments)


# The sitemaps of ../shared/corpus.

# Every file of the corpus is pinned in tests/crawler/test_corpus_sitemaps.py; these look closer at a few.


@corpus_test
def test_nytimes_news_sitemap_titles_and_dates_with_whitespace_trimmed() -> None:
    links = read_file("news/advertools__nytimes-news-sitemap-2020.xml").links
    assert links[0] == Link(
        url="https://www.nytimes.com/interactive/2020/05/11/magazine/quarantine-insanity.html",  # "... .html </loc>"
        source="corpus",
        title="Quarantine Was Driving Me Crazy — So I Decided to Lose My Mind on Purpose",
        published_at=datetime(2020, 5, 11, 9, 0, 1, tzinfo=UTC),  # publication_date, not the later lastmod
    )
    assert links[1].title == "I Didn’t Feel Parisian Until I Escaped Paris"
    # The <image:loc> inside a <url> is not a link of its own.
    assert not any("static01.nyt.com" in link.url for link in links)


@corpus_test
def test_news_namespace_bound_to_ns0_prefix_still_gives_titles_and_dates() -> None:
    relative = "news/bentonvillebulletin__news-sitemap-10urls-ns0-prefix.xml"
    assert b"<ns0:title>" in (SITEMAPS / relative).read_bytes()
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


@corpus_test
def test_empty_news_sitemap_has_no_links_and_is_no_error() -> None:
    assert read_file("news/bentonvillebulletin__news-sitemap-empty.xml") == SitemapContent(links=[], sitemaps=[])


@corpus_test
def test_wordpress_news_sitemap() -> None:
    links = read_file("news/crawler-commons__wordpresscom-shinpaideshou-news-sitemap.xml").links
    assert [(link.title, link.published_at) for link in links] == [
        ("Job Opening: Reischauer Policy Research Fellow", datetime(2017, 4, 25, 10, 0, 36, tzinfo=UTC)),
        (
            "Call for Papers: Nation, Gender and History, Asian Cinemas in Perspective",
            datetime(2017, 4, 24, 10, 0, 33, tzinfo=UTC),
        ),
        ("Job Opening: Lecturer in Japanese Studies, University of Leeds", datetime(2017, 4, 24, 10, 0, 10, tzinfo=UTC)),
    ]


@corpus_test
def test_google_news_spec_example_with_empty_news_name() -> None:
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


@corpus_test
def test_sitemap_indexes() -> None:
    assert read_file("index/trafilatura__sitemap2-index-cdata.xml").sitemaps == [
        "http://www.example.com/sitemap1.xml.gz",
        "http://www.example.com/sitemap2.xml.gz",  # inside CDATA
    ]
    bare = read_file("index/crawler-commons__sitemap.index-bare-text-entries.xml").sitemaps  # <sitemap> with no <loc>
    assert bare[0] == "https://example.com/sitemap.jss?portalCode=10260&lang=en"
    assert bare[-1] == "https://example.com/sitemap.jss?portalCode=10570&lang=en"
    assert read_file("index/advertools__sitemap_index.xml").sitemaps[0] == "https://advertools.readthedocs.io/sitemap.xml"


@corpus_test
def test_gzip_sitemaps_read_like_their_plain_copies() -> None:
    assert (SITEMAPS / "generic/trafilatura__sitemaps-org-sitemap.xml.gz").read_bytes()[:2] == b"\x1f\x8b"
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


@corpus_test
def test_plain_text_sitemaps_with_and_without_bom() -> None:
    assert (SITEMAPS / "spec-examples-and-edge-cases/crawler-commons__sitemap-with-bom.txt").read_bytes()[:3] == b"\xef\xbb\xbf"
    expected = ["http://www.domain.com/page1.html", "http://www.domain.com/page2.html"]
    for name in ["crawler-commons__sitemap.txt", "crawler-commons__sitemap-with-bom.txt"]:
        assert [link.url for link in read_file(f"spec-examples-and-edge-cases/{name}").links] == expected


@corpus_test
def test_odd_namespaces_still_give_their_links() -> None:
    # A wrong sitemap namespace with whitespace inside <loc>, and the sitemap namespace bound to "sit:".
    for name in ["crawler-commons__sitemap.badns.xml", "crawler-commons__sitemap.ns.xml"]:
        links = read_file(f"spec-examples-and-edge-cases/{name}").links
        assert [link.url for link in links] == ["http://www.example.com/1", "http://www.example.com/2"]


@corpus_test
def test_media_sitemaps_give_the_page_links_not_the_media() -> None:
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


@corpus_test
def test_an_atom_feed_used_as_a_sitemap() -> None:
    assert read_file("spec-examples-and-edge-cases/crawler-commons__atom.xml").links == [
        Link(
            url="http://example.org/2003/12/13/atom03.html",  # the rel="alternate" link, not rel="edit"
            source="corpus",
            title="Atom-Powered Robots Run Amok",
            published_at=datetime(2003, 12, 13, 18, 30, 2, tzinfo=UTC),
        )
    ]
