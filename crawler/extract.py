"""Extraction: a pure function from a fetched page (decoded HTML and URL) to a frozen Article. No I/O."""

from __future__ import annotations

import re
from collections import Counter

import lxml.etree
import trafilatura
from htmldate import find_date
from trafilatura.utils import load_html

from crawler.bodyparts import add_lead, body_parts, join_parts, page_lead
from crawler.boilerplate import clean_lines, strip_blocks
from crawler.dating import from_day, published_and_modified
from crawler.embeds import take_embedded_posts, without_posts
from crawler.headline import choose_headline
from crawler.language import detect_language
from crawler.links import Link
from crawler.listing import cut_title
from crawler.pagemeta import PageSignals, read_signals
from db.neardup import fingerprint
from db.records import Article, content_hash
from newsmon.errors import ExtractionError, one_line
from newsmon.words import count_words, fold_words, spelled_key

# Fewer words than this is a teaser, an error page or a listing, not an article worth storing.
MIN_ARTICLE_WORDS = 30
# JSON-LD articleBody replaces the extracted text when it has this many times its words and holds this share
# of them (the same article, more of it).
LD_BODY_LONGER = 1.1
LD_BODY_COVERS = 0.8

_WHITESPACE = re.compile(r"\s+")
# The page's declared language: <html lang>, else <meta http-equiv="content-language"> or og:locale.
_HTML_LANG = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)*", re.IGNORECASE)
_META_LANG = re.compile(
    r"<meta\b[^>]*?(?:http-equiv\s*=\s*[\"']?content-language|property\s*=\s*[\"']?og:locale)[^>]*?"
    r"content\s*=\s*[\"']?([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)*",
    re.IGNORECASE,
)
# A paywall's block in the markup: class or id naming it (Piano's "piano-" widgets among them).
_PAYWALL_MARKUP = re.compile(r"""(?:class|id)\s*=\s*["'][^"']*(?:paywall|piano-|subscriber-only|premium-content)""",
                             re.IGNORECASE)
# "Subscribe to read", "This article is for subscribers", "Nur für Abonnenten", "Réservé aux abonnés"...
_PAYWALL_TEXT = re.compile(
    r"subscribe to (?:read|continue)|for subscribers only|this (?:article|content) is (?:for|available to) "
    r"subscribers|already a subscriber|nur für abonnenten|réservé aux abonnés|solo para suscriptores|"
    r"только для подписчиков|тільки для передплатників|dostęp tylko dla prenumeratorów",
    re.IGNORECASE,
)


def extract_article(html: str, url: str, urls: tuple[str, ...], link: Link, language_hint: str | None = None) -> Article:
    """Clean one article page: trafilatura on the page without its boilerplate blocks (crawler.boilerplate)
    and embedded posts (crawler.embeds, kept apart in ``embedded``), with the lead and the parts of a split body it leaves out (crawler.bodyparts), the headline and dates
    chosen from the page's own signals (crawler.headline, crawler.dating), the language read from the text
    (crawler.language).

    Args:
        html: the page, decoded.
        url: canonical URL of the page as fetched.
        urls: every canonical URL the page is known under (``url`` included).
        link: what the feed, sitemap or section page said about it (title and date fall back to it).
        language_hint: the source's language, used when the page declares none and the text is too short.

    Returns:
        The article; a page with too little text for one comes back with ``status`` teaser, paywalled or
        not_article (see ``page_status``) and is stored as such, never alerted on.

    Raises:
        ExtractionError: the page holds nothing at all (not HTML, no text and no headline).
    """
    try:
        # trafilatura's own loader: it takes what lxml.html refuses (an XHTML page's <?xml encoding?> line).
        tree = load_html(html) if html.strip() else None
    except (ValueError, lxml.etree.ParserError) as exc:
        raise ExtractionError(f"not an HTML page: {one_line(exc)}") from exc
    if tree is None:
        raise ExtractionError("no article found (an empty page)")
    signals = read_signals(tree)
    posts = take_embedded_posts(tree, html)  # before the boilerplate rules: a "social-embed" box holds a post
    strip_blocks(tree)
    lead, parts = page_lead(tree, signals.descriptions), body_parts(tree)
    try:
        document = trafilatura.bare_extraction(
            tree,
            url=url,
            include_comments=False,  # reader comments are not the article (and carry false alert terms)
            include_tables=True,
        )
    except Exception as exc:  # trafilatura raises a wide range of parser errors on hostile pages
        raise ExtractionError(f"trafilatura failed: {type(exc).__name__}: {exc}".splitlines()[0]) from exc
    text = add_lead(join_parts((getattr(document, "text", None) or "").strip(), parts), lead)
    text = without_posts(_fuller(clean_lines(text), signals.ld_body), posts)
    words = count_words(text)
    headline = choose_headline(signals, url, _clean(link.title))
    if words >= MIN_ARTICLE_WORDS:
        status = "article"
    elif not headline:  # nothing to show for it: a crawl problem, and the page is tried again next time
        raise ExtractionError(f"no article found ({words} words of text, need {MIN_ARTICLE_WORDS})")
    else:
        status = page_status(signals, html)
    shown = (lambda: from_day(_htmldate(html, url))) if status == "article" else None
    published, modified = published_and_modified(signals, url, link.published_at, shown_date=shown)
    if status == "not_article":
        text = ""  # what a page that is no article says is noise
    title = cut_title(headline or _first_line(text) or url)
    text = without_headline(text, [title, *signals.h1[:1], signals.og_title, signals.ld_headline])
    return Article(
        url=url,
        urls=urls,
        source=link.source,
        title=title,
        text=text,
        author=", ".join(signals.authors[:5]) or None,
        site_name=signals.site_names[0] if signals.site_names else None,
        language=detect_language(f"{title}\n{text}", declared_language(html) or language_hint),
        published_at=published,
        modified_at=modified,
        listed_at=link.published_at,
        status=status,
        # Pages that are no article are told apart by their URL: one teaser text must not make two the same.
        content_hash=content_hash(text) if status == "article" else content_hash(f"{status} {url}"),
        fingerprint=fingerprint(text) if status == "article" else None,
        refresh=link.refresh,
        embedded=posts if status == "article" else (),
    )


