"""The cleaner extraction on generated pages: boilerplate blocks and teaser lines gone, the headline without the
site name, dates from the page's own metadata, the language from the text, a status for pages that are no
article (and no alert for them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from crawler.boilerplate import clean_lines
from crawler.extract import Link, extract_article

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
])
def test_blocks_that_are_not_the_article_are_removed(block: str, words: str) -> None:
    article = extract(page(inside=block))
    assert words not in article.text, article.text
    assert "prisoner exchange" in article.text and article.status == "article"


def test_a_long_paragraph_in_a_block_with_a_related_class_is_kept() -> None:
    long = "The delegation from Kyiv, " + "which included military and legal advisers, " * 6 + "stayed for a week."
    article = extract(page(inside=f'<div class="intext-links"><p>{long}</p></div>'))
    assert "legal advisers" in article.text


def test_clean_lines_keeps_ordinary_lines() -> None:
    text = "More than 100 people were evacuated.\nRead more: unrelated story\nThe talks go on."
    assert clean_lines(text) == "More than 100 people were evacuated.\nThe talks go on."


@pytest.mark.parametrize(("title", "h1", "og", "expected"), [
    ("Geneva talks resume | World | The Outlet", "Geneva talks resume", None, "Geneva talks resume"),
    ("The Outlet | Geneva talks resume", "Geneva talks resume", "The Outlet | Geneva talks resume",
     "Geneva talks resume"),
    ("Geneva talks resume - The Outlet", "Menu", None, "Geneva talks resume"),
    # og:title and JSON-LD agree on a headline different from the h1's shorter web version
    ("Geneva talks: what was agreed - The Outlet", "Talks resume", "Geneva talks: what was agreed",
     "Geneva talks: what was agreed"),
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
