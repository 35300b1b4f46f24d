"""links_from_feed on generated feeds (they run anywhere): the real feeds of ../shared/corpus are pinned one by
one in test_corpus_feeds.py."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime, timedelta

import pytest

from crawler.links import Link
from crawler.spiders.feed import links_from_feed, read_feed
from newsmon.errors import ExtractionError

MAX_BYTES = 20_000_000  # the config default (crawl.max_bytes)
FEED_URL = "https://news.example/world/feed.xml"
TAG = re.compile(r"<[a-zA-Z/!][^>]*>")


def parse(body: bytes, url: str = FEED_URL, content_type: str | None = None, max_bytes: int = MAX_BYTES) -> list[Link]:
    return links_from_feed(body, url, "world", content_type, max_bytes)


def assert_one_line_reason(error: pytest.ExceptionInfo[ExtractionError], *fragments: str) -> None:
    message = str(error.value)
    assert message and "\n" not in message and len(message) < 300, repr(message)
    for fragment in fragments:
        assert fragment in message, repr(message)


def rss(items: str, declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return f"""{declaration}
<rss version="2.0"><channel><title>World</title><link>https://news.example/world/</link>
<description>World news</description>{items}</channel></rss>""".encode()



def test_rss_2_items_become_links_in_feed_order_with_utc_dates() -> None:
    body = rss("""
<item><title>Peace talks resume in Geneva</title><link>https://news.example/world/2026/11/24/peace-talks</link>
  <pubDate>Tue, 24 Nov 2026 10:30:00 +0200</pubDate></item>
<item><title>  Ceasefire holds
   for a second day </title><link>https://news.example/world/2026/11/23/ceasefire</link>
  <pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate></item>""")
    assert parse(body) == [
        Link(
            url="https://news.example/world/2026/11/24/peace-talks",
            source="world",
            title="Peace talks resume in Geneva",
            published_at=datetime(2026, 11, 24, 8, 30, tzinfo=UTC),
        ),
        Link(
            url="https://news.example/world/2026/11/23/ceasefire",
            source="world",
            title="Ceasefire holds for a second day",
            published_at=datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
        ),
    ]


def test_rss_1_rdf_items_become_links_with_dublin_core_dates() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://news.example/rdf"><title>World</title><link>https://news.example/</link>
    <description>d</description>
    <items><rdf:Seq><rdf:li rdf:resource="https://news.example/a"/><rdf:li rdf:resource="https://news.example/b"/></rdf:Seq></items>
  </channel>
  <item rdf:about="https://news.example/a"><title>Gespr\xc3\xa4che in Genf</title><link>https://news.example/a</link>
    <dc:date>2026-11-24T10:30:00+01:00</dc:date></item>
  <item rdf:about="https://news.example/b"><title>No date here</title><link>https://news.example/b</link></item>
</rdf:RDF>"""
    links = parse(body)
    assert [(link.url, link.title, link.published_at) for link in links] == [
        ("https://news.example/a", "Gespr\u00e4che in Genf", datetime(2026, 11, 24, 9, 30, tzinfo=UTC)),
        ("https://news.example/b", "No date here", None),
    ]


def test_atom_relative_links_are_resolved_against_the_feed_url_and_xml_base() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>World</title><id>urn:world</id><updated>2026-11-24T10:00:00Z</updated>
  <entry><title>Peace talks resume</title><link href="/world/2026/11/24/peace-talks"/><id>urn:1</id>
    <updated>2026-11-24T09:30:00+01:00</updated></entry>
  <entry><title>Ceasefire</title><link rel="alternate" type="text/html" href="ceasefire.html"/>
    <link rel="edit" href="/edit/2"/><id>urn:2</id><published>2026-11-23T08:00:00Z</published></entry>
  <entry xml:base="https://cdn.news.example/base/"><title>Based</title><link href="item"/><id>urn:3</id></entry>
</feed>"""
    links = parse(body, url="https://news.example/world/feed.atom", content_type="application/atom+xml")
    assert [(link.url, link.published_at) for link in links] == [
        ("https://news.example/world/2026/11/24/peace-talks", datetime(2026, 11, 24, 8, 30, tzinfo=UTC)),
        ("https://news.example/world/ceasefire.html", datetime(2026, 11, 23, 8, 0, tzinfo=UTC)),
        ("https://cdn.news.example/base/item", None),
    ]


def test_an_item_without_a_link_is_skipped_and_the_others_kept() -> None:
    body = rss("""
