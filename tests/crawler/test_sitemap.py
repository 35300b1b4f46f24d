"""read_sitemap on generated sitemaps (they run anywhere): the sitemaps of ../shared/corpus are pinned one by one in
test_corpus_sitemaps.py."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.links import Link
from crawler.spiders.sitemap import SitemapContent, SitemapKind, read_sitemap
from newsmon.errors import ExtractionError

MAX_BYTES = 20_000_000  # the config default (crawl.max_bytes)
SITEMAP_URL = "https://news.example/sitemaps/news.xml"
URLSET = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'


def read(
    body: bytes | str, url: str = SITEMAP_URL, max_bytes: int = MAX_BYTES, now: datetime | None = None
) -> SitemapContent:
    return read_sitemap(body.encode() if isinstance(body, str) else body, url, "news", max_bytes, now=now)


def assert_one_line_reason(error: pytest.ExceptionInfo[ExtractionError], *fragments: str) -> None:
    message = str(error.value)
    assert message and "\n" not in message and len(message) < 300, repr(message)
    for fragment in fragments:
        assert fragment in message, repr(message)



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
                updated_at=datetime(2026, 11, 24, 12, 0, tzinfo=UTC),  # the later lastmod: changed since
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


def test_a_sitemap_declaring_an_entity_bomb_is_refused() -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol;" if i == 1 else f"&lol{i - 1};") * 10}">' for i in range(1, 10)
    )
    body = f"""<?xml version="1.0"?><!DOCTYPE urlset [{entities}]>{URLSET}
  <url><loc>https://news.example/laughs</loc><news:news><news:title>&lol9;</news:title></news:news></url>
</urlset>""".encode()
    with pytest.raises(ExtractionError, match="^refused: the sitemap declares XML entities that expand"):
        read(body)
    with pytest.raises(ExtractionError, match="^refused: the sitemap declares XML entities that expand"):
        read(gzip.compress(body))  # also once inflated


def test_a_sitemap_declaring_an_external_entity_is_refused_and_nothing_is_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    body = f"""<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>{URLSET}
  <url><loc>https://news.example/xxe</loc><news:news><news:title>&xxe;</news:title></news:news></url>
</urlset>""".encode()
    with pytest.raises(ExtractionError, match="^refused: the sitemap declares an external XML entity") as caught:
        read(body)
    assert "secret" not in str(caught.value)


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


# robots.txt files, believable dates, news elements in odd places (judged as of NOW).

NEWS_URLSET = (
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9" '
    'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1" '
    'xmlns:video="http://www.google.com/schemas/sitemap-video/1.1">'
)
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def read_as_of_now(body: bytes | str, url: str = SITEMAP_URL) -> SitemapContent:
    return read(body, url, now=NOW)


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
    content = read_as_of_now(body, "https://news.example/robots.txt")
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
    content = read_as_of_now(body, "https://news.example/feeds/config.txt")
    assert (content.kind, content.sitemaps) == (SitemapKind.ROBOTS, ["https://news.example/feeds/news-sitemap.xml"])
    assert read_as_of_now("\ufeffsitemap: /news.xml\r\n".encode(), "https://news.example/robots.txt").kind is SitemapKind.ROBOTS
    # A robots.txt of comments only is still a robots.txt at /robots.txt, and is no sitemap anywhere.
    with pytest.raises(ExtractionError, match="^not a sitemap: a robots.txt with no Sitemap: lines$"):
        read_as_of_now("# nothing to see\n", "https://news.example/robots.txt")
    with pytest.raises(ExtractionError, match="^not a sitemap: neither XML nor a list of URLs$"):
        read_as_of_now("# nothing to see\n", "https://news.example/sitemap.txt")


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
    dates = {link.url.rsplit("/", 1)[1]: link.published_at for link in read_as_of_now(body).links}
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
    content = read_as_of_now(body)
    assert content.sitemaps == [f"https://news.example/sitemaps/news-{i}.xml" for i in (1, 2, 3)]
    assert content.modified == {"https://news.example/sitemaps/news-2.xml": datetime(2026, 11, 24, 10, 0, tzinfo=UTC)}
    assert content.kind is SitemapKind.INDEX


def test_news_elements_without_a_prefix_are_read() -> None:
    body = """<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://news.example/a</loc>
  <news xmlns="http://www.google.com/schemas/sitemap-news/0.9"><publication><name>N</name></publication>
    <publication_date>2026-11-24T10:30:00+02:00</publication_date><title>Talks resume</title></news></url></urlset>"""
    assert read_as_of_now(body).links == [
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
    assert read_as_of_now(body).links == [
        Link(url="https://news.example/world/story", source="news", published_at=datetime(2026, 11, 24, 10, tzinfo=UTC))
    ]


def test_news_titles_are_plain_text() -> None:
    body = f"""{NEWS_URLSET}<url><loc>https://news.example/a</loc><news:news><news:title>
    Ben &amp;amp; Jerry&amp;#8217;s   new\tflavour&#x9f;
  </news:title></news:news></url><url><loc>https://news.example/b</loc>
  <news:news><news:title><![CDATA[AT&T deal]]></news:title></news:news></url></urlset>"""
    # Entities escaped twice decoded, whitespace folded, C1 control characters dropped; a single "&" stays.
    assert [link.title for link in read_as_of_now(body).links] == ["Ben & Jerry’s new flavour", "AT&T deal"]
