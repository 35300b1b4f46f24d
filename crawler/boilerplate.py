"""What is on an article page but is not the article: removed from the tree before trafilatura reads it, and
from the lines it returns.

Every false alert comes from such text: a "Read also: Putin ready to talk" teaser under an unrelated story,
reader comments, photo credits naming people. trafilatura drops most of it; these rules catch what it
leaves on real pages (tests/crawler/test_boilerplate.py has one case each, bench/extraction.py the figures):

- blocks whose class, id, role or aria-label name them: comments, related/recommended/teaser/"more" lists,
  newsletter, subscription and call-to-action boxes, share bars, author bios, trust badges, captions;
- blocks the page hides (``display: none``, ``visibility: hidden``, ``hidden``, a ``hide``/``d-none`` class):
  menus, sign-in forms, pop-ups and schema.org copies of the article that would repeat its text;
- a heading that announces other stories ("More Great WIRED Stories", "DON'T MISS"), with its list of links;
- <figcaption>: captions and photo credits name people who are not the story's subject;
- short paragraphs that are mostly one link (a teaser for another story inside the body);
- lines that start like "Read more:", "MORE:", "Czytaj też", "Lesen Sie auch", "Читайте також"...;
- credit and sign-off lines ("Photo: Reuters", "aja/PAP", "(c) 2024 ...").

A block is never removed when it holds most of the page's text: a class like "article-with-related" on the
article's own container must not empty the page.
"""

from __future__ import annotations

import functools
import re
from itertools import pairwise

from lxml import etree
from lxml.html import HtmlElement

# Class/id/role/aria words of blocks that are not the article (not "ad": trafilatura drops ads itself, and
# "paywall" often wraps the very text a subscriber reads). Matched against each token of the class and id,
# split on - _ and camelCase humps, so "c-letters-cta" and "TrustBadge-trust-badge" match.
_COMMENT_WORDS = {"comment", "comments", "kommentare", "commentaires", "comentarios", "disqus"}
_BLOCK_WORDS = _COMMENT_WORDS | {
    "related", "relacionadas",
    "recommended", "recommendations", "recirculation", "recirc", "teaser", "teasers", "promo", "promos",
    "newsletter", "newsletters", "subscribe", "subscription", "cta", "share", "sharing", "social",
    "sharebar", "trustbadge", "readmore", "readalso", "bio", "outbrain", "taboola",
    "sponsored", "caption", "credit", "credits", "byline", "author",
    "tags", "breadcrumb", "breadcrumbs", "more", "also", "popular", "trending", "signup", "donate", "letters",
}
# Pairs of adjacent words that together name such a block ("read more", "more stories", "in text links").
_BLOCK_PAIRS = {("read", "more"), ("read", "also"), ("more", "stories"), ("more", "news"), ("in", "text"),
                ("see", "also"), ("author", "info"), ("about", "author"), ("most", "read"), ("latest", "news"),
                ("print", "header"), ("print", "footer"), ("print", "only")}
# ...but words that mark the article itself win: "article-body related-links" is still the body.
_KEEP_WORDS = {"body", "content", "text", "story", "article", "main", "post", "entry", "cuerpo", "artikel"}
_INSERT_WORDS = _COMMENT_WORDS | {"newsletter", "caption", "credit"}
# Blocks removed even when they hold a long paragraph: comments, a print-only copy's header and footer (a
# reprint notice).
_ANY_LENGTH_WORDS = _COMMENT_WORDS | {"print"}
_INLINE_WORDS = {"related", "more", "readmore", "readalso", "teaser", "also", "promo"}
_PROSE_WORDS = 40  # a paragraph this long is prose: a block holding one is not removed for its name alone
_SEPARATORS = re.compile(r"[\s\-_:./]+")
_HUMPS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_MOSTLY_TEXT = 0.4  # a block holding more than this share of the page's text is never removed
_TEASER_WORDS = 30  # a paragraph of at most this many words that is mostly one link is a teaser
_LINK_SHARE = 0.7
_HEADLINE_WORDS = 20
_WITH_LINK = "|".join(f"//{tag}[.//a]" for tag in ("p", "li", "h2", "h3", "h4"))
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
# Utility classes that hide an element (Bootstrap's, and the plain ones): an error message, a modal's copy.
_HIDING_CLASSES = frozenset({"hide", "hidden", "d-none", "is-hidden", "u-hidden", "js-hidden"})
_MOSTLY_HIDDEN = 0.5  # ...but a hidden block holding most of the page's text is an article a script reveals

