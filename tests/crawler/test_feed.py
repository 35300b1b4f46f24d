"""links_from_feed: generated feeds (run anywhere) and the real feeds of ../shared/corpus (skipped when absent).

The corpus tests pin what the parser must really do with each real file: how many distinct article links it
yields (items without a link give nothing, and one URL is listed once), exact titles where the encoding is
the hard part, and dates made timezone-aware UTC.
"""

from __future__ import annotations

import csv
import gzip
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from lxml import etree

from crawler.extract import Link
from crawler.spiders.feed import links_from_feed
from newsmon.errors import ExtractionError

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
FEEDS = CORPUS / "feeds"
T = TypeVar("T")


def corpus_test(test: T) -> T:
    """Marks a test that reads ../shared/corpus (per test, not a module-level pytestmark: the tests on
    generated feeds in this file must run where the corpus is absent)."""
    test = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")(test)
    return pytest.mark.corpus(test)


MAX_BYTES = 20_000_000  # the config default (crawl.max_bytes)
FEED_URL = "https://news.example/world/feed.xml"
TAG = re.compile(r"<[a-zA-Z/!][^>]*>")
MOJIBAKE = re.compile("\ufffd|Ã[\u0080-\u00bf]|Ð[\u0080-\u00bf]|â€")


def parse(body: bytes, url: str = FEED_URL, content_type: str | None = None, max_bytes: int = MAX_BYTES) -> list[Link]:
    return links_from_feed(body, url, "world", content_type, max_bytes)


def parse_file(path: Path) -> list[Link]:
    return links_from_feed(path.read_bytes(), f"https://feeds.example/{path.name}", path.stem, None, MAX_BYTES)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def assert_one_line_reason(error: pytest.ExceptionInfo[ExtractionError], *fragments: str) -> None:
    message = str(error.value)
    assert message and "\n" not in message and len(message) < 300, repr(message)
    for fragment in fragments:
        assert fragment in message, repr(message)