def without_headline(text: str, headlines: list[str | None]) -> str:
    """``text`` without a first line that repeats the headline (trafilatura keeps an h1 inside the article's
    container): the headline is stored apart, and the rules read it there."""
    lines = text.split("\n", 1)
    first = spelled_key(lines[0])
    if len(lines) < 2 or not first or not any(first == spelled_key(h) for h in headlines if h):
        return text
    return lines[1].lstrip("\n")


def _fuller(text: str, ld_body: str | None) -> str:
    """The page's JSON-LD articleBody instead of the extracted text when it is the same article, longer: the
    publisher's own plain text, where a page split its body in ways trafilatura does not follow."""
    if not ld_body:
        return text
    ours, theirs = fold_words(text), fold_words(ld_body)
    if len(theirs) < LD_BODY_LONGER * len(ours) or not ours:
        return text
    shared = sum((Counter(ours) & Counter(theirs)).values())
    return clean_lines(ld_body) if shared >= LD_BODY_COVERS * len(ours) else text


def page_status(signals: PageSignals, html: str) -> str:
    """What a page with too little text for an article is: paywalled (JSON-LD isAccessibleForFree false, a
    paywall block or a subscribe-to-read line in the page as fetched), teaser (it describes itself as an
    article) or not_article. Only asked of short pages: the markup is searched, not parsed again."""
    if signals.free is False or _PAYWALL_MARKUP.search(html) or _PAYWALL_TEXT.search(html):
        return "paywalled"
    if signals.ld_headline or signals.ld_published or signals.og_type == "article":
        return "teaser"
    return "not_article"


def _htmldate(html: str, url: str) -> str | None:
    """htmldate's fast reading of the page, for pages whose metadata gives no date."""
    try:
        return find_date(html, url=url, extensive_search=False, original_date=True)
    except Exception:  # htmldate parses arbitrary markup; a failure only means no date  # noqa: BLE001
        return None


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    value = _WHITESPACE.sub(" ", value).strip()
    return value or None


def _first_line(text: str) -> str:
    line = text.splitlines()[0].strip() if text.strip() else ""
    return line if len(line) <= 200 else line[:197].rstrip() + "..."


def _language(value: str | None) -> str | None:
    """'en-US' -> 'en'; anything that is not a language tag -> None."""
    if not value:
        return None
    primary = re.split(r"[-_]", value.strip().lower())[0]
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def declared_language(html: str) -> str | None:
    """The language the page declares in its head (the first 20,000 characters are enough)."""
    head = html[:20_000]
    match = _HTML_LANG.search(head) or _META_LANG.search(head)
    return _language(match.group(1)) if match else None