# Lines that introduce a teaser for another story, in the languages of the outlets users follow.
_TEASER_LINE = re.compile(
    r"^\W{0,3}(?:read (?:more|also|next)|more|related|see also|also read|watch|listen|recommended|"
    r"czytaj (?:też|także|również|więcej)|dowiedz się więcej|zobacz (?:też|także)|przeczytaj (?:też|także)|"
    r"lesen sie (?:auch|mehr|hier)|mehr zum thema|auch interessant|"
    r"lire (?:aussi|également|plus)|à lire aussi|voir aussi|"
    r"lea (?:también|más)|leer más|lee también|ver también|te puede interesar|"
    r"leia (?:também|mais)|"
    r"читайте (?:также|також|тоже)|смотрите также|читати також|дивіться також|більше|"
    r"continua a leggere|leggi anche)\b\s*[:>»-]",
    re.IGNORECASE,
)
# A heading over a list of other stories: "More Great WIRED Stories", "Related", "Don't miss", "Most read",
# "You may also like", "Lesen Sie auch", "Читайте також"... (the whole text of a short element).
_TEASER_HEADING = re.compile(
    r"^\W{0,3}(?:(?:more|other|latest|top|related|recommended|popular|trending)\b.{0,30}\b(?:stories|news|articles|"
    r"reads?|coverage|headlines|from \w+)|related(?: (?:stories|articles|news|content|coverage|links))?|"
    r"(?:read|see) (?:more|also|next)|also read|don'?t miss|must read|most (?:read|popular|viewed|shared)|"
    r"you (?:may|might) (?:also )?(?:like|be interested in)|recommended(?: for you)?|editor'?s picks|"
    r"lesen sie auch|mehr zum thema|meistgelesen|à lire aussi|lire aussi|les plus lus|te puede interesar|"
    r"lo más leído|leia também|mais lidas|czytaj (?:też|także)|najczęściej czytane|читайте (?:также|також)|"
    r"самое (?:читаемое|популярное)|популярне|вам (?:может|може) (?:быть|бути) (?:интересно|цікаво))\W{0,3}$",
    re.IGNORECASE,
)
_MOST_HEADING_CHARS = 200  # with its white space
_HEADING_TAGS = ("h2", "h3", "h4", "h5", "h6", "p", "strong", "b")
_LEAF_DIVS = etree.XPath("//body//div[not(*)] | //body//header[not(*)]")
_HEADING_STOP = {"body", "article", "main", "section", "ul", "ol", "li", "table"}
_LIST_TAGS = {"ul", "ol"}

# What a click-to-tweet box's button says, after the quote it offers to share.
_SHARE_LABEL = re.compile(r"\s*(?:click to tweet|tweet this(?: quote)?)\s*$", re.IGNORECASE)

# Credit and sign-off lines: "Photo: AP", "Foto: dpa", "(c) Reuters 2024", "aja/PAP", "Image copyright ...".
_CREDIT_LINE = re.compile(
    r"^\W{0,2}(?:(?:photo|foto|fotos|picture|image|bild|zdjęcie|фото)s?(?: credit| copyright)?\s*[:/©]"
    r"|image copyright|getty images$|©|\(c\)\s|copyright \d{4}"
    r"|[a-ząćęłńóśźż]{2,5}(?:/[A-Za-zĄĆĘŁŃÓŚŹŻ]{2,12})+\W{0,2}$)",
    re.IGNORECASE,
)
_CREDIT_WORDS = 12  # a credit line is short
# "Write to us at ... or subscribe to our newsletter": a contact or newsletter line, short, naming one of these.
_NEWSLETTER_LINE = re.compile(r"newsletter|subscribe|suscrib|abonnier|abonnez|подпис|підпис|prenumer|@\w+\.\w+",
                              re.IGNORECASE)
