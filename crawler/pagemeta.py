"""What a page says about itself: JSON-LD, meta tags, its h1 and <title>, <time> elements. Read from the parsed
tree before anything cleans it; pure, no I/O. The headline, dates and authors are chosen from these signals
(crawler.headline, crawler.dating)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html import unescape
from typing import Any

import lxml.etree
import lxml.html
from lxml.html import HtmlElement

_SPACE = re.compile(r"\s+")
# Zero-width spaces and joiners, word joiners, byte-order marks and soft hyphens: invisible, yet they make two
# copies of a headline differ.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_MARKUP = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9]*|/[a-zA-Z][a-zA-Z0-9]*)(?:\s[^<>]*)?/?>")
_NOT_TEXT = ("script", "style", "iframe", "img", "figure", "figcaption", "noscript", "video", "audio")
_LINE_BLOCKS = ("p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "tr", "section", "body")
# JSON-LD types that describe the article itself (schema.org Article and its news/blog subtypes).
_ARTICLE_TYPE = re.compile(r"(?:News|Reportage|Analysis|Opinion|Review|Background|Report|Scholarly|Tech)?Article$"
                           r"|^BlogPosting$|^LiveBlogPosting$|^Report$", re.IGNORECASE)
_PUBLISHED_META = ("article:published_time", "og:article:published_time", "datepublished", "pubdate",
                   "publishdate", "publish-date", "publish_date", "date", "dc.date", "dc.date.issued",
                   "dcterms.created", "sailthru.date", "parsely-pub-date", "cxenseparse:recs:publishtime",
                   "article.published", "originalpublicationdate")
_MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified", "lastmod", "last-modified",
                  "dcterms.modified", "article.updated")
_AUTHOR_META = ("author", "article:author", "dc.creator", "parsely-author", "sailthru.author", "byl")
_DESCRIPTION_META = ("og:description", "description", "twitter:description", "dc.description")
_SITE_META = ("og:site_name", "application-name", "twitter:site")


@dataclass(slots=True)
class PageSignals:
    """Every claim the page makes about its headline, dates, authors and site, in the page's own words."""

    ld_headline: str | None = None
    ld_body: str | None = None  # JSON-LD articleBody: the publisher's own plain text of the article, when given
    og_title: str | None = None
    og_type: str | None = None
    free: bool | None = None  # JSON-LD isAccessibleForFree: False on a paywalled article
    twitter_title: str | None = None
    h1: list[str] = field(default_factory=list)  # in document order, the ones inside <article>/<main> first
    h1_in_article: bool = False  # the first h1 is inside <article> or <main> (or marked itemprop=headline)
    title: str | None = None  # the <title> element
    ld_published: str | None = None
    ld_modified: str | None = None
    meta_published: list[str] = field(default_factory=list)
    meta_modified: list[str] = field(default_factory=list)
    times: list[str] = field(default_factory=list)  # <time datetime> values, in document order
    authors: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)  # JSON-LD, og:, twitter: and <meta> descriptions
    site_names: list[str] = field(default_factory=list)


