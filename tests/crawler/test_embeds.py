"""Embedded posts (tweets, Instagram, Facebook, Telegram...) are kept apart from the story's text: shown with it,
never matched by a rule or found by search. Each rule has a case on a page the test writes and on real corpus
pages, showing what is taken out and what stays."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from alerts.matching import RuleSet, RuleSpec, StoryText
from alerts.search import search
from crawler.embeds import without_posts
from crawler.extract import extract_article
from crawler.links import Link
from db.models import Story
from db.sources import sync_sources
from db.storage import store_article
from newsmon.config import SourceConfig
from newsmon.output import story_record

URL = "https://news.example.org/world/envoys-meet"
OWN = [
    "Envoys from both governments met in Geneva on Sunday to discuss a ceasefire along the front line.",
    "The talks lasted six hours and ended with an agreement to meet again next week, officials said.",
    "Neither side gave details of the draft, which diplomats described as a framework for further talks.",
]
TWEET = "Productive talks today in Geneva. The White House thanks our partners."
LONG_QUOTE = " ".join(["The minister wrote at length about the negotiations and what they mean for the region."] * 10)
PAGE = f"""<html><head><title>Envoys meet in Geneva</title></head><body><article>
<h1>Envoys meet in Geneva</h1>
<p>{OWN[0]}</p>
<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{TWEET}</p>&mdash; The White House (@WhiteHouse)
 <a href="https://twitter.com/WhiteHouse/status/1234567890">November 30, 2026</a></blockquote>
<p>{OWN[1]}</p>
<div class="social-embed"><blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/p/Cx1/">
<a href="https://www.instagram.com/p/Cx1/">A post shared by Kyiv City (@kyivcity): sirens again tonight</a></blockquote></div>
<script async src="https://telegram.org/js/telegram-widget.js" data-telegram-post="ukrpravda_news/12345"></script>
<blockquote><p>Reporters asked about sanctions relief tonight.</p>
 <a href="https://x.com/SomeReporter/status/987654321">December 1, 2026</a></blockquote>
<div class="fb-post" data-href="https://www.facebook.com/zelenskyy/posts/1"><blockquote cite="https://www.facebook.com/zelenskyy/posts/1"
 class="fb-xfbml-parse-ignore">Grateful to every partner for the support, the president posted.</blockquote></div>
