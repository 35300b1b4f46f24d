"""Every real feed of ../shared/corpus/feeds through links_from_feed, one case per file (skipped when absent).

Each case pins what the parser yields for the file: its number of distinct item links, how many of them carry
a date, the first item's date in UTC and two or three exact titles, copied from the file and decoded. Where
that differs from feeds/index.csv (feedparser 6.0.14's raw entry counts), the table says why.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import pytest

from crawler.links import Link
from crawler.spiders.feed import links_from_feed, read_feed
from newsmon.errors import ExtractionError
from tests.servers import CORPUS

MAX_BYTES = 20_000_000  # the config default (crawl.max_bytes)


class Feed(NamedTuple):
    items: int  # distinct item links
    dated: int  # how many of them have a date
    first_date: str | None  # the first item's date, UTC
    titles: tuple[str, ...] = ()  # exact titles among the items


# feeds/<folder>/<file>: what the parser yields.
FEEDS: dict[str, Feed] = {
    "news/data-import__liga-net.xml": Feed(20, 20, "2020-09-29T12:05:59Z", (
        "Украина в день местных выборов перейдет на зимнее время: куда переводить стрелки",
        "Каждые 16 секунд в мире от коронавируса умирает один человек – Reuters",
    )),
    # windows-1251; 20 items, one of which links a bare video id ("b2VjML1MLnE"), not a URL: not followed
    "news/data-import__pravda-com-ua.xml": Feed(19, 19, "2020-09-29T12:00:00Z", (
        'День сердца: инфаркты и инсульты значительно "помолодели"',
        'Курс валют: "черный" и наличный рынки, обменники',
        "Из НБУ уходит руководитель управления финансовых и операционных рисков",
    )),
    "news/data-import__ukranews.xml": Feed(2, 2, "2020-09-28T15:25:00Z", (
        "Херсонский губернатор Гусев купил квартиру в кредит",
        "Из-за сухого лета херсонские аграрии потеряли часть урожая ранних зерновых",
    )),
    "news/data-import__unian.xml": Feed(50, 50, "2020-09-28T13:35:12Z", (  # CDATA titles with whitespace around
        '"Зір вдалося зберегти": у Дніпрі лікарі рятують сапера, який підірвався на Донбасі',
        "Завтра Україну накриють дощі, температура на заході впаде до +14°",
        'Джеймс Кемерон закінчив зйомки "Аватара 2"',
    )),
    "news/feed-rs__atom_example_2.xml": Feed(2, 2, "2019-07-31T11:54:28Z", (
        "Will someone plz dump our shizz on the Moon, NASA begs as one of the space biz vendors drops out",
        "Satellites with lasers and machine guns coming! China's new plans? Trump's Space Force? Nope, the French",
    )),
    "news/feed-rs__rss_1.0_iso8859.xml": Feed(1, 1, "2023-01-25T18:03:02Z", (  # "2023-01-25T19:03:02+01:00"
        "Digitalministerium: Neue Glasfaserförderung mit Schnellkasse",
    )),
    "news/feed-rs__rss_2.0_example_2.xml": Feed(1, 1, "2019-08-01T20:15:00Z", (  # "Thu, 01 Aug 2019 16:15 EDT"
        "NASA Television to Broadcast Space Station Departure of Cygnus Cargo Ship",
    )),
    "news/feed-rs__rss_2.0_example_3.xml": Feed(1, 1, "2019-08-02T15:35:34Z", (
        "How a Historian Uncovered Ronald Reagan’s Racist Remarks to Richard Nixon",
    )),
    "news/feed-rs__rss_2.0_example_5.xml": Feed(1, 1, "2019-08-05T23:11:09Z", (
        "Apple isn’t the most cash-rich company in the world anymore, but it doesn’t matter",
    )),
    "news/feed-rs__rss_2.0_ilgiornale.xml": Feed(1, 1, "2022-11-15T20:15:04Z", (  # "Tue, 15 Nov 2022 20:15:04 Z"
        "Arrestato in Pakistan Shabbar Abbas. In Italia è accusato per l'omicidio di Saman",
    )),
    # No encoding declared; "mer, 16 nov 2022 00:38:15 +0100" has an Italian day name (index.csv: no date).
    "news/feed-rs__rss_2.0_ilmessaggero.xml": Feed(1, 1, "2022-11-15T23:38:15Z", (
        "Missili Polonia, cosa è successo? Tensione Nato-Russia, Mosca: non siamo stati noi",
    )),
    # "Sat, Dec 16 2023 02:02:33 PM": a 12-hour clock and no zone (taken as UTC). feedparser reads "PM" as an
    # unknown zone and gives 02:02:33.
    "news/feed-rs__rss_2.0_nbcny.xml": Feed(1, 1, "2023-12-16T14:02:33Z", (
        "NYC cops search for stabbing suspect after leaving 18-year-old to bleed out on sidewalk",
    )),
    "news/feed-rs__rss_2.0_spiegel.xml": Feed(1, 1, "2021-02-06T23:01:00Z", (
        "07.02. – die Wochenvorschau: Lockdown-Verlängerung, Kriegsverbrecher vor Gericht, Super Bowl, Karneval",
    )),
    "news/feed-rs__rss_2.0_wirecutter.xml": Feed(1, 1, "2022-09-20T11:00:17Z", (
        "How to Teach Someone a Board Game (and Even Have Fun Doing It)",
    )),
    "news/feeder__golem-de.xml": Feed(40, 40, "2017-12-09T14:44:00Z", (  # ISO-8859-1
        "Apple: Jony Ive übernimmt wieder Apples Produktdesign",
        "Telekom-Klage: Gericht untersagt O2 Falschbehauptungen bei Kundenwerbung",
        "MacOS 10.13.2: Updates für High Sierra, Sierra und El Capitan",
    )),
    "news/feeder__rdf_slashdot.xml": Feed(15, 15, "2024-03-02T15:34:00Z", (  # RSS 1.0, ISO-8859-1
        "Ransomware Attack Hampers Prescription Drug Sales at 90% of US Pharmacies",
        "Spotify, Epic Games, and Others Argue Apple's App Store Changes Do Not Comply With DMA",
    )),
    "news/feeder__rss_lemonde.xml": Feed(21, 21, "2018-02-11T10:00:26Z", (
        "JO d’hiver 2018 : pas de médaille pour Martin Fourcade",
        "Louis Gallois dénonce une « volonté politique de minorer le nombre de SDF »",
    )),
    # Not well-formed (raw "&" in image URL attributes): feedparser's lenient parser still reads all 54 items.
    "news/feeder__rss_theguardian.xml": Feed(54, 54, "2022-09-23T10:11:21Z", (
        "Saudi foreign minister defends role in securing Ukraine prisoner swaps",
        "Church of England bars Desmond Tutu’s daughter from officiating at funeral",
        "Florida prepares for hurricane as tropical storm Ian grows over Caribbean",
    )),
    # index.csv: 20 items, but the Oscar 2024 story (644982) is listed twice under the same <link> (lines 108, 146).
    "news/feeder__rss_ukrnet.xml": Feed(19, 19, "2023-12-21T23:04:55Z", (
        "Торгівля між Росією та Китаєм у 2023 році перевищила 200 млрд доларів — New York Times",
        'Надбудова над "Замком Річарда" в Києві: що зобов\'язався виконати власник',
    )),
    "news/feedjira__HuffPostCanada.xml": Feed(2, 2, "2017-10-17T22:17:00Z", (
        "Winnipeg High School Orders Custom Hijabs For Muslim Athletes",
        "The Once-In-A-Lifetime Thrill Of Opening For Tom Petty",
    )),
    "news/feedjira__TechCrunch.xml": Feed(20, 20, "2011-11-02T17:25:27Z", (  # a newline before <?xml
        "Angie’s List Sets Price Range IPO At $11 To $13 Per Share; Valued At Over $600M",
        "Ooma Invades Canada, US Premier Subscribers Can Now Talk To Their Northern Cousins For Free",
    )),
    "news/gogator__abcnews-international.xml": Feed(25, 25, "2024-05-18T15:01:59Z", (
        (
            "Georgia's president vetoes the so-called 'Russian law' targeting the media that has sparked weeks of "
            "mass protests"
        ),
        "Water, water everywhere ... most is now safe to drink in an English village after parasite outbreak",
    )),
    # index.csv: 54 items, but 3 stories are listed twice under the same <link> (guids differ by #0/#10, #2/#5).
    "news/gogator__bbc-news.xml": Feed(51, 51, "2024-05-19T12:20:49Z", (
        "Boy's body found in river as second teen 'critical'",
        "‘My heart still hurts’: The personal sacrifice of revealing a K-pop scandal",
    )),
    "news/gogator__washington-times-world.xml": Feed(20, 20, "2024-05-18T21:14:40Z", (  # titles end in "\n    "
        "Residents forced out of Canada's oil sands hub by wildfire cleared to return, officials say",
        "Israeli army finds bodies of 3 hostages in Gaza killed at Oct. 7 music festival",
    )),
    "news/miniflux__encoding_ISO-8859-1.xml": Feed(40, 40, "2018-10-28T12:48:00Z", (
        "Red Dead Redemption 2: Hinweise auf PC-Umsetzung in App von Rockstar Games",
        "Quartalszahlen: Intel legt 19-Milliarden-USD-Rekord vor",
    )),
    "news/miniflux__rdf_UTF8.xml": Feed(60, 0, None, (  # heise RDF: no item has a date
        "OLED-TVs: Vorsichtsmaßnahmen gegen Einbrennen",
        "Webhosting und Cloud Computing: Aus 1&1 und ProfitBricks wird 1&1 Ionos",
        "Mega-Deal: IBM übernimmt Red Hat",
    )),
    "news/miniflux__urdu_UTF8.xml": Feed(26, 26, "2018-01-05T16:51:00Z", (
        "امریکی عسکری امداد کی بندش کی وجوہات: انڈیا سے جنگ، جوہری پروگرام اور اب دہشت گردوں کی پشت پناہی",
        "پاکستان امریکہ تعلقات میں ’ڈو مور‘ کا نیا ایڈیشن جو آج تک چل رہا",
    )),
    "news/node-feedparser__category-feed.xml": Feed(1, 1, "2013-05-05T17:15:11Z", (
        "E.P.A. Plan to Clean Up Gowanus Canal Meets Local Resistance",
    )),
    "news/node-feedparser__iconv.xml": Feed(10, 10, "2014-01-22T14:31:31Z", (  # windows-1251
        "В Бузулуке главные стройплощадки – детсад и Ледовый дворец",
        "Имя героя увековечат в названии одной из улиц нашего города",
    )),
    "news/node-feedparser__mediacontent-dupes.xml": Feed(1, 1, "2013-02-03T04:13:03Z", (  # ISO-8859-1
        (
            "Could the infamous Black Dahlia case be about to be solved? Cadaver dog discovers death scent at "
            "Hollywood home of suspect 66 years after the horrific murder"
        ),
    )),
    "news/node-feedparser__tpm.atom": Feed(20, 20, "2017-11-08T23:15:58Z", (
        "Hannity Announces Fox Has Hired Sebastian Gorka As NatSec Strategist",
        "RNC Chair Challenges Trump’s Claims That Gillespie Didn’t ‘Embrace Me’",
    )),
    "news/node-feedparser__wapowellness.xml": Feed(29, 29, "2012-08-21T15:33:00Z", (  # "... 10:33:00 EST"
        "Schools minister to kids’ fitness and nutrition needs",
        "Medical Mysteries: ‘I opened my laptop and my eyes snapped shut’",
    )),
    "news/rss-parser__customfields.rss": Feed(15, 15, "2017-05-19T15:35:02Z", (
        "ISUZU launches the ‘mu-X’ premium full-size 7 seater SUV in Bengaluru",
        "Vatican Ambassador to India meets CM Siddaramaiah",
    )),
    "news/rss-parser__encoding.rss": Feed(40, 40, "2018-01-03T13:47:00Z", (  # ISO-8859-1
        "Mãe de utente é a nova presidente da Raríssimas",
        "Lisboa quer passes sociais com acesso a táxis e bicicletas",
    )),
    "news/rss-parser__guardian.rss": Feed(55, 55, "2018-01-31T07:26:05Z", (
        "Trump State of the Union address promised unity but emphasized discord",
        "Moments of protest during Trump's State of the Union address – video",
    )),
    "news/rss-parser__heise.atom": Feed(15, 15, "2016-02-01T16:22:00Z", (
        "Java-Anwendungsserver: Red Hat gibt WildFly 10 frei",
        "Der Dotnet-Doktor: Auslesen und Sortieren von GPX-Dateien",
    )),
    "news/rss-parser__rss-1.rss": Feed(69, 69, "2017-06-15T17:29:47Z", (
        "Food for fungi",
        "General relativity weighs a white dwarf",
    )),
    # No XML declaration, ISO-8859-1 bytes, "Seg, 24 Set 2018 19:42:40 -0300" (index.csv: 15 without a date).
    "news/rss-parser__uolNoticias.rss": Feed(15, 15, "2018-09-24T22:42:40Z", (
        "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno",
        "Enfermeira de Chávez alega 'perseguição' em Corte espanhola",
        'Fama "A" é campeã da Primeira Divisão da Copa Cidade Alta de Futebol Suíço',
    )),
    "news/terrasea-rss_reader__bbc-news-world-2017.xml": Feed(3, 3, "2017-01-20T12:55:28Z", (
        "Rigopiano avalanche: Eight found alive in Italy hotel after two days",
        "Syria: IS destroys part of Palmyra's Roman Theatre",
    )),
    "edge-cases/feeder__empty_slash_comment.xml": Feed(1, 1, "2017-12-09T14:44:00Z", (
        "Anheuser Busch: US-Brauerei bestellt 40 Tesla-Trucks vor",
    )),
    # No XML declaration. The title is escaped twice in the XML: the forum topic is about the <pre> and <b> tags.
    "edge-cases/feeder__rss_diskuse.xml": Feed(1, 1, "2020-04-15T14:30:29Z", (
        "Kajman, O této diskusi: test <pre> in <description> and <b>bold</b> in title",
    )),
    "edge-cases/feedjira__DuplicateContentAtomFeed.xml": Feed(10, 10, "2014-07-21T19:14:39Z", (  # Atom in XHTML
        "Down time",
        "Balanced variable phase shift circuit",
    )),
    # Truncated, and dc:date is a bare number, which feedparser misreads: the pubDate is used.
    "edge-cases/feedjira__InvalidDateFormat.xml": Feed(2, 2, "2017-10-16T15:10:00Z", (
        "Item 0 with an invalid date",
        "Item 1 with all valid dates",
    )),
    "edge-cases/miniflux__encoding_WINDOWS-1251.xml": Feed(50, 50, "2018-03-21T07:27:32Z", (
        "Цитата #17703",
        "Цитата #17220",
    )),
    # ISO-8859-1 bytes, no encoding declared. index.csv: 10 items, but one has an empty <title> and <link>.
    # "une simplificationet#8230;" in another title is the outlet's own mangled "&#8230;", kept as written.
    "edge-cases/miniflux__no_encoding_ISO-8859-1.xml": Feed(9, 9, "2018-10-17T10:30:00Z", (
        "Caroline Eliacheff : « Dolto reste authentiquement subversive »",
        "L'enfant doué : quand trop comprendre... empêche parfois de comprendre",
    )),
    "edge-cases/node-feedparser__compressed.xml": Feed(10, 10, "2014-01-22T14:31:31Z", (  # gzip, windows-1251
        "В Бузулуке главные стройплощадки – детсад и Ледовый дворец",
        "ЧОПовцы в Оренбурге избили молодого человека",
    )),
    "edge-cases/node-feedparser__guid-dupes.xml": Feed(1, 1, "2014-06-19T06:00:00Z", ("Huh?",)),
    # index.csv: 20 items, 10 undated: each of the 10 real items holds an empty nested <item />, which is no story.
    "edge-cases/node-feedparser__illegally-nested.xml": Feed(10, 10, "2018-01-17T20:50:00Z", (
        "My Professional Armchair Analysis of CES",
        "Is iPhone X Apple's Vista?",
    )),
    "edge-cases/node-feedparser__invalid-characters-gzipped.xml": Feed(25, 25, "2014-07-14T07:00:00Z", (
        "NSOperation",
        "MKTileOverlay, MKMapSnapshotter & MKDirections",
        "Extended File Attributes",
    )),
    # index.csv: 1 item each, but the entry has no link (only an empty <author>, or only a tag: URI <id>).
    "edge-cases/rss-parser__incomplete-fields.atom": Feed(0, 0, None),
    "edge-cases/rss-parser__missing-fields.atom": Feed(0, 0, None),
    "other/feed-rs__atom_example_5.xml": Feed(1, 1, "2019-07-31T13:07:31Z", ("M 3.6 - 15km W of Petrolia, CA",)),
    "other/feedjira__RSSWithComments.xml": Feed(30, 30, "2022-04-06T21:07:47Z", (  # no encoding declared
        "AWS Lambda Function URLs: Built-In HTTPS Endpoints for Lambda",
        "What’s new in Emacs 28.1?",
    )),
    # Titles of type html with <b> around the alert's word (index.csv: 17 with markup).
    "other/feedjira__google_alerts_atom.xml": Feed(20, 20, "2019-07-10T11:53:37Z", (
        "Slack Stock Has a Compelling Story and the Numbers to Back It Up",
        "Recode Daily: Slack has a Snap problem",
    )),
    "other/feedjira__youtube_atom.xml": Feed(15, 15, "2015-05-04T00:01:27Z", (  # whitespace before <?xml
        "The Google app: Questions Title",
        "Veterans Make Great Googlers. Find your team: Specialists",
    )),
    "other/rss-parser__reddit.rss": Feed(24, 24, "2015-11-12T21:16:39Z", (
        "The water is too deep, so he improvises",
        '"The best years of your life..." [Image]',
    )),
}  # fmt: skip
# Files that are no feed at all: what the one-line reason says.
NOT_FEEDS = {
    "edge-cases/feed-rs__rss_2.0_invalid_1.xml": "broken XML with no item links",  # truncated Reuters feed
    "edge-cases/node-feedparser__notafeed.html": "the response is an HTML page",
    "edge-cases/rss-parser__unrecognized.rss": "the response is an HTML page",  # IIS "Document Moved"
}
# Titles whose angle brackets are text, not markup (see feeder__rss_diskuse.xml above).
LITERAL_BRACKETS = {"edge-cases/feeder__rss_diskuse.xml"}

TAG = re.compile(r"<[a-zA-Z/]")
ESCAPED = re.compile(r"&(?:amp|lt|gt|quot|apos|nbsp|#\d+|#x[0-9a-fA-F]+);")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# UTF-8 read as Latin-1 or Windows-1252 (Ã©, Ð¿, â€™), or bytes no encoding could read.
MOJIBAKE = re.compile("\ufffd|Ã[\u0080-\u00bf]|Ð[\u0080-\u00bf]|â€")
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)


def params(names: list[str]) -> list[object]:
    return [pytest.param(name, id=Path(name).name) for name in names]


def parse_file(name: str) -> list[Link]:
    path = CORPUS / "feeds" / name
    return links_from_feed(path.read_bytes(), f"https://feeds.example/{path.name}", path.stem, None, MAX_BYTES)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.corpus
def test_every_corpus_feed_file_has_a_case(corpus: Path) -> None:
    on_disk = {f"{path.parent.name}/{path.name}" for path in (corpus / "feeds").glob("*/*") if path.is_file()}
    on_disk = {name for name in on_disk if not name.startswith("source-licenses/")}
    assert on_disk == set(FEEDS) | set(NOT_FEEDS)


@pytest.mark.corpus
@pytest.mark.parametrize("name", params(sorted(FEEDS)))
def test_feed_yields_its_items_titles_and_dates(corpus: Path, name: str) -> None:
    expected = FEEDS[name]
    links = parse_file(name)
    assert len(links) == expected.items
    assert sum(link.published_at is not None for link in links) == expected.dated
    if expected.first_date:
        assert links[0].published_at == utc(expected.first_date)
    titles = {link.title for link in links}
    for title in expected.titles:
        assert title in titles


@pytest.mark.corpus
@pytest.mark.parametrize("name", params(sorted(FEEDS)))
def test_feed_titles_are_plain_text_links_absolute_and_dates_believable(corpus: Path, name: str) -> None:
    latest = datetime.now(UTC) + timedelta(days=1)
    links = parse_file(name)
    assert len({link.url for link in links}) == len(links)
    for link in links:
        assert link.url.startswith(("http://", "https://")) and link.url == link.url.strip(), link.url
        assert "#" not in link.url, link.url
        title = link.title or ""
        assert name in LITERAL_BRACKETS or not TAG.search(title), title
        assert not ESCAPED.search(title), title
        assert not CONTROL.search(title), repr(title)
        assert not MOJIBAKE.search(title), title
        assert title == " ".join(title.split()), repr(title)
        if link.published_at is not None:
            assert link.published_at.utcoffset() == timedelta(0)
            assert EARLIEST <= link.published_at <= latest, link.published_at


@pytest.mark.corpus
@pytest.mark.parametrize("name", params(sorted(NOT_FEEDS)))
def test_a_file_that_is_no_feed_is_an_extraction_error(corpus: Path, name: str) -> None:
    with pytest.raises(ExtractionError, match=f"^not a feed: {NOT_FEEDS[name]}"):
        parse_file(name)


@pytest.mark.corpus
def test_gzipped_files_read_like_the_plain_feed_and_stop_at_max_bytes(corpus: Path) -> None:
    compressed = (corpus / "feeds" / "edge-cases" / "node-feedparser__compressed.xml").read_bytes()
    assert compressed.startswith(b"\x1f\x8b")  # raw gzip, no Content-Encoding to say so
    plain = parse_file("news/node-feedparser__iconv.xml")
    zipped = parse_file("edge-cases/node-feedparser__compressed.xml")
    assert [(link.url, link.title, link.published_at) for link in zipped] == [
        (link.url, link.title, link.published_at) for link in plain
    ]
    with pytest.raises(ExtractionError, match="gzip"):
        links_from_feed(compressed, "https://feeds.example/compressed.xml", "s", None, max_bytes=1_000)


@pytest.mark.corpus
def test_links_come_from_a_permalink_guid_and_lose_their_fragment(corpus: Path) -> None:
    [braingle] = parse_file("edge-cases/node-feedparser__guid-dupes.xml")
    assert braingle.url == "http://www.braingle.com/50366.html"  # no <link>, only <guid>, twice
    [diskuse] = parse_file("edge-cases/feeder__rss_diskuse.xml")
    assert diskuse.url == "https://diskuse.jakpsatweb.cz/?action=vthread&forum=18&topic=173233"  # was #post-1112174


@pytest.mark.corpus
def test_ukrainska_pravdas_bare_video_id_is_reported_not_followed(corpus: Path) -> None:
    path = corpus / "feeds" / "news" / "data-import__pravda-com-ua.xml"
    assert b"<link>b2VjML1MLnE</link>" in path.read_bytes()
    content = read_feed(path.read_bytes(), "https://www.pravda.com.ua/rss/", "pravda", None, MAX_BYTES)
    assert not any("b2VjML1MLnE" in link.url for link in content.links)
    assert content.not_web_reason() == "1 item link is not an http or https URL (a bare word); not followed"