def read_signals(tree: HtmlElement) -> PageSignals:
    """Collect the signals of one parsed page (it is not modified)."""
    signals = PageSignals()
    for item in _json_ld_articles(tree):
        signals.ld_headline = signals.ld_headline or _text(item.get("headline") or item.get("name"))
        body = item.get("articleBody")
        if isinstance(body, str) and body.strip() and not signals.ld_body:
            signals.ld_body = _plain(unescape(body)).strip()
        signals.ld_published = signals.ld_published or _text(item.get("datePublished") or item.get("dateCreated"))
        signals.ld_modified = signals.ld_modified or _text(item.get("dateModified"))
        signals.authors.extend(_names(item.get("author")))
        signals.descriptions.extend(filter(None, [_text(item.get("description"))]))
        signals.site_names.extend(_names(item.get("publisher")))
        if signals.free is None and "isAccessibleForFree" in item:
            signals.free = str(item["isAccessibleForFree"]).strip().lower() not in {"false", "no", "0"}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        value = _text(meta.get("content"))
        if not key or not value:
            continue
        if key == "og:title":
            signals.og_title = signals.og_title or value
        elif key == "og:type":
            signals.og_type = signals.og_type or value.lower()
        elif key == "twitter:title":
            signals.twitter_title = signals.twitter_title or value
        elif key in _PUBLISHED_META:
            signals.meta_published.append(value)
        elif key in _MODIFIED_META:
            signals.meta_modified.append(value)
        elif key in _AUTHOR_META and not value.startswith(("http://", "https://", "@")):
            signals.authors.append(value)
        elif key in _DESCRIPTION_META:
            signals.descriptions.append(value)
        elif key in _SITE_META:
            signals.site_names.append(value.removeprefix("@"))
    signals.title = _text(next((t.text_content() for t in tree.iter("title")), None))
    inner = tree.xpath("//article//h1 | //main//h1 | //*[@itemprop='headline'][self::h1]")
    signals.h1 = list(dict.fromkeys(t for t in (_text(h.text_content()) for h in [*inner, *tree.iter("h1")]) if t))
    signals.h1_in_article = bool(signals.h1) and any(_text(h.text_content()) == signals.h1[0] for h in inner)
    signals.times = [value for value in (_text(t.get("datetime")) for t in tree.iter("time")) if value]
    signals.authors = list(dict.fromkeys(signals.authors))
    signals.site_names = list(dict.fromkeys(signals.site_names))
    signals.descriptions = list(dict.fromkeys(signals.descriptions))
    return signals


def _json_ld_articles(tree: HtmlElement) -> list[dict[str, Any]]:
    """The article objects of the page's JSON-LD blocks (a block that is not valid JSON is skipped)."""
    found: list[dict[str, Any]] = []
    for script in tree.xpath("//script[@type='application/ld+json']"):
        raw = (script.text or "").strip().removeprefix("<![CDATA[").removesuffix("]]>").strip()
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        stack = [data]
        while stack and len(found) < 20:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                if "@graph" in item:
                    stack.extend(item["@graph"] if isinstance(item["@graph"], list) else [item["@graph"]])
                kinds = item.get("@type")
                kinds = kinds if isinstance(kinds, list) else [kinds]
                if any(isinstance(kind, str) and _ARTICLE_TYPE.search(kind) for kind in kinds):
                    found.append(item)
    return found


def _plain(body: str) -> str:
    """A JSON-LD articleBody as plain lines: some publishers put the body's HTML in it (a <p> per paragraph,
    <img>, captions in <span>, <iframe> embeds) instead of its text."""
    if not _MARKUP.search(body):
        return body
    try:
        fragment = lxml.html.fragment_fromstring(body, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return _MARKUP.sub(" ", body)
    for element in list(fragment.iter(*_NOT_TEXT)):
        if element.getparent() is not None:
            element.drop_tree()  # keeps the tail: the text after an <img> is still the article's
    for element in fragment.iter(*_LINE_BLOCKS):
        element.tail = "\n" + (element.tail or "")
        if element.tag != "br":
            element.text = "\n" + (element.text or "")
    lines = (_SPACE.sub(" ", line).strip() for line in fragment.text_content().splitlines())
    return "\n".join(line for line in lines if line)


def _names(value: Any) -> list[str]:
    """Names in a JSON-LD author/publisher value: a string, a Person/Organization, or a list of them."""
    values = value if isinstance(value, list) else [value]
    names = []
    for item in values:
        name = item.get("name") if isinstance(item, dict) else item
        text = _text(name)
        if text and not text.startswith(("http://", "https://")):
            names.append(text)
    return names


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, str):
        return None
    value = _SPACE.sub(" ", unescape(value).translate(_INVISIBLE)).strip()
    return value or None