<item><title>Only a title, nothing to fetch</title><description>text</description></item>
<item><title>Not a web link</title><link>mailto:desk@news.example</link></item>
<item><title>A guid that is a URL</title><guid>https://news.example/world/guid-only</guid></item>
<item><title>A guid that is not a URL</title><guid isPermaLink="false">urn:uuid:1234</guid></item>
<item><title>Kept</title><link>https://news.example/world/kept</link></item>""")
    assert [(link.title, link.url) for link in parse(body)] == [
        ("A guid that is a URL", "https://news.example/world/guid-only"),
        ("Kept", "https://news.example/world/kept"),
    ]


def test_duplicate_links_differing_in_tracking_parameters_collapse_to_one_canonical_url() -> None:
    body = rss("""
<item><title>First listing</title><link>https://News.Example:443/world/story?utm_source=rss&amp;utm_medium=feed</link></item>
<item><title>Second listing</title><link>https://news.example/world/story?utm_campaign=x#comments</link></item>
<item><title>Plain</title><link>https://news.example/world/story</link></item>
<item><title>Content parameter kept</title><link>https://news.example/world/story?id=7&amp;utm_source=rss</link></item>""")
    assert [(link.url, link.title) for link in parse(body)] == [
        ("https://news.example/world/story", "First listing"),
        ("https://news.example/world/story?id=7", "Content parameter kept"),
    ]


def test_html_titles_become_plain_text() -> None:
    # Google Alerts marks the matched words with <b> in an Atom title of type="html".
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Alert</title><id>urn:a</id><updated>2026-11-24T10:00:00Z</updated>
  <entry><title type="html">&lt;b&gt;Peace&lt;/b&gt; talks &amp;amp; a &lt;i&gt;ceasefire&lt;/i&gt;</title>
    <link href="https://news.example/a"/><id>urn:1</id><updated>2026-11-24T10:00:00Z</updated></entry>
  <entry><title type="text">Text titles keep &lt;angle&gt; brackets</title>
    <link href="https://news.example/b"/><id>urn:2</id><updated>2026-11-24T10:00:00Z</updated></entry>
</feed>"""
    assert [link.title for link in parse(body)] == ["Peace talks & a ceasefire", "Text titles keep <angle> brackets"]


@pytest.mark.parametrize(
    ("pub_date", "expected"),
    [
        ("Seg, 24 Set 2018 19:42:40 -0300", datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)),  # pt (UOL)
        ("Qui, 05 Dez 2024 08:00:00 -0300", datetime(2024, 12, 5, 11, 0, tzinfo=UTC)),  # pt
        ("mar, 03 dic 2024 10:00:00 +0100", datetime(2024, 12, 3, 9, 0, tzinfo=UTC)),  # es
        ("Di, 17 Okt 2023 12:00:00 +0200", datetime(2023, 10, 17, 10, 0, tzinfo=UTC)),  # de
        ("mer, 16 nov 2022 00:38:15 +0100", datetime(2022, 11, 15, 23, 38, 15, tzinfo=UTC)),  # it (Il Messaggero)
        ("sometime last week", None),
    ],
)
def test_rfc_822_dates_with_localised_names_are_read(pub_date: str, expected: datetime | None) -> None:
    body = rss(f"<item><title>t</title><link>https://news.example/a</link><pubDate>{pub_date}</pubDate></item>")
    assert parse(body)[0].published_at == expected


def test_a_gzip_body_is_inflated() -> None:
    body = rss("<item><title>Zipped</title><link>https://news.example/zipped</link></item>")
    assert [link.url for link in parse(gzip.compress(body))] == ["https://news.example/zipped"]


def test_a_gzip_bomb_over_max_bytes_is_refused() -> None:
    inflated = rss("<item><title>Bomb</title><link>https://news.example/bomb</link></item>") + b" " * 5_000_000
    bomb = gzip.compress(inflated)
    assert len(bomb) < 50_000
    with pytest.raises(ExtractionError) as error:
        parse(bomb, max_bytes=1_000_000)
    assert_one_line_reason(error, "gzip")
    assert len(parse(bomb, max_bytes=len(inflated) + 1)) == 1  # the same body is fine under a larger cap


def test_entity_expansion_is_not_amplified() -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol;" if i == 1 else f"&lol{i - 1};") * 10}">' for i in range(1, 10)
    )
    body = f"""<?xml version="1.0"?><!DOCTYPE rss [{entities}]><rss version="2.0"><channel><title>t</title>
