"""Parts of the article trafilatura leaves out, added back to its text: the lead under the headline, and the
rest of a body the page splits into parts.

A lead (standfirst, "dek", "Vorspann") is often set apart from the body in a block of its own, and trafilatura
drops it as a header; it is the story in two sentences and names who it is about. It is taken only when the
block's class, id or itemprop names a lead and its text is the page's own description (og:description, the
JSON-LD description...), so that no teaser box is taken for it.

Some templates cut the body into several containers with an advertisement or a video between them, each
marked as the article's body by the same class (Wired: two ``<div class="... body__container article__body
...">`` with an ad rail between). trafilatura picks the best container and keeps only it, so a story loses
half its text, and the names in that half never reach the alert rules.

Only containers whose class names the article's body (an article word and a body word, "article__body",
"story-body", "post-content") are taken for parts, and only when trafilatura's text holds most of one part
and almost none of another: a page whose parts it already joined is left as it is.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from lxml.html import HtmlElement

_LEAD_WORDS = {"lead", "lede", "standfirst", "intro", "description", "summary", "dek", "deck", "excerpt",
               "abstract", "sapo", "chapo", "chapeau", "entradilla", "bajada", "subtitle", "subheadline", "teaser"}
_LEAD_WORDS_RANGE = (8, 150)
_ARTICLE_WORDS = {"article", "story", "post", "entry", "artikel", "articulo", "nota"}
_BODY_WORDS = {"body", "content", "text"}
_HUMPS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_BLOCKS = ("p", "h2", "h3", "h4", "li", "blockquote")
_SPACE = re.compile(r"\s+")
_PARAGRAPH_WORDS = 5  # shorter blocks (a dateline, "Advertisement") say nothing about which part was kept
_KEPT = 0.5  # trafilatura's text holds at least this share of one part's paragraphs...
_LEFT_OUT = 0.2  # ...and at most this share of another's: that part was left out


@dataclass(frozen=True)
class Part:
    """One container of the article's body: its paragraphs, white space folded, in page order."""

    paragraphs: tuple[str, ...]


def page_lead(tree: HtmlElement, descriptions: list[str]) -> str | None:
    """The lead the page shows under its headline, or None. Read after crawler.boilerplate, before trafilatura."""
    low, high = _LEAD_WORDS_RANGE
    wanted = [_fold(text).rstrip(" .…") for text in descriptions if len(text.split()) >= low]
    if not wanted:
        return None
    for element in tree.xpath("//body//*[@class or @id or @itemprop]"):
        names = " ".join(filter(None, (element.get("class"), element.get("id"), element.get("itemprop"))))
        if not _hints(names, _LEAD_WORDS) or not _words(names) & _LEAD_WORDS:
            continue
        text = _SPACE.sub(" ", element.text_content()).strip()
        if low <= len(text.split()) <= high and any(_agrees(_fold(text).rstrip(" .…"), one) for one in wanted):
            return text
    return None


def add_lead(text: str, lead: str | None) -> str:
    """``text`` beginning with ``lead`` when it does not hold it already."""
    if not lead or _fold(lead).rstrip(" .…") in _fold(text):
        return text
    return f"{lead}\n{text}" if text else lead


def body_parts(tree: HtmlElement) -> list[Part]:
    """The parts of a body split over containers that share one body-naming class, in page order; an empty
    list when the page has no such split (the common case). Read before trafilatura changes the tree."""
    groups: dict[tuple[str, str], list[HtmlElement]] = defaultdict(list)
    for element in tree.xpath("//body//*[@class]"):
        classes = element.get("class", "").strip()
        if _hints(classes, _BODY_WORDS) and _names_body(classes):
            groups[(element.tag, classes)].append(element)
    for members in groups.values():
        if len(members) < 2:
            continue
        outer = [element for element in members
                 if not any(other is not element and _contains(other, element) for other in members)]
        parts = [Part(_paragraphs(element)) for element in outer]
        if sum(1 for part in parts if part.paragraphs) >= 2:
            return parts
    return []


def join_parts(text: str, parts: list[Part]) -> str:
    """``text`` with the parts it left out added: those before the first part it holds go before it, the
    others after it."""
    if not parts:
        return text
    folded = _fold(text)
    held = [_share_held(part, folded) for part in parts]
    if max(held) < _KEPT:
        return text  # trafilatura read something else than these parts: nothing to join to
    first_kept = next(index for index, share in enumerate(held) if share >= _KEPT)
    before, after = [], []
    for index, (part, share) in enumerate(zip(parts, held, strict=True)):
        if share <= _LEFT_OUT and part.paragraphs:
            (before if index < first_kept else after).append("\n".join(part.paragraphs))
    return "\n".join([*before, text, *after]) if before or after else text


def _names_body(classes: str) -> bool:
    words = _words(classes)
    return bool(words & _ARTICLE_WORDS and words & _BODY_WORDS)


def _hints(names: str, words: set[str]) -> bool:
    """A cheap first look at raw names (most elements name nothing of the kind) before they are split."""
    lowered = names.lower()
    return any(word in lowered for word in words)


def _words(names: str) -> set[str]:
    """The words of class/id names, split on white space, - and _ and camelCase humps."""
    return {hump.lower() for token in re.split(r"[\s\-_]+", names) for hump in _HUMPS.findall(token)}


def _agrees(lead: str, description: str) -> bool:
    """The block says what the description says: one is the other, or its beginning (a description cut
    with an ellipsis, or a lead that goes on)."""
    return lead.startswith(description) or description.startswith(lead)


def _contains(outer: HtmlElement, inner: HtmlElement) -> bool:
    return any(ancestor is outer for ancestor in inner.iterancestors())


def _paragraphs(element: HtmlElement) -> tuple[str, ...]:
    found = []
    for block in element.iter(_BLOCKS):
        if _inside_block(block, element):
            continue  # a <p> inside a <blockquote> or <li> is read with it
        text = _SPACE.sub(" ", block.text_content()).strip()
        if text:
            found.append(text)
    return tuple(found)


def _inside_block(block: HtmlElement, container: HtmlElement) -> bool:
    for ancestor in block.iterancestors():
        if ancestor is container:
            return False
        if ancestor.tag in _BLOCKS:
            return True
    return False


def _share_held(part: Part, folded_text: str) -> float:
    telling = [paragraph for paragraph in part.paragraphs if len(paragraph.split()) >= _PARAGRAPH_WORDS]
    if not telling:
        return 0.0
    return sum(1 for paragraph in telling if _fold(paragraph) in folded_text) / len(telling)


def _fold(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower()
