"""Teaser blocks, repeated headlines and other boilerplate on real corpus pages (skips without
../shared/corpus): each case shows what a rule removes and what it keeps."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from crawler.extract import extract_article
from crawler.links import Link

WIRED = "d48aeb9cf2f2ff15769a57513249b4a6a669159f3e50b335e741d4206a824e88"
CBS = "08f793762792bd252c75fb57544cdf506ffcc04785136cb87503f02364b82b56"
EXPRESS = "624fcd903d56fc7055fa7097b330629450c095ad6937318deb027be7803bbf35"


def _aeb(corpus: Path, key: str):  # noqa: ANN202 - an Article
    url = json.loads((corpus / "articles/aeb/ground-truth.json").read_text(encoding="utf-8"))[key]["url"]
    html = gzip.decompress((corpus / "articles/aeb/html" / f"{key}.html.gz").read_bytes()).decode("utf-8")
    return extract_article(html, url, (url,), Link(url=url, source="aeb"))


def test_a_more_stories_list_inside_the_body_goes_and_the_body_stays(corpus: Path) -> None:
    # WIRED's "More Great WIRED Stories" list sits inside its article__body container.
    article = _aeb(corpus, WIRED)
    assert "virtuoso coder" not in article.text and "More Great WIRED Stories" not in article.text
    assert "I learned that over a dozen people tapped on the profile of a coworker" in article.text
    assert len(article.text.split()) > 1200


def test_a_latest_news_box_and_the_repeated_headline_go(corpus: Path) -> None:
    # CBS Sports: the h1 inside the article's container, and a "latest-news-box" of other stories' sublines.
    article = _aeb(corpus, CBS)
    assert article.title.startswith("Browns player on Mason Rudolph's role in fight")
    assert not article.text.startswith("Browns player on Mason Rudolph's role")
    assert "Gronk may have found his true calling" not in article.text
    assert "Cowboys owner actually might've had a chance" not in article.text
    assert "The Steelers spent Monday trying to distance themselves from Thursday night's fight" in article.text


def test_a_dont_miss_heading_goes_and_its_paragraphs_stay(corpus: Path) -> None:
    article = _aeb(corpus, EXPRESS)
    assert "DON'T MISS" not in article.text
    assert "CHINA has sent troops to Hong Kong" in article.text
    assert not article.text.startswith("Hong Kong chaos")


BARRONS = "f8ff621a0b9b7646cc0d57d37416feabba2bf78ef5dd0bfc5b080f9f97bbe584"
BIGBRAND = "c582d3b772578e8feaa3cfd8f5ae8100bb6f0bc66048204a9a398395841c1164"


def test_a_print_copys_reprint_notice_and_a_hidden_error_message_go(corpus: Path) -> None:
    # Barron's: a "print-footer" with a long reprint notice, and an e-mail modal's error line in a p.hide.
    article = _aeb(corpus, BARRONS)
    assert "This copy is for your personal, non-commercial use only" not in article.text
    assert "An error has occurred, please try again later" not in article.text
    assert "Home Depot" in article.text and len(article.text.split()) > 350


def test_a_click_to_tweet_label_goes_and_its_quote_stays(corpus: Path) -> None:
    article = _aeb(corpus, BIGBRAND)
    assert "Every online business exists in the 'space-time continuum.'" in article.text
    assert "Click To Tweet" not in article.text


def _readability(corpus: Path, name: str):  # noqa: ANN202 - an Article
    html = gzip.decompress((corpus / "articles/readability" / name / "source.html.gz").read_bytes()).decode("utf-8")
    return extract_article(html, "https://example.org/story", ("https://example.org/story",),
                           Link(url="https://example.org/story", source="readability"))


def test_the_headline_above_the_article_beats_the_title_tag(corpus: Path) -> None:
    # The Verge: <title> and JSON-LD say "...hands-on: the Retina display moment...", the h1 above the article
    # says what the reader sees.
    assert _readability(corpus, "theverge").title == "Apple’s Vision Pro is the Retina display moment for headsets"


def test_an_h1_that_is_a_shows_name_is_not_taken_for_the_headline(corpus: Path) -> None:
    # Yahoo: the first h1 is "Good Morning America"; og:title and the second h1 name the story.
    assert _readability(corpus, "yahoo-3").title.startswith("Veteran Wraps Baby in American Flag")
