"""Every rule as a feed of the stories it matched: /feeds/rules/{name}.xml (RSS 2.0) and .json (JSON Feed 1.1).

A feed holds the latest FEED_ITEMS matches, one per cluster of copies, newest match first: what the rule
alerted on (or would have, for rules without channels), so other tools can subscribe instead of polling a
search.

Titles, snippets and outlet names come from pages nobody vetted, and stay text. An RSS <description> is HTML
to every reader, so the snippet is HTML-escaped before the XML escapes it again; a title is text by the spec,
but readers (feedparser among them) take a title that looks like markup for HTML, so a title with a ``<`` is
HTML-escaped too. JSON Feed's summary and content_text are text by its spec and carry no HTML.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from feedgen.feed import FeedGenerator
from sqlalchemy.orm import Session

from alerts.matching import positive_terms
from alerts.names import Lexicon, lexicon_for, widen
from alerts.query import parse_query
from alerts.render import one_line, snippet
from db.models import RuleMatch
from db.reading import rule_matches
from newsmon.config import Config, RuleConfig
from newsmon.web.api import Problem
from newsmon.web.requests import ArchiveSession, CurrentConfig

router = APIRouter(prefix="/feeds", tags=["feeds"])

FEED_ITEMS = 50


@router.get("/rules/{name}.xml", response_class=Response,
            responses={200: {"content": {"application/rss+xml": {}}}, 404: {"model": Problem}})
def rss(name: str, request: Request, session: ArchiveSession, config: CurrentConfig) -> Response:
    """The rule's matched stories as RSS 2.0."""
    rule = _rule(config, name)
    if rule is None:
        return _no_rule(name, config)
    feed = FeedGenerator()
    feed.title(f"newsmon: {rule.name}")
    feed.link(href=_page(request, rule), rel="alternate")
    feed.link(href=str(request.url.remove_query_params("token")), rel="self")
    feed.description(html.escape(f"Stories that matched the rule {rule.name}: {one_line(rule.query)}"))
    feed.generator("newsmon")
    for item in _items(session, rule, lexicon_for(config.names)):
        entry = feed.add_entry(order="append")
        entry.title(_rss_title(item["title"]))
        entry.link(href=item["url"])
        entry.guid(item["url"], permalink=True)
        entry.description(html.escape(item["summary"]))
        entry.pubDate(item["date_published"])
        entry.source(url=item["url"], title=item["outlet"])
    return Response(feed.rss_str(pretty=True), media_type="application/rss+xml; charset=utf-8")


@router.get("/rules/{name}.json", responses={200: {"content": {"application/feed+json": {}}}, 404: {"model": Problem}})
def json_feed(name: str, request: Request, session: ArchiveSession,
              config: CurrentConfig) -> Response:
    """The rule's matched stories as JSON Feed 1.1."""
    rule = _rule(config, name)
    if rule is None:
        return _no_rule(name, config)
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": f"newsmon: {rule.name}",
        "home_page_url": _page(request, rule),
        "feed_url": str(request.url.remove_query_params("token")),
        "description": f"Stories that matched the rule {rule.name}: {one_line(rule.query)}",
        "items": [
            {
                "id": item["url"],
                "url": item["url"],
                "title": item["title"],
                "summary": item["summary"],
                "content_text": item["summary"],
                "date_published": item["date_published"].isoformat(),
                "authors": [{"name": item["outlet"]}],
                "_newsmon": {"story_id": item["id"], "matched_at": item["matched_at"].isoformat()},
            }
            for item in _items(session, rule, lexicon_for(config.names))
        ],
    }
    return JSONResponse(document, media_type="application/feed+json")


def _rss_title(text: str) -> str:
    """A title as RSS text: HTML-escaped when it holds a ``<`` (which a reader could take for a tag); otherwise
    as written, so that a reader that shows titles as plain text shows AT&T, not AT&amp;T."""
    return html.escape(text) if "<" in text else text


def _rule(config: Config, name: str) -> RuleConfig | None:
    return next((rule for rule in config.rules if rule.name == name), None)


def _no_rule(name: str, config: Config) -> Response:
    known = ", ".join(rule.name for rule in config.rules) or "none"
    return JSONResponse({"error": f"no rule named {name!r}; known: {known}"}, status_code=404)


def _page(request: Request, rule: RuleConfig) -> str:
    return str(request.url_for("search_page").include_query_params(q=rule.query))


def _items(session: Session, rule: RuleConfig, names: Lexicon) -> list[dict[str, Any]]:
    sought = positive_terms(widen(parse_query(rule.query), names))
    return [_item(match, sought) for match in rule_matches(session, rule.name, FEED_ITEMS)]


def _item(match: RuleMatch, sought: list[Any]) -> dict[str, Any]:
    story = match.story
    published: datetime = story.published_at or story.fetched_at
    return {
        "id": story.id,
        "url": story.url,
        "title": one_line(story.title),
        "summary": snippet(story.text, sought),
        "date_published": published,
        "matched_at": match.matched_at,
        "outlet": one_line(story.site_name or story.source.name),
    }