def rss(items: str, declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return f"""{declaration}
<rss version="2.0"><channel><title>World</title><link>https://news.example/world/</link>
<description>World news</description>{items}</channel></rss>""".encode()


# Generated feeds: no corpus needed.


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


# The real feeds of ../shared/corpus.


def _index() -> dict[str, dict[str, str]]:
    if not CORPUS.is_dir():
        return {}
    with (FEEDS / "index.csv").open(encoding="utf-8", newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


INDEX = _index()


def _names(folder: str) -> list[str]:
    return sorted(path.name for path in (FEEDS / folder).iterdir()) if CORPUS.is_dir() else []


# Where the number of distinct links differs from index.csv's feedparser_entries (checked by hand).
NEWS_LINKS = {
    # 54 items, but 3 stories are listed twice under the same <link> (guids differ only by #0/#10, #2/#5).
    "gogator__bbc-news.xml": 51,
    # 20 items, but the Oscar 2024 story (644982) is listed twice with the same <link> (lines 108 and 146).
    "feeder__rss_ukrnet.xml": 19,
}
# Items with no date. index.csv also counts UOL (15, Portuguese month names) and Il Messaggero (1, Italian day
# name) as undated: feedparser cannot read those, the parser must.
NEWS_UNDATED = {"miniflux__rdf_UTF8.xml": 60}


@corpus_test
@pytest.mark.parametrize("name", _names("news"))
def test_every_real_news_feed_yields_its_distinct_links_with_clean_titles_and_aware_dates(name: str) -> None:
    row = INDEX[f"news/{name}"]
    links = parse_file(FEEDS / "news" / name)
    assert len(links) == NEWS_LINKS.get(name, int(row["feedparser_entries"]))
    assert len({link.url for link in links}) == len(links)
    for link in links:
        assert link.url.startswith(("http://", "https://")) and "#" not in link.url and link.url == link.url.strip()
        assert link.source == Path(name).stem
        assert link.title, link.url
        assert link.title == link.title.strip()
        assert not TAG.search(link.title), link.title
        assert not MOJIBAKE.search(link.title), link.title
        if link.published_at is not None:
            assert link.published_at.utcoffset() == timedelta(0), link.published_at
    assert sum(link.published_at is None for link in links) == NEWS_UNDATED.get(name, 0)


@corpus_test
def test_guardian_world_with_raw_ampersands_in_attributes_still_yields_54_items() -> None:
    body = (FEEDS / "news" / "feeder__rss_theguardian.xml").read_bytes()
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(body)  # the defect is real: a strict XML parser gives up
    links = parse_file(FEEDS / "news" / "feeder__rss_theguardian.xml")
    assert len(links) == 54
    assert links[0] == Link(
        url="https://www.theguardian.com/world/2022/sep/23/saudi-foreign-minister-defends-role-in-ukraine-prisoner-swaps-khashoggi",
        source="feeder__rss_theguardian",
        title="Saudi foreign minister defends role in securing Ukraine prisoner swaps",
        published_at=datetime(2022, 9, 23, 10, 11, 21, tzinfo=UTC),
    )
    assert "Church of England bars Desmond Tutu\u2019s daughter from officiating at funeral" in {link.title for link in links}


@corpus_test
def test_ukrainska_pravda_windows_1251_titles_decode_to_cyrillic() -> None:
    path = FEEDS / "news" / "data-import__pravda-com-ua.xml"
    assert b'encoding="windows-1251"' in path.read_bytes()[:100]
    links = parse_file(path)
    assert len(links) == 20
    assert links[0].title == 'День сердца: инфаркты и инсульты значительно "помолодели"'
    assert links[2].title == '"Голос" написал запрос к Зеленскому: требует отозвать Фокина с ТКГ'
    assert links[2].url == "https://www.pravda.com.ua/rus/news/2020/09/29/7268111/"
    assert all(re.search("[а-яА-ЯіїєІЇЄ]", link.title or "") for link in links)


@corpus_test
def test_heise_rdf_items_have_no_dates_but_still_yield_links() -> None:
    links = parse_file(FEEDS / "news" / "miniflux__rdf_UTF8.xml")
    assert len(links) == 60
    assert all(link.published_at is None for link in links)
    assert links[0].title == "OLED-TVs: Vorsichtsmaßnahmen gegen Einbrennen"
    assert links[1] == Link(
        url="https://www.heise.de/newsticker/meldung/Mega-Deal-IBM-uebernimmt-Red-Hat-4205582.html?wt_mc=rss.ho.beitrag.rdf",
        source="miniflux__rdf_UTF8",
        title="Mega-Deal: IBM übernimmt Red Hat",
        published_at=None,
    )


@corpus_test
def test_uol_dates_with_portuguese_names_are_read() -> None:
    path = FEEDS / "news" / "rss-parser__uolNoticias.rss"
    assert b"<pubDate>Seg, 24 Set 2018 19:42:40 -0300</pubDate>" in path.read_bytes()
    links = parse_file(path)
    assert links[0].published_at == datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)
    assert links[-1].published_at == datetime(2018, 9, 24, 22, 18, 49, tzinfo=UTC)
    # ISO-8859-1 bytes with no XML declaration at all.
    assert links[0].title == "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno"


# (file in news/, position): exact title and published_at (UTC), where the encoding is the hard part.
DECODED: dict[tuple[str, int], tuple[str, str]] = {
    ("feeder__golem-de.xml", 1): (  # ISO-8859-1
        "Apple: Jony Ive übernimmt wieder Apples Produktdesign",
        "2017-12-09T13:05:00+00:00",
    ),
    ("rss-parser__encoding.rss", 0): (  # ISO-8859-1
        "Mãe de utente é a nova presidente da Raríssimas",
        "2018-01-03T13:47:00+00:00",
    ),
    ("feeder__rss_lemonde.xml", 0): (
        "JO d’hiver 2018 : pas de médaille pour Martin Fourcade",
        "2018-02-11T10:00:26+00:00",  # "Sun, 11 Feb 2018 11:00:26 +0100"
    ),
    ("node-feedparser__iconv.xml", 0): (  # windows-1251
        "В Бузулуке главные стройплощадки – детсад и Ледовый дворец",
        "2014-01-22T14:31:31+00:00",
    ),
    ("feed-rs__rss_1.0_iso8859.xml", 0): (  # RSS 1.0, ISO-8859-1
        "Digitalministerium: Neue Glasfaserförderung mit Schnellkasse",
        "2023-01-25T18:03:02+00:00",
    ),
    ("feed-rs__rss_2.0_ilmessaggero.xml", 0): (  # no encoding declared; Italian day name in the pubDate
        "Missili Polonia, cosa è successo? Tensione Nato-Russia, Mosca: non siamo stati noi",
        "2022-11-15T23:38:15+00:00",
    ),
    ("data-import__unian.xml", 1): (  # CDATA with surrounding whitespace
        "Завтра Україну накриють дощі, температура на заході впаде до +14°",
        "2020-09-28T13:30:00+00:00",
    ),
    ("miniflux__urdu_UTF8.xml", 0): (  # right-to-left script
        "امریکی عسکری امداد کی بندش کی وجوہات: انڈیا سے جنگ، جوہری پروگرام اور اب دہشت گردوں کی پشت پناہی",
        "2018-01-05T16:51:00+00:00",
    ),
}


@corpus_test
@pytest.mark.parametrize(("name", "index"), sorted(DECODED))
def test_non_ascii_titles_decode_exactly(name: str, index: int) -> None:
    title, published = DECODED[(name, index)]
    link = parse_file(FEEDS / "news" / name)[index]
    assert link.title == title
    assert link.published_at == utc(published)


@corpus_test
def test_bbc_items_repeated_under_one_link_are_listed_once() -> None:
    links = parse_file(FEEDS / "news" / "gogator__bbc-news.xml")
    urls = [link.url for link in links]
    for repeated in [
        "https://www.bbc.com/news/articles/cp448vp8k88o",
        "https://www.bbc.com/news/articles/c3ggk77ggvzo",
        "https://www.bbc.com/sport/boxing/articles/cg33drqdd2no",
    ]:
        assert urls.count(repeated) == 1


@corpus_test
def test_google_alerts_highlighting_is_not_kept_in_titles() -> None:
    links = parse_file(FEEDS / "other" / "feedjira__google_alerts_atom.xml")
    assert len(links) == 20
    assert links[1].title == "Slack Stock Has a Compelling Story and the Numbers to Back It Up"
    assert not any(TAG.search(link.title or "") for link in links)


# Every file of feeds/edge-cases/: a feed that holds items ...
EDGE_FEEDS: dict[str, tuple[int, dict[int, str], dict[int, str]]] = {
    # name: (distinct links, {position: exact title}, {position: published_at in UTC})
    "feeder__empty_slash_comment.xml": (
        1, {0: "Anheuser Busch: US-Brauerei bestellt 40 Tesla-Trucks vor"}, {0: "2017-12-09T14:44:00+00:00"}
    ),
    # The title is double-escaped in the XML: the forum topic really is about the <pre> and <b> tags.
    "feeder__rss_diskuse.xml": (
        1,
        {0: "Kajman, O této diskusi: test <pre> in <description> and <b>bold</b> in title"},
        {0: "2020-04-15T14:30:29+00:00"},
    ),
    # An Atom feed inside an XHTML document.
    "feedjira__DuplicateContentAtomFeed.xml": (
        10, {0: "Down time", 1: "Kickstarting failure", 9: "Balanced variable phase shift circuit"},
        {0: "2014-07-21T19:14:39+00:00"},
    ),
    # Truncated (no closing tags) and a Unix timestamp in dc:date: the pubDate is used.
    "feedjira__InvalidDateFormat.xml": (
        2, {0: "Item 0 with an invalid date", 1: "Item 1 with all valid dates"},
        {0: "2017-10-16T15:10:00+00:00", 1: "2017-10-17T12:17:00+00:00"},
    ),
    "miniflux__encoding_WINDOWS-1251.xml": (
        50, {0: "Цитата #17703", 49: "Цитата #17220"}, {0: "2018-03-21T07:27:32+00:00"}
    ),
    # ISO-8859-1 bytes, no encoding declared. index.csv counts 10 items; one is empty (<link></link>).
    "miniflux__no_encoding_ISO-8859-1.xml": (
        9,
        {
            3: "Caroline Eliacheff : « Dolto reste authentiquement subversive »",
            4: "L'enfant doué : quand trop comprendre... empêche parfois de comprendre",
        },
        {0: "2018-10-17T10:30:00+00:00"},
    ),
    # Raw gzip of a windows-1251 feed (the same content as news/node-feedparser__iconv.xml).
    "node-feedparser__compressed.xml": (
        10, {0: "В Бузулуке главные стройплощадки – детсад и Ледовый дворец", 1: "ЧОПовцы в Оренбурге избили молодого человека"},
        {0: "2014-01-22T14:31:31+00:00"},
    ),
    # No <link>, the same permalink <guid> twice.
    "node-feedparser__guid-dupes.xml": (1, {0: "Huh?"}, {0: "2014-06-19T06:00:00+00:00"}),
    # index.csv counts 20 items: each of the 10 real items holds an empty nested <item />, which is no story.
    "node-feedparser__illegally-nested.xml": (
        10, {0: "My Professional Armchair Analysis of CES", 9: "Is iPhone X Apple's Vista?"},
        {0: "2018-01-17T20:50:00+00:00"},  # "Wed, 17 Jan 2018 15:50:00 EST"
    ),
    # Raw gzip; XML-invalid control characters inside.
    "node-feedparser__invalid-characters-gzipped.xml": (
        25, {0: "NSOperation", 24: "Extended File Attributes"}, {0: "2014-07-14T07:00:00+00:00"}
    ),
    # Atom entries with no link at all (only an <id> that is a tag: URI, or only an empty <author>): nothing to fetch.
    "rss-parser__incomplete-fields.atom": (0, {}, {}),
    "rss-parser__missing-fields.atom": (0, {}, {}),
}
# ... and a response that is not a feed: (what the one-line reason must say).
EDGE_NOT_FEEDS = {
    "feed-rs__rss_2.0_invalid_1.xml": ("broken XML with no item links", "no element found", "line 19"),
    "node-feedparser__notafeed.html": ("the response is an HTML page",),
    "rss-parser__unrecognized.rss": ("the response is an HTML page",),  # IIS "Document Moved"
}


@corpus_test
def test_every_edge_case_file_has_a_test() -> None:
    assert set(_names("edge-cases")) == set(EDGE_FEEDS) | set(EDGE_NOT_FEEDS)


@corpus_test
@pytest.mark.parametrize("name", sorted(EDGE_FEEDS))
def test_edge_case_feed_yields_its_links(name: str) -> None:
    count, titles, dates = EDGE_FEEDS[name]
    links = parse_file(FEEDS / "edge-cases" / name)
    assert len(links) == count
    assert len({link.url for link in links}) == count
    for position, title in titles.items():
        assert links[position].title == title
    for position, published in dates.items():
        assert links[position].published_at == utc(published)
    assert all(link.published_at is None or link.published_at.utcoffset() == timedelta(0) for link in links)


@corpus_test
@pytest.mark.parametrize("name", sorted(EDGE_NOT_FEEDS))
def test_edge_case_that_is_not_a_feed_is_an_extraction_error_with_a_one_line_reason(name: str) -> None:
    with pytest.raises(ExtractionError) as error:
        parse_file(FEEDS / "edge-cases" / name)
    assert_one_line_reason(error, "not a feed: ", *EDGE_NOT_FEEDS[name])


@corpus_test
def test_gzipped_edge_cases_are_raw_gzip_and_read_like_the_plain_feed() -> None:
    compressed = (FEEDS / "edge-cases" / "node-feedparser__compressed.xml").read_bytes()
    assert compressed.startswith(b"\x1f\x8b")
    assert (FEEDS / "edge-cases" / "node-feedparser__invalid-characters-gzipped.xml").read_bytes()[:2] == b"\x1f\x8b"
    plain = parse_file(FEEDS / "news" / "node-feedparser__iconv.xml")
    zipped = parse_file(FEEDS / "edge-cases" / "node-feedparser__compressed.xml")
    assert [(link.url, link.title, link.published_at) for link in zipped] == [
        (link.url, link.title, link.published_at) for link in plain
    ]
    with pytest.raises(ExtractionError) as error:
        links_from_feed(compressed, FEED_URL, "oren", None, max_bytes=1_000)
    assert_one_line_reason(error, "gzip")


@corpus_test
def test_edge_case_links_come_from_a_permalink_guid_and_lose_their_fragment() -> None:
    [braingle] = parse_file(FEEDS / "edge-cases" / "node-feedparser__guid-dupes.xml")
    assert braingle.url == "http://www.braingle.com/50366.html"  # no <link>, only <guid>
    [diskuse] = parse_file(FEEDS / "edge-cases" / "feeder__rss_diskuse.xml")
    assert diskuse.url == "https://diskuse.jakpsatweb.cz/?action=vthread&forum=18&topic=173233"  # was #post-1112174