_NEWSLETTER_WORDS = 40


def strip_blocks(tree: HtmlElement) -> int:
    """Remove the blocks that are not the article from ``tree`` (in place); returns how many were removed."""
    total = _paragraph_text(tree)
    removed = 0
    for element in tree.xpath("//body//*[@style or @hidden]"):
        if element.getparent() is not None and _is_hidden(element) \
                and not _paragraph_text(element) > _MOSTLY_HIDDEN * total:
            removed += drop_element(element)
    for element in list(tree.iter("figcaption")):
        removed += drop_element(element)
    for element in tree.xpath("//body//*[@class or @id or @role or @aria-label]"):
        get = element.get
        classes = get("class")
        if classes and _hides(classes) and element.getparent() is not None \
                and not _paragraph_text(element) > _MOSTLY_HIDDEN * total:
            removed += drop_element(element)  # hidden by its class, as the loop above does for style
            continue
        words = _boilerplate_words(get("class"), get("id"), get("role"), get("aria-label"))
        if words is None or element.getparent() is None or element.tag in {"body", "html", "main", "article"}:
            continue
        if total and _paragraph_text(element) > _MOSTLY_TEXT * total or _holds_headline(element):
            continue
        if _has_long_paragraph(element) and not _ANY_LENGTH_WORDS & set(words):
            continue  # teasers and boxes are short; a paragraph of prose is the article's (comments aside)
        removed += drop_element(element)
    removed += _strip_teaser_headings(tree)
    # Only a paragraph holding a link can be a teaser: libxml2 finds those (most paragraphs hold none).
    for paragraph in tree.xpath(_WITH_LINK):
        if paragraph.getparent() is not None and _is_link_teaser(paragraph):
            removed += drop_element(paragraph)
    return removed


def _strip_teaser_headings(tree: HtmlElement) -> int:
    """Remove each heading that announces other stories ("More Great WIRED Stories", "DON'T MISS"), with the
    list of links that follows it. A heading is a heading, bold, paragraph or childless div element whose
    whole text says so (alone or through its one child); the list is its next sibling, a ul or ol whose every
    item links somewhere."""
    removed = 0
    for heading in [*tree.iter(*_HEADING_TAGS), *_LEAF_DIVS(tree)]:
        if heading.getparent() is None or not _TEASER_HEADING.match(_own_text(heading)):
            continue
        text = _text_of(heading)
        while heading.getparent() is not None and heading.getparent().tag not in _HEADING_STOP \
                and _text_of(heading.getparent()) == text:  # <p><strong>DON'T MISS</strong></p>: the p
            heading = heading.getparent()
        following = heading.getnext()
        if following is not None and following.tag in _LIST_TAGS and _every_item_links(following):
            removed += drop_element(following)
        removed += drop_element(heading)
    return removed


def _own_text(element: HtmlElement) -> str:
    """The element's text when it is all there is in it (else ""): read without building its whole text, as
    most paragraphs are long or hold more than one child."""
    text = element.text or ""
    if len(element) == 1 and not text.strip():
        child = element[0]
        text = (child.text or "") if len(child) == 0 and not (child.tail or "").strip() else ""
    elif len(element) or len(text) > _MOST_HEADING_CHARS:
        return ""
    return " ".join(text.split())


def _every_item_links(listing: HtmlElement) -> bool:
    items = [child for child in listing if child.tag == "li"]
    return bool(items) and all(next(item.iter("a"), None) is not None for item in items)


