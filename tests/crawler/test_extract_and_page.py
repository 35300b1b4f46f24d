"""Extraction of one page into an Article, and the article links of a section page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from scrapy.http import HtmlResponse, TextResponse

from crawler.extract import content_hash, extract_article
from crawler.links import Link
from crawler.spiders.page import links_from_page, looks_like_article
from newsmon.errors import ExtractionError
from tests.servers import article_page

PARAGRAPHS = [
    "Президент Зеленський провів переговори з делегацією США щодо мирного плану у Женеві в неділю.",
    "Сторони обговорили гарантії безпеки та обмін полоненими, повідомили в Офісі президента.",
    "Наступний раунд переговорів запланований на наступний тиждень, заявили учасники зустрічі.",
]
URL = "https://news.example.ua/world/2026/11/23/talks"


def test_extract_article_keeps_the_article_and_drops_the_page_around_it() -> None:
    html = article_page("Переговори у Женеві", PARAGRAPHS, lang="uk-UA", published="2026-11-23T10:00:00+02:00")
    listed = datetime(2026, 11, 23, 8, 5, tzinfo=UTC)
    link = Link(url=URL, source="pravda", title="Feed title", published_at=listed)
    article = extract_article(html, URL, (URL,), link)
    assert article.title == "Переговори у Женеві"
    assert "гарантії безпеки" in article.text
    assert "Copyright" not in article.text and "Home" not in article.text
    assert article.language == "uk"
    assert article.site_name == "Test Outlet"
    assert article.published_at == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # the page's own time wins
    day_only = article_page("Переговори у Женеві", PARAGRAPHS, lang="uk-UA", published="2026-11-23")
    assert extract_article(day_only, URL, (URL,), link).published_at == listed  # the page's day, the feed's time
    assert article.content_hash == content_hash(article.text.upper())
    assert article.source == "pravda" and article.urls == (URL,)


def test_the_page_date_wins_when_the_feed_says_another_day_and_the_hint_fills_language() -> None:
    html = article_page("Talks", PARAGRAPHS, lang="", published="2026-11-20T10:00:00+00:00")
    url = "https://news.example.ua/world/talks-resume-in-geneva"  # no date in the URL
    link = Link(url=url, source="s", published_at=datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    article = extract_article(html, url, (url,), link, language_hint="uk")
    assert article.published_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert article.language == "uk"


LISTED = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "published", "listed", "expected"),
    [
        # no date in the page's metadata: the one in its URL
        ("https://news.example.ua/world/2024/05/03/talks", None, None, datetime(2024, 5, 3, tzinfo=UTC)),
        # a date ahead of tomorrow or before 1995 is not believed: the listed time, or none
        ("https://news.example.ua/world/talks", "2099-01-01T10:00:00Z", LISTED, LISTED),
        ("https://news.example.ua/world/talks", "1990-06-01T10:00:00Z", LISTED, LISTED),
        ("https://news.example.ua/world/talks", "1990-06-01T10:00:00Z", None, None),
    ],
)
def test_page_dates_come_from_metadata_or_url_and_only_when_believable(
    url: str, published: str | None, listed: datetime | None, expected: datetime | None
) -> None:
    html = article_page("Talks", PARAGRAPHS, published=published)
    article = extract_article(html, url, (url,), Link(url=url, source="s", published_at=listed))
    assert article.published_at == expected


@pytest.mark.parametrize(
    "html",
    [
        "",
        "<html><body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav></body></html>",
        "\x00\x01\x02 not html at all \xff",
    ],
)
def test_a_page_without_an_article_is_an_extraction_error(html: str) -> None:
    with pytest.raises(ExtractionError) as caught:
        extract_article(html, URL, (URL,), Link(url=URL, source="s"))
    assert "\n" not in str(caught.value)


SECTION = """<html><body>
<nav><a href="/">Home</a> <a href="/world/">World</a> <a href="/tag/ukraine">Ukraine</a>
<a href="/about/contact">Contact</a> <a href="/login">Sign in</a></nav>
<h2><a href="/world/2026/11/24/rubio-meets-ukrainian-delegation">Rubio meets Ukrainian delegation in Geneva</a></h2>
<h2><a href="/world/europe/article-4815162342?utm_source=home">Zelenskyy says plan is workable</a></h2>
<h2><a href="/world/putin-comments-on-peace-framework#comments">Putin comments on the framework</a></h2>
<a href="/world/putin-comments-on-peace-framework">Putin comments on the framework</a>
<a href="https://other.example.com/world/2026/11/24/some-other-story">Some other outlet's story today</a>
<a href="https://live.example.org/world/2026/11/24/live-blog-peace-talks">Live: peace talks in Geneva</a>
<a href="/video/2026/11/24/clip" rel="nofollow">Video clip of the talks today</a>
</body></html>"""


def test_section_page_links_are_articles_of_the_same_site_each_once() -> None:
    response = HtmlResponse("https://www.example.org/world/", body=SECTION.encode(), encoding="utf-8")
    links = links_from_page(response, "world")
    assert [link.url for link in links] == [
        "https://www.example.org/world/2026/11/24/rubio-meets-ukrainian-delegation",
        "https://www.example.org/world/europe/article-4815162342",
        "https://www.example.org/world/putin-comments-on-peace-framework",
        "https://live.example.org/world/2026/11/24/live-blog-peace-talks",
    ]
    assert links[0].title == "Rubio meets Ukrainian delegation in Geneva"
    assert all(link.source == "world" for link in links)


def test_a_follow_pattern_decides_which_same_site_links_are_articles() -> None:
    response = HtmlResponse("https://www.example.org/world/", body=SECTION.encode(), encoding="utf-8")
    links = links_from_page(response, "world", follow=r"/world/(europe|\d{4})/")
    assert [link.url for link in links] == [
        "https://www.example.org/world/2026/11/24/rubio-meets-ukrainian-delegation",
        "https://www.example.org/world/europe/article-4815162342",
        "https://live.example.org/world/2026/11/24/live-blog-peace-talks",
    ]
    # Navigation the heuristic drops is taken when the pattern says so; other sites never are.
    assert [link.url for link in links_from_page(response, "world", follow=r"/tag/")] == [
        "https://www.example.org/tag/ukraine"
    ]


def test_a_section_page_must_be_html() -> None:
    response = TextResponse("https://www.example.org/world/", body=b"{}", encoding="utf-8")
    with pytest.raises(ExtractionError, match="not HTML"):
        links_from_page(response, "world")


@pytest.mark.parametrize(
    ("url", "text", "expected"),
    [
        ("https://e.org/world/2026/11/24/talks", "Talks resume in Geneva", True),
        ("https://e.org/politics/zelenskyy-meets-rubio-in-geneva", "", True),
        ("https://e.org/news/123456", "Peace talks resume in Geneva on Sunday", True),
        ("https://e.org/world/", "World", False),
        ("https://e.org/tag/ukraine-war-news", "Ukraine war news and more", False),
        ("https://e.org/authors/jane-doe-smith", "Jane Doe Smith is our author", False),
        ("https://e.org/", "Home", False),
    ],
)
def test_looks_like_article(url: str, text: str, expected: bool) -> None:
    assert looks_like_article(url, text) is expected
