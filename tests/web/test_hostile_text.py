"""Text from pages stays text in every format the web app serves: the RSS and JSON feeds (read with feedparser, as
feed readers do) and the page. Titles, texts and outlet names below carry markup; none of it may come out as an
element, an event handler or a link, and each must still read as it was written."""

from __future__ import annotations

from collections.abc import Iterator

import feedparser
import httpx
import pytest

from alerts.render import one_line
from newsmon.web.app import create_app
from tests.markup import Markup, parsed
from tests.web.conftest import Served, archive_config, fill_archive, running

HOSTILE = [
    # (source, language, days ago, title, text): every one matches the rule "hostile" (ceasefire)
    ("wire", "en", 0, '"><img src=x onerror=alert(1)> ceasefire',  # the title feedparser turned into an <img>
     "Ceasefire: <script>alert(2)</script> held <iframe src=https://evil.example/></iframe> overnight."),
    ("paper", "en", 1, '<b>Ceasefire</b> <img src=x onerror=alert(3)> & <a href="https://evil.example/">more</a>',
     "The ceasefire text shows &lt;img src=x onerror=alert(4)&gt; as written, entities and all."),
    ("daily", "en", 2, "<https://evil.example/|Official ceasefire notice> <!channel>",
     'Ceasefire <svg onload=alert(5)> "quoted" & <b>bold</b> words.'),
]
OUTLETS = {"wire": "<img src=x onerror=alert(6)> Wire", "paper": '"><svg onload=alert(7)>',
           "daily": "Daily & <i>Sons</i>"}


def assert_inert(markup: Markup) -> None:
    """No element that page text could have brought: no image, script, frame or markup of style, no handler,
    no link or source to the hostile site."""
    assert not {"img", "script", "iframe", "b", "i"} & set(markup.tags), markup.tags
    assert markup.tags.count("svg") <= 1  # the page's own chart
    assert not [name for name, _ in markup.attributes if name.startswith("on")]
    assert not [value for _, value in markup.attributes if value and "evil.example" in value]


def reads_as_text(value: str, html: bool) -> str:
    """What a reader shows for a feed field: HTML is parsed (and must hold no element), text is shown as it is."""
    if not html:
        return value
    markup = parsed(value)
    assert markup.tags == [], value
    return markup.text


@pytest.fixture
def hostile(database_url: str) -> Iterator[Served]:
    config = archive_config(database_url, rules=[{"name": "hostile", "query": "ceasefire"}])
    ids = fill_archive(config, HOSTILE, OUTLETS)
    with running(create_app(config)) as url:
        yield Served(url, config, ids)


def test_the_rss_feed_gives_readers_text_never_markup(hostile: Served) -> None:
    response = httpx.get(f"{hostile.url}/feeds/rules/hostile.xml", timeout=30)
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert len(feed.entries) == len(HOSTILE)
    for entry in feed.entries:
        source, _, _, title, text = HOSTILE[int(entry.link.rsplit("/", 1)[1])]
        assert reads_as_text(entry.title, entry.title_detail.type == "text/html") == one_line(title)
        assert entry.summary_detail.type == "text/html"  # RSS descriptions are HTML to every reader
        assert reads_as_text(entry.summary, html=True).startswith(text)
        assert entry.source.title == OUTLETS[source]  # plain text: feedparser never takes it for HTML


def test_the_json_feed_carries_plain_text(hostile: Served) -> None:
    feed = httpx.get(f"{hostile.url}/feeds/rules/hostile.json", timeout=30).json()
    assert len(feed["items"]) == len(HOSTILE)
    for item in feed["items"]:
        source, _, _, title, text = HOSTILE[int(item["url"].rsplit("/", 1)[1])]
        assert "content_html" not in item  # JSON Feed's text fields are text: no reader parses them as HTML
        assert item["title"] == one_line(title)
        assert item["summary"].startswith(text) and item["content_text"] == item["summary"]
        assert item["authors"] == [{"name": OUTLETS[source]}]


def test_the_page_shows_the_text_and_no_element_of_it(hostile: Served) -> None:
    response = httpx.get(hostile.url + "/", params={"q": "ceasefire"}, timeout=30)
    assert response.status_code == 200
    page = parsed(response.text)
    assert_inert(page)
    for _, _, _, title, text in HOSTILE:
        assert one_line(title) in page.text and text[:40] in page.text
    for story_id, (source, _, _, title, text) in zip(hostile.ids, HOSTILE, strict=True):
        story = parsed(httpx.get(f"{hostile.url}/stories/{story_id}", timeout=30).text)
        assert_inert(story)
        assert title in story.text and text in story.text and OUTLETS[source] in story.text
