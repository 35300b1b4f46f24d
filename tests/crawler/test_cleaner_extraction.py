"""The cleaner extraction on generated pages: boilerplate blocks and teaser lines gone, the headline without the
site name, dates from the page's own metadata, the language from the text, a status for pages that are no
article (and no alert for them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import lxml.html
import pytest

from crawler.bodyparts import body_parts
from crawler.boilerplate import clean_lines
from crawler.extract import extract_article
from crawler.links import Link

URL = "https://news.example.org/world/2026/11/20/geneva-talks"
BODY = [
    "Negotiators from Kyiv and Washington met in Geneva on Sunday to refine the peace framework, officials said.",
    "The revised draft keeps the security guarantees that Ukraine asked for, according to two diplomats.",
    "A prisoner exchange is expected before the end of the month, the ombudsman told reporters on Monday.",
]


def page(extra_head: str = "", inside: str = "", after: str = "", title: str = "Geneva talks resume | World | The Outlet",
         h1: str = "Geneva talks resume", lang: str = "en") -> str:
    paragraphs = "".join(f"<p>{text}</p>" for text in BODY)
    return (f'<html lang="{lang}"><head><title>{title}</title>'
            f'<meta property="og:site_name" content="The Outlet">{extra_head}</head><body>'
            f"<article><h1>{h1}</h1>{paragraphs}{inside}</article>{after}</body></html>")


def extract(html: str, url: str = URL, **link: object) -> object:
    return extract_article(html, url, (url,), Link(url=url, source="s", **link))  # type: ignore[arg-type]


@pytest.mark.parametrize(("block", "words"), [
    ('<div class="related-stories"><h3><a href="/a">Putin prepared to discuss ceasefire</a></h3></div>', "Putin"),
    ('<section id="comments"><p>Reader: Putin will never agree to this, mark my words.</p></section>', "Putin"),
    ('<p><a href="/world/putin-ready">Putin ready to discuss a ceasefire, Kremlin says</a></p>', "Putin"),
    ("<p>Read more: <a href='/x'>Putin prepared to discuss ceasefire</a></p>", "Putin"),
    ("<p>MORE: Putin prepared to discuss ceasefire</p>", "Putin"),
    ("<p>Czytaj też: Putin gotów do rozmów o zawieszeniu broni</p>", "Putin"),
    ("<p><em>Former commander: <a href='/y'>Putin is dangerous</a></em></p>", "Putin"),
    ('<figure><img src="x.jpg"><figcaption>Vladimir Putin in Moscow. Photo: Reuters</figcaption></figure>',
     "Putin"),
    ('<div class="newsletter-signup"><p>Get our Putin briefing every morning in your inbox.</p></div>', "Putin"),
    ("<p>aja/PAP</p>", "PAP"),
    ("<p>Photo: Getty Images / Putin archive</p>", "Putin"),
    # A heading announcing other stories, with the list of links under it (the items are not all links).
    ('<div class="heading-h3">More Great Stories</div><ul><li>The strange life of <a href="/a">a Putin aide</a></li>'
     '<li>How the <a href="/b">sanctions work</a></li></ul>', "Putin"),
    ("<p><strong>DON'T MISS</strong></p>", "MISS"),
    ("<h3>Читайте також</h3><ul><li>Путін <a href='/c'>готовий до переговорів</a>, каже Кремль</li></ul>", "Путін"),
    ('<div class="latest-news-box"><ul><li><h4>Putin may have found his true calling</h4></li></ul></div>', "Putin"),
    ('<p class="hide">An error has occurred while sending Putin this article.</p>', "Putin"),
    ('<div class="print-footer"><p>' + "This copy of the Putin story is for your personal use only. " * 6 + "</p></div>",
     "Putin"),
])
def test_blocks_that_are_not_the_article_are_removed(block: str, words: str) -> None:
    article = extract(page(inside=block))
    assert words not in article.text, article.text
    assert "prisoner exchange" in article.text and article.status == "article"


def test_a_long_paragraph_in_a_block_with_a_related_class_is_kept() -> None:
    long = "The delegation from Kyiv, " + "which included military and legal advisers, " * 6 + "stayed for a week."
    article = extract(page(inside=f'<div class="intext-links"><p>{long}</p></div>'))
    assert "legal advisers" in article.text


def test_a_list_under_an_ordinary_heading_stays_and_a_teaser_heading_takes_no_prose() -> None:
    facts = ('<h3>What the draft says</h3><ul><li>A ceasefire along <a href="/line">the current line</a></li>'
             '<li>Guarantees from <a href="/g">the guarantor states</a></li></ul>')
    assert "current line" in extract(page(inside=facts)).text
    prose = "<h3>Related</h3><p>Both delegations are expected to report to their parliaments on Friday.</p>"
    article = extract(page(inside=prose))
    assert "report to their parliaments" in article.text and "Related" not in article.text
    # A paragraph that opens with a link saying "More news" and goes on is prose, not a heading.
    opening = "<p><a href='/n'>More news</a> about the prisoner exchange came from the ombudsman on Tuesday.</p>"
    assert "ombudsman on Tuesday" in extract(page(inside=opening)).text


def test_the_headline_repeated_at_the_top_of_the_text_is_dropped() -> None:
    # trafilatura keeps an h1 that sits inside the article's container; the headline is stored apart.
    article = extract(page(h1="Geneva talks resume"))
    assert article.title == "Geneva talks resume"
    assert article.text.startswith(BODY[0]), article.text[:80]
    # A first paragraph that only begins like the headline is the text.
    opening = "<p>Geneva talks resume after a month, and the two sides brought new maps to the table this time.</p>"
    kept = extract(page(inside="").replace("<article><h1>Geneva talks resume</h1>", f"<article>{opening}"))
    assert kept.text.startswith("Geneva talks resume after a month")


def test_a_share_buttons_label_leaves_the_quote_it_follows() -> None:
    assert clean_lines("The talks will go on.'Click To Tweet\nNext line") == "The talks will go on.'\nNext line"


def test_an_h1_outside_the_article_does_not_outrank_the_metadata() -> None:
    html = page(title="Geneva talks: what was agreed - The Outlet", h1="Geneva talks: what was agreed",
                extra_head='<meta property="og:title" content="Geneva talks: what was agreed">')
    html = html.replace("<body>", "<body><header><h1>Talks and more</h1></header>")
    assert extract(html).title == "Geneva talks: what was agreed"


def test_clean_lines_keeps_ordinary_lines() -> None:
    text = "More than 100 people were evacuated.\nRead more: unrelated story\nThe talks go on."
    assert clean_lines(text) == "More than 100 people were evacuated.\nThe talks go on."


@pytest.mark.parametrize(("title", "h1", "og", "expected"), [
    ("Geneva talks resume | World | The Outlet", "Geneva talks resume", None, "Geneva talks resume"),
    ("The Outlet | Geneva talks resume", "Geneva talks resume", "The Outlet | Geneva talks resume",
     "Geneva talks resume"),
    ("Geneva talks resume - The Outlet", "Menu", None, "Geneva talks resume"),
    # og:title and <title> agree on a search engine's version; the reader sees the h1 above the article
    ("Geneva talks: what was agreed - The Outlet", "Talks resume", "Geneva talks: what was agreed",
     "Talks resume"),
    ("Hochwasser in Bayern: Dramatische Lage in Passau - Liveticker | Zeitung",
     "Dramatische Lage in Passau: Pegel steigt weiter", "Hochwasser in Bayern: Dramatische Lage in Passau",
     "Dramatische Lage in Passau: Pegel steigt weiter"),
    # An h1 that shares nothing with what the metadata calls the headline is a caption or a show's name.
    ("Geneva talks resume - The Outlet", "Good Morning America", "Geneva talks resume", "Geneva talks resume"),
    # Zero-width characters are not part of a headline.
    ("Geneva\u200b talks resume - The Outlet", "Geneva talks\u200b resume", None, "Geneva talks resume"),
])
def test_headline_by_agreement_without_the_site_name(title: str, h1: str, og: str | None, expected: str) -> None:
    head = f'<meta property="og:title" content="{og}">' if og else ""
    assert extract(page(extra_head=head, title=title, h1=h1)).title == expected


def test_dates_from_json_ld_and_the_updated_time_apart() -> None:
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Geneva talks resume",
                     "datePublished": "2026-11-20T09:30:00+01:00", "dateModified": "2026-11-21T07:00:00Z",
                     "author": [{"@type": "Person", "name": "Olena Petrenko"}]})
    article = extract(page(extra_head=f'<script type="application/ld+json">{ld}</script>'),
                      url="https://news.example.org/world/geneva-talks",
                      published_at=datetime(2026, 11, 23, tzinfo=UTC))
    assert article.published_at == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert article.modified_at == datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
    assert article.author == "Olena Petrenko" and article.site_name == "The Outlet"


@pytest.mark.parametrize("published", ["2099-05-01T10:00:00Z", "1990-05-01T10:00:00Z"])
def test_unbelievable_page_dates_fall_back_to_the_url(published: str) -> None:
    head = f'<meta property="article:published_time" content="{published}">'
    assert extract(page(extra_head=head)).published_at == datetime(2026, 11, 20, tzinfo=UTC)


NO_DATE_URL = "https://news.example.org/world/geneva-talks"


@pytest.mark.parametrize(("dateline", "listed", "expected"), [
    # The page shows an old date; the feed re-dated the story today: the page's own date, by more than a day.
    ('<p class="date">Published: 12 March 2025</p>', datetime(2026, 12, 1, 9, 15, tzinfo=UTC),
     datetime(2025, 3, 12, tzinfo=UTC)),
    # The same day: the listing's time is kept (the page shows the day only).
    ('<p class="date">Published: 1 December 2026</p>', datetime(2026, 12, 1, 9, 15, tzinfo=UTC),
     datetime(2026, 12, 1, 9, 15, tzinfo=UTC)),
    # No listing date: the page's own.
    ('<p class="date">Published: 12 March 2025</p>', None, datetime(2025, 3, 12, tzinfo=UTC)),
    # Nothing on the page: the listing's.
    ("", datetime(2026, 12, 1, 9, 15, tzinfo=UTC), datetime(2026, 12, 1, 9, 15, tzinfo=UTC)),
])
def test_a_page_without_date_metadata_is_dated_by_its_dateline_over_a_listing_a_day_away(
    dateline: str, listed: datetime | None, expected: datetime
) -> None:
    assert extract(page(inside=dateline), url=NO_DATE_URL, published_at=listed).published_at == expected


def test_a_date_in_the_url_beats_a_listing_years_later() -> None:
    listed = datetime(2026, 12, 1, 9, 15, tzinfo=UTC)
    assert extract(page(), url="https://news.example.org/2019/05/01/geneva-talks",
                   published_at=listed).published_at == datetime(2019, 5, 1, tzinfo=UTC)
    # ...and a listing on the URL's day keeps its time.
    assert extract(page(), url="https://news.example.org/2026/12/01/geneva-talks",
                   published_at=listed).published_at == listed


def test_language_comes_from_the_text_not_the_template() -> None:
    body = ["Переговори у Женеві тривають другий день поспіль, повідомили дипломати обох сторін конфлікту.",
            "Делегації обговорюють гарантії безпеки, обмін полоненими та повернення депортованих дітей додому.",
            "Наступний раунд зустрічей запланований на наступний тиждень, заявили в Офісі президента України."]
    html = page(lang="en", inside="".join(f"<p>{text}</p>" for text in body), h1="Переговори у Женеві")
    html = html.replace("".join(f"<p>{text}</p>" for text in BODY), "")
    assert extract(html).language == "uk"


def test_teaser_paywalled_and_not_article_pages_get_a_status_and_no_noise() -> None:
    ld = json.dumps({"@type": "NewsArticle", "headline": "Geneva talks resume"})
    teaser = ('<html><head><title>Geneva talks resume - The Outlet</title><script type="application/ld+json">'
              f"{ld}</script></head><body><h1>Geneva talks resume</h1><p>Talks resumed in Geneva.</p></body></html>")
    paywalled = teaser.replace("<p>Talks", "<p>Subscribe to read the full story. Talks")
    listing = ('<html><head><title>World news - The Outlet</title><meta property="og:site_name" content="The Outlet">'
               "</head><body><ul>"
               + "".join(f"<li><a href='/a{n}'>Story {n}</a></li>" for n in range(5)) + "</ul></body></html>")
    assert extract(teaser).status == "teaser" and extract(teaser).text.endswith("Talks resumed in Geneva.")
    assert extract(paywalled).status == "paywalled"
    other = extract(listing, url="https://news.example.org/world/")
    assert (other.status, other.text, other.title) == ("not_article", "", "World news")
    # Two teasers with the same lead are two stories, not one duplicate of the other.
    assert extract(teaser).content_hash != extract(teaser, url=URL + "-2").content_hash


def test_an_xhtml_page_with_an_xml_declaration_is_read() -> None:
    html = '<?xml version="1.0" encoding="utf-8"?>\n' + page()
    article = extract(html)
    assert article.status == "article" and "prisoner exchange" in article.text


def test_a_hidden_copy_of_the_article_is_not_read_twice() -> None:
    copy = ('<div style="display:none;" itemscope itemtype="http://schema.org/NewsArticle">'
            '<h1 itemprop="name">Geneva talks resume</h1><div itemprop="keywords">geneva,talks,putin</div>'
            '<div itemprop="datePublished">2026-11-20T08:57:40+01:00</div>'
            + "".join(f"<p itemprop='articleBody'>{text}</p>" for text in BODY[:2]) + "</div>")
    article = extract(page(inside=copy + '<div hidden><p>Sign in to save Putin stories to your list.</p></div>'))
    assert article.text.count("refine the peace framework") == 1, article.text
    assert "putin" not in article.text.lower() and "2026-11-20" not in article.text


def test_a_hidden_block_holding_the_article_is_kept() -> None:
    # A script reveals the body: hiding it is no reason to lose the story.
    html = page().replace("<article>", '<article style="display: none">')
    assert "prisoner exchange" in extract(html).text


def test_a_body_split_in_two_containers_around_an_ad_is_read_whole() -> None:
    first = "".join(f"<p>{text} The first part goes on at some length here.</p>" for text in BODY)
    second = ("<p>In the second half of the story, the ombudsman named the Zaporizhzhia exchange point as the "
              "likely place, and said the lists were ready.</p>"
              "<p>Officials in Moscow did not comment on the exchange on Monday evening, despite repeated calls.</p>")
    body = '<div class="grid--item body body__container article__body">{}</div>'
    html = (f"<html><head><title>Geneva talks resume</title></head><body><article><h1>Geneva talks resume</h1>"
            f'<div class="row"><div class="col">{body.format(first * 3)}</div>'
            f'<div class="ad-rail"><div class="ad">Advertisement</div></div>'
            f'<div class="col">{body.format(second)}</div></div></article></body></html>')
    text = extract(html).text
    assert "refine the peace framework" in text and "Zaporizhzhia exchange point" in text, text
    assert text.index("refine the peace framework") < text.index("Zaporizhzhia"), text


@pytest.mark.parametrize(("classes", "joined"), [
    ("grid--item body body__container article__body", True),
    ("story-body", True),
    ("postContent", True),
    ("body", False),  # taz.de: the article and the reader comments below it share class="body"
    ("content", False),
    ("article-teaser", False),
])
def test_only_containers_named_as_the_article_body_are_taken_for_parts(classes: str, joined: bool) -> None:
    parts = "".join(f'<div class="col"><div class="{classes}"><p>{text}</p></div></div><div class="ad"></div>'
                    for text in BODY)
    tree = lxml.html.fromstring(f"<html><body>{parts}</body></html>")
    found = body_parts(tree)
    assert bool(found) is joined
    if joined:
        assert [part.paragraphs for part in found] == [(text,) for text in BODY]


DESCRIPTION = "Negotiators refined the peace framework in Geneva, and a prisoner exchange is expected this month."


def test_the_lead_under_the_headline_opens_the_text() -> None:
    head = f'<meta property="og:description" content="{DESCRIPTION}">'
    # Tagesspiegel: the headline and the lead in a header above the body, where trafilatura does not look.
    header = (f'<header class="ts-article-header"><h1>Geneva talks resume</h1><div class="ts-meta">20.11.2026</div>'
              f'<p class="ts-intro" itemprop="description">{DESCRIPTION}</p><address>By A. Writer</address></header>')
    body = "".join(f"<p>{text}</p>" for text in BODY * 2)
    html = (f"<html><head><title>Geneva talks resume</title>{head}</head><body>{header}"
            f'<div class="ts-article-body">{body}</div></body></html>')
    text = extract(html).text
    assert text.startswith(DESCRIPTION + "\n" + BODY[0]), text
    assert text.count(DESCRIPTION) == 1


def test_a_teaser_box_that_is_not_the_description_is_not_taken_for_the_lead() -> None:
    head = f'<meta property="og:description" content="{DESCRIPTION}">'
    teaser = ('<div class="teaser"><p>Putin says he is prepared to discuss a ceasefire if the front line is '
              "frozen where it stands today.</p></div>")
    assert "Putin" not in extract(page(extra_head=head, after=teaser)).text


def test_a_json_ld_body_written_in_html_is_read_as_text() -> None:
    longer = [*BODY, "The ombudsman named the Zaporizhzhia exchange point as the likely place for the exchange."]
    markup = "<body>" + "".join(f"<p>{text}</p>" for text in longer) + (
        '<div align="center"><img src="x.jpg" alt="talks"><iframe src="https://video.example/x"></iframe></div></body>')
    ld = json.dumps({"@type": "NewsArticle", "headline": "Geneva talks resume", "articleBody": markup})
    text = extract(page(extra_head=f'<script type="application/ld+json">{ld}</script>')).text
    assert "Zaporizhzhia exchange point" in text and "<" not in text, text
    assert text.splitlines()[0] == BODY[0]