<item><title>&lol9;</title><link>https://news.example/laughs</link></item></channel></rss>""".encode()
    # Expat bounds expansion only at 100 times the input: a few MB of feed could still become a 300 MB title.
    # A feed that declares expanding entities is refused outright (see crawler.listing.refuse_xml_entities).
    with pytest.raises(ExtractionError) as error:
        parse(body)
    assert_one_line_reason(error, "refused: the feed declares XML entities")


@pytest.mark.parametrize("body", [b"", b"   \r\n\t  "], ids=["empty", "whitespace"])
def test_an_empty_body_is_an_extraction_error(body: bytes) -> None:
    with pytest.raises(ExtractionError) as error:
        parse(body)
    assert_one_line_reason(error, "empty response")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>News</p></body></html>", "HTML page"),
        (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Cut</title><item><ti', "broken XML with no item links"),
        (b'{"items": [{"url": "https://news.example/a"}]}', "not a feed"),
        (b'<?xml version="1.0"?><catalog><book>1</book></catalog>', "no RSS or Atom items found"),
    ],
    ids=["html", "truncated", "json", "other-xml"],
)
def test_a_body_that_is_not_a_feed_is_an_extraction_error(body: bytes, fragment: str) -> None:
    with pytest.raises(ExtractionError) as error:
        parse(body, content_type="application/xml")
    assert_one_line_reason(error, "not a feed", fragment)


@pytest.mark.parametrize("content_type", [None, "application/rss+xml", "text/html; charset=utf-8", "text/plain"])
def test_a_well_formed_feed_with_no_items_is_empty_whatever_the_content_type(content_type: str | None) -> None:
    # Servers often send feeds as text/html or with no Content-Type; feedparser flags that, it is not an error.
    assert parse(rss(""), content_type=content_type) == []


def test_a_feed_with_no_items_and_no_encoding_declaration_is_empty() -> None:
    body = '<rss version="2.0"><channel><title>Not\u00edcias do mundo</title></channel></rss>'.encode("latin-1")
    assert parse(body) == []


# Unbelievable dates, dates feedparser misreads, control characters.


def rss_items(*items: tuple[str, str]) -> bytes:
    """An RSS 2.0 feed of (title, pubDate) items linking to https://news.example/0, /1, ..."""
    body = "".join(
        f"<item><title>{title}</title><link>https://news.example/{i}</link><pubDate>{date}</pubDate></item>"
        for i, (title, date) in enumerate(items)
    )
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{body}</channel></rss>'.encode()


def test_dates_before_1995_or_more_than_a_day_ahead_are_not_believed() -> None:
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=12)
    later = soon + timedelta(days=1)
    rfc822 = "%a, %d %b %Y %H:%M:%S +0000"
    body = rss_items(
        ("epoch", "Thu, 01 Jan 1970 00:00:00 GMT"),
        ("1994", "Sat, 31 Dec 1994 23:59:59 GMT"),
        ("1995", "Sun, 01 Jan 1995 00:00:00 GMT"),
        ("in 12 hours", soon.strftime(rfc822)),
        ("in 36 hours", later.strftime(rfc822)),
    )
    dates = [link.published_at for link in links_from_feed(body, "https://news.example/feed", "s", None, MAX_BYTES)]
    assert dates == [None, None, datetime(1995, 1, 1, tzinfo=UTC), soon, None]