def clean_lines(text: str) -> str:
    """``text`` without teaser-introducing lines and credit lines, and without a share button's label left at
    the end of a pull quote ("... continuum.'Click To Tweet")."""
    kept = []
    for line in text.splitlines():
        if "weet" in line or "WEET" in line:  # the label's regular expression is costly on every line
            line = _SHARE_LABEL.sub("", line)
        stripped = line.strip()
        if stripped and _TEASER_LINE.match(stripped) and len(stripped.split()) <= _TEASER_WORDS:
            continue
        if stripped and len(stripped.split()) <= _CREDIT_WORDS and _CREDIT_LINE.match(stripped):
            continue
        if stripped and len(stripped.split()) <= _NEWSLETTER_WORDS and len(_NEWSLETTER_LINE.findall(stripped)) >= 2:
            continue
        kept.append(line)
    return "\n".join(kept).strip()


@functools.lru_cache(maxsize=8192)
def _boilerplate_words(*names: str | None) -> tuple[str, ...] | None:
    """The words of an element's class, id, role and aria-label when they name a block that is not the
    article, else None. Cached: a page has hundreds of elements but few distinct names, and a site's names
    repeat from page to page (splitting them was a tenth of a crawl's cleaning time)."""
    raw = " ".join(filter(None, names))
    words = [hump.lower() for token in _SEPARATORS.split(raw) if token for hump in _HUMPS.findall(token)]
    return tuple(words) if _names_boilerplate(words) else None


def _names_boilerplate(words: list[str]) -> bool:
    if not words:
        return False
    hit = any(word in _BLOCK_WORDS for word in words) or any(pair in _BLOCK_PAIRS for pair in pairwise(words))
    if not hit:
        return False
    if any(word in _KEEP_WORDS for word in words):
        # "article-body" stays; "article-related", "intext-links" inside the body go (they name an insert).
        return any(word in _INLINE_WORDS or word in _INSERT_WORDS for word in words) \
            and not {"body", "content", "text"} & set(words)
    return True


def _is_hidden(element: HtmlElement) -> bool:
    return element.get("hidden") is not None or bool(_HIDDEN_STYLE.search(element.get("style") or ""))


@functools.lru_cache(maxsize=4096)
def _hides(classes: str) -> bool:
    """A class attribute naming a utility class that hides its element (cached: a site's classes repeat)."""
    return not _HIDING_CLASSES.isdisjoint(classes.split())


def _is_link_teaser(paragraph: HtmlElement) -> bool:
    text = _text_of(paragraph)
    words = len(text.split())
    if not words or words > _TEASER_WORDS:
        return False
    linked = sum(len(_text_of(link)) for link in paragraph.iter("a"))
    if linked >= _LINK_SHARE * len(text):
        return True
    # <p><em>Ex-commander of US forces in Europe: <a>Russia is dangerous</a></em></p>: a whole short paragraph
    # set in italics or bold around a link is another story's headline.
    children = [child for child in paragraph if isinstance(child.tag, str)]
    return (words <= _HEADLINE_WORDS and len(children) == 1 and children[0].tag in {"em", "strong", "b", "i"}
            and _text_of(children[0]) == text and next(children[0].iter("a"), None) is not None)


def _paragraph_text(element: HtmlElement) -> int:
    """Characters of paragraph text under ``element``: where the article is, whatever else the page holds."""
    return sum(len(paragraph.text_content()) for paragraph in element.iter("p"))


def _has_long_paragraph(element: HtmlElement) -> bool:
    return any(len(paragraph.text_content().split()) >= _PROSE_WORDS for paragraph in element.iter("p"))


def _holds_headline(element: HtmlElement) -> bool:
    return next(element.iter("h1"), None) is not None


def _text_of(element: HtmlElement) -> str:
    return " ".join(element.text_content().split())


def drop_element(element: HtmlElement) -> int:
    """Remove ``element`` but keep the text that follows it (its tail belongs to the parent)."""
    parent = element.getparent()
    if parent is None:
        return 0
    tail = element.tail
    previous = element.getprevious()
    if tail and tail.strip():
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)
    return 1