<p>{OWN[2]}</p>
<blockquote><p>{LONG_QUOTE}</p><a href="https://x.com/minister/status/55">the minister's thread</a></blockquote>
<blockquote><p>We will not trade territory for peace, the foreign minister told parliament.</p></blockquote>
<span class="fb-like"><a class="fb-xfbml-parse-ignore" href="https://www.facebook.com/sharer/sharer.php?u=x">Like this story</a></span>
</article></body></html>"""


def _extract(html: str, url: str = URL):  # noqa: ANN202 - an Article
    return extract_article(html, url, (url,), Link(url=url, source="example"))


def test_posts_are_taken_out_of_the_text_and_kept_apart_in_page_order() -> None:
    article = _extract(PAGE)
    assert [post.split(" ")[0] for post in article.embedded] == ["Productive", "A", "Reporters", "Grateful"]
    assert TWEET in article.embedded[0] and "@WhiteHouse" in article.embedded[0]
    for post in ("White House", "sirens again", "sanctions relief", "Grateful to every partner"):
        assert post not in article.text
    for paragraph in OWN:  # the outlet's own text around the posts stays, in order
        assert paragraph in article.text
    assert article.text.index(OWN[0]) < article.text.index(OWN[1]) < article.text.index(OWN[2])
    # A long quotation that links to a thread is the outlet's text; so is a quote linking to no post.
    assert "wrote at length" in article.text and "not trade territory" in article.text
    # A like button's link carries the same class as a Facebook post's fallback: it is no post.
    assert not any("Like this story" in post for post in article.embedded)


def test_a_rule_does_not_fire_on_words_only_an_embedded_post_holds() -> None:
    article = _extract(PAGE)
    rules = RuleSet([RuleSpec("white-house", '"White House"'), RuleSpec("geneva", "Geneva AND ceasefire")])
    stored = StoryText(article.title, article.text, "example", "en")
    assert rules.match(stored) == ["geneva"]
    with_posts = StoryText(article.title, article.text + "\n" + "\n".join(article.embedded), "example", "en")
    assert sorted(rules.match(with_posts)) == ["geneva", "white-house"]  # what it would have done


def test_a_json_ld_body_that_repeats_a_post_loses_the_post_lines() -> None:
    more = "And one more paragraph of the outlet's own reporting, which the page itself splits off. " * 3
    body = "\n".join([OWN[0], TWEET, OWN[1], OWN[2], LONG_QUOTE, "the minister's thread",
                      "We will not trade territory for peace, the foreign minister told parliament.", more])
    ld = json.dumps({"@type": "NewsArticle", "headline": "Envoys meet in Geneva", "articleBody": body})
    page = PAGE.replace("<head>", f'<head><script type="application/ld+json">{ld}</script>')
    article = _extract(page)
    assert "one more paragraph" in article.text  # the longer JSON-LD body was taken...
    assert TWEET not in article.text  # ...without the post it repeats
    assert without_posts(body, ()) == body


def test_stored_posts_are_shown_with_the_story_and_never_found_by_search(engine: Engine) -> None:
    article = _extract(PAGE)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with Session(engine) as session, session.begin():
        source_id = sync_sources(session, [SourceConfig(name="example", feed="https://news.example.org/feed")],
                                 now)["example"]
        _, story_id = store_article(session, article, source_id, now)
    with Session(engine) as session:
        story = session.get(Story, story_id)
        assert story is not None
        assert story_record(story)["embedded_posts"] == list(article.embedded)
        assert search(session, "sirens") == []  # only the Instagram post says it
        assert [hit.story.id for hit in search(session, "ceasefire")] == [story_id]


# Real pages ---------------------------------------------------------------------------------------------


def _corpus_page(corpus: Path, relative: str) -> str:
    return gzip.decompress((corpus / "articles" / relative).read_bytes()).decode("utf-8")


def test_tweets_in_a_real_story_are_kept_apart_and_its_paragraphs_stay(corpus: Path) -> None:
    # nj.com's story on South Dakota's "Meth. We're on it." campaign embeds five tweets in "social-media-embed"
    # boxes between its paragraphs.
    key = "3f65af7b6b98b1c9ae9a3e0d8a09a85600cdc44e26e4b3a6db96a31f4b1767e3"
    url = json.loads((corpus / "articles/aeb/ground-truth.json").read_text(encoding="utf-8"))[key]["url"]
    article = _extract(_corpus_page(corpus, f"aeb/html/{key}.html.gz"), url)
    assert len(article.embedded) == 5
    assert all("twitter.com" in post or "@" in post for post in article.embedded)
    assert "Yes this is real and yes the state spent nearly half a million dollars" in article.embedded[0]
    assert "half a million dollars on it" not in article.text
    assert "a whole lot of people on Twitter pointed it out" in article.text  # the paragraph before it
    assert "nearly $449,000 so far this year" in article.text


def test_a_politicians_tweet_is_kept_out_of_a_real_story(corpus: Path) -> None:
    # La Nación quotes a deputy's tweet; trafilatura-eval lists its words among what is not the article.
    article = _extract(_corpus_page(corpus, "trafilatura-eval/html/lanacion.com.ar-jugada.html.gz"),
                       "https://www.lanacion.com.ar/politica/")
    assert len(article.embedded) == 1 and "(@marioraulnegri)" in article.embedded[0]
    assert "UNA HORA ANTES" not in article.text and "no les dará quórum" not in article.text
    assert len(article.text.split()) > 300  # the story itself stays