def test_an_unbelievable_published_date_gives_way_to_the_updated_one() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>a</title><link href="https://news.example/a"/><id>urn:a</id>
  <published>1970-01-01T00:00:00Z</published><updated>2024-05-01T10:00:00+02:00</updated></entry></feed>"""
    [link] = links_from_feed(body, "https://news.example/feed", "s", None, MAX_BYTES)
    assert link.published_at == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("pub_date", "expected"),
    [
        ("Sat, Dec 16 2023 02:02:33 PM", datetime(2023, 12, 16, 14, 2, 33, tzinfo=UTC)),  # NBC New York
        ("Sat, 16 Dec 2023 10:00:00 CET", datetime(2023, 12, 16, 9, 0, tzinfo=UTC)),  # feedparser: 10:00 UTC
        ("Sat, 16 Dec 2023 10:00:00 MSK", datetime(2023, 12, 16, 7, 0, tzinfo=UTC)),
        ("Sat, 16 Dec 2023 10:00:00 EST", datetime(2023, 12, 16, 15, 0, tzinfo=UTC)),
        ("lun., 18 déc. 2023 10:00:00 +0100", datetime(2023, 12, 18, 9, 0, tzinfo=UTC)),  # fr
        ("Пн, 18 дек 2023 10:00:00 +0300", datetime(2023, 12, 18, 7, 0, tzinfo=UTC)),  # ru
        ("1518478934", None),  # a bare number: feedparser would make 2015-07-03 of it
    ],
    ids=["12-hour-clock", "CET", "MSK", "EST", "fr", "ru", "bare-number"],
)
def test_dates_feedparser_misreads_are_read_by_dateparser(pub_date: str, expected: datetime | None) -> None:
    [link] = links_from_feed(rss_items(("t", pub_date)), "https://news.example/feed", "s", None, MAX_BYTES)
    assert link.published_at == expected


def test_control_characters_are_dropped_from_titles() -> None:
    body = rss_items(("Bell\x07 and\x1b escape\x0b folded", "Sat, 16 Dec 2023 10:00:00 GMT"))
    body = body.replace(b"\x07", b"&#7;")  # not even allowed in XML: feedparser's lenient parser reads it
    [link] = links_from_feed(body, "https://news.example/feed", "s", None, MAX_BYTES)
    assert link.title == "Bell and escape folded"


# Encodings: the feed's own byte-order mark or declaration beats a server's default charset.

TITLE = "Зеленський: «мирний план» — наступний раунд у Женеві"


def feed_in(encoding: str, declared: str | None, title: str = TITLE) -> bytes:
    declaration = f'<?xml version="1.0" encoding="{declared}"?>' if declared else ""
    body = f"""{declaration}<rss version="2.0"><channel><title>t</title>
<item><title>{title}</title><link>https://news.example/1</link></item></channel></rss>"""
    return body.encode(encoding)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (feed_in("utf-8", "utf-8"), "text/xml; charset=ISO-8859-1"),  # a server default on a UTF-8 feed
        (feed_in("windows-1251", "windows-1251"), "text/html; charset=windows-1252"),
        (feed_in("utf-8", None), "text/xml; charset=iso-8859-1"),  # undeclared, valid UTF-8
        (feed_in("windows-1251", None), "application/rss+xml; charset=windows-1251"),  # undeclared: the server
        (feed_in("windows-1251", "utf-8"), "text/xml; charset=windows-1251"),  # a wrong declaration, a right server
        (feed_in("utf-8", "utf-16"), None),  # a UTF-8 feed "declaring" UTF-16
        (b"\xef\xbb\xbf" + feed_in("utf-8", "utf-8"), "text/xml; charset=windows-1252"),
        (feed_in("utf-16", "utf-16"), "text/xml"),  # with its byte-order mark
    ],
    ids=[
        "utf-8-served-as-latin-1", "windows-1251-served-as-1252", "undeclared-utf-8", "undeclared-windows-1251",
        "wrong-declaration", "utf-8-declaring-utf-16", "utf-8-bom", "utf-16-bom",
    ],
)
def test_titles_decode_as_the_feed_is_written_whatever_the_server_says(body: bytes, content_type: str | None) -> None:
    [link] = parse(body, content_type=content_type)
    assert link.title == TITLE


def test_a_feed_declaring_iso_8859_1_gets_windows_1252_curly_quotes() -> None:
    body = feed_in("windows-1252", "ISO-8859-1", title="\u201cPeace\u201d talks \u2013 day two, caf\u00e9")
    [link] = parse(body, content_type="application/rss+xml")
    assert link.title == "\u201cPeace\u201d talks \u2013 day two, caf\u00e9"


# Item links that are no URL.


def test_a_bare_word_item_link_is_not_followed_unless_the_item_has_a_permalink() -> None:
    body = rss("""
<item><title>Video</title><link>b2VjML1MLnE</link><guid>b2VjML1MLnE</guid></item>
<item><title>Clip</title><link>c3WkNM2</link><guid>https://news.example/video/c3WkNM2</guid></item>
<item><title>Story</title><link>story.html</link></item>""")
    content = read_feed(body, FEED_URL, "world", None, MAX_BYTES)
    assert [link.url for link in content.links] == [
        "https://news.example/video/c3WkNM2",
        "https://news.example/world/story.html",  # a relative path, joined to the feed's URL
    ]
    assert content.not_web_reason() == "1 item link is not an http or https URL (a bare word); not followed"


def test_a_bare_word_under_an_xml_base_is_a_link_its_author_meant() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"
xml:base="https://news.example/stories/"><title>t</title>
<entry><title>a</title><link href="4815162342"/><id>urn:a</id></entry></feed>"""
    assert [link.url for link in parse(body)] == ["https://news.example/stories/4815162342"]
