"""The article's own headline: what a reader sees above it, the ``h1`` inside the article, when the page's
metadata backs it; else chosen by agreement between what the page says (JSON-LD ``headline``, ``og:title``,
``twitter:title``, the main ``h1``, the ``<title>``) with the site's name cut off.

A <title> is usually "Headline | Section | Site"; og:title is sometimes "Site | Headline" or an editor's
shorter social headline; a page can have several h1 (a logo, a "Got a tip?" box). So each signal offers its
text and its text with site-name-like segments cut, and the headline is the candidate the most signals agree
on; with no agreement, the most trusted signal alone (JSON-LD, then h1, then og:title, then <title>).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

from crawler.pagemeta import PageSignals

# Separators between a headline and a site or section name in <title> and og:title.
_SEPARATOR = re.compile(r"\s+[|\-–—:·•»«/]\s+|\s*[|_»«]\s*|\s+::\s+")
_LONGEST_SECTION = 4  # words: a cut segment longer than this is part of the headline, not a site or section
_MIN_HEADLINE = 3  # characters
_MAX_H1 = 300  # characters: a longer h1 is a block of text, not a headline
_WORD = re.compile(r"\w+")
_SHARED_WORDS = 1 / 3  # of the h1's words, that one of the metadata's headlines must hold


def choose_headline(signals: PageSignals, url: str, listed: str | None = None) -> str | None:
    """The headline the reader sees (the article's h1, see ``_visible``), else the one the page's other
    signals agree on, or ``listed`` (the feed's title), or None."""
    sites = _site_keys(signals.site_names, url)
    visible = _visible(signals, sites, [signals.ld_headline, signals.og_title, signals.twitter_title,
                                        signals.title, listed])
    if visible:
        return visible
    sources: list[tuple[str, list[str]]] = []  # (signal, its candidate texts, the whole first)
    if signals.ld_headline:
        sources.append(("ld", _variants(signals.ld_headline, sites)))
    for position, h1 in enumerate(signals.h1[:3]):
        if _MIN_HEADLINE <= len(h1) <= _MAX_H1:
            sources.append((f"h1.{position}", [h1]))
    for name, value in (("og", signals.og_title), ("twitter", signals.twitter_title), ("title", signals.title)):
        if value:
            sources.append((name, _variants(value, sites)))
    if listed:
        sources.append(("listed", _variants(listed, sites)))
    if not sources:
        return None
    votes: dict[str, set[str]] = {}
    first_seen: dict[str, str] = {}
    for name, variants in sources:
        for variant in variants:
            key = _key(variant)
            if len(key) < _MIN_HEADLINE:
                continue
            votes.setdefault(key, set()).add(name.split(".")[0])
            first_seen.setdefault(key, variant)
    if not votes:
        return None
    order = {key: index for index, key in enumerate(first_seen)}
    best = max(votes, key=lambda key: (len(votes[key]), not _looks_like_site(key, sites), -order[key]))
    if len(votes[best]) >= 2:
        return first_seen[best]
    # No two signals agree: the most trusted one, its site name cut (an h1 last: it may be a logo or a menu).
    for name, variants in sorted(sources, key=lambda source: source[0].startswith("h1")):
        if name != "listed" or len(sources) == 1:
            usable = [v for v in variants if len(_key(v)) >= _MIN_HEADLINE and not _looks_like_site(_key(v), sites)]
            if usable:
                return usable[-1] if name in {"og", "twitter", "title", "listed"} else usable[0]
    return first_seen[best]


def _visible(signals: PageSignals, sites: set[str], metadata: list[str | None]) -> str | None:
    """The h1 inside the article (or main) when it is the article's headline: of a headline's length, not the
    site's name, and sharing at least a third of its words with one of what the page's metadata calls the
    headline, if it calls any (a German outlet's og:title and <title> are often a search engine's version of
    the headline above the article; a caption or a show's name in an h1 shares nothing with them)."""
    if not signals.h1_in_article:
        return None
    h1 = signals.h1[0]
    key = _key(h1)
    if not _MIN_HEADLINE <= len(h1) <= _MAX_H1 or _looks_like_site(key, sites):
        return None
    words = set(_WORD.findall(key))
    claims = [set(_WORD.findall(_key(value))) for value in metadata if value]
    if claims and not any(len(words & claim) >= _SHARED_WORDS * len(words) for claim in claims):
        return None
    return h1


def _variants(text: str, sites: set[str]) -> list[str]:
    """``text``, then ``text`` with leading and trailing site/section segments cut one at a time."""
    variants = [text]
    parts = _split(text)
    if len(parts) < 2:
        return variants
    # Cut from the end while the cut part is short (a section or a site), then from the start the same way.
    start, end = 0, len(parts)
    while end - start > 1 and _is_label(parts[end - 1][0], _join(parts, start, end - 1, text), sites):
        end -= 1
        variants.append(_join(parts, start, end, text))
    while end - start > 1 and _is_label(parts[start][0], _join(parts, start + 1, end, text), sites):
        start += 1
        variants.append(_join(parts, start, end, text))
    return variants


def _split(text: str) -> list[tuple[str, int, int]]:
    """The segments between separators, with their spans in ``text``."""
    parts, position = [], 0
    for match in _SEPARATOR.finditer(text):
        if match.start() > position:
            parts.append((text[position:match.start()], position, match.start()))
        position = match.end()
    if position < len(text):
        parts.append((text[position:], position, len(text)))
    return parts


def _join(parts: list[tuple[str, int, int]], start: int, end: int, text: str) -> str:
    return text[parts[start][1]:parts[end - 1][2]].strip()


def _is_label(segment: str, rest: str, sites: set[str]) -> bool:
    """A segment that names the site, or is short enough to be a section name (and shorter than the rest of
    the title, which is then the headline)."""
    if _looks_like_site(_key(segment), sites):
        return True
    return len(segment.split()) <= _LONGEST_SECTION and len(segment) < len(rest) and not _has_sentence(segment)


def _has_sentence(segment: str) -> bool:
    # A short segment ending like a sentence ("Talks resume?") or quoting someone is part of the headline.
    return segment.rstrip().endswith(("?", "!", "'", '"', "’", "”")) or segment.lstrip().startswith(("'", '"', "‘", "“"))


def _looks_like_site(key: str, sites: set[str]) -> bool:
    compact = key.replace(" ", "").replace(".", "")
    return any(compact == site or (len(site) >= 4 and (compact.startswith(site) or site.startswith(compact)
                                                       and len(compact) >= 4)) for site in sites)


def _site_keys(names: Iterable[str], url: str) -> set[str]:
    """The site's names, compacted: og:site_name and publisher, and the host's name ("nytimes" for
    www.nytimes.com)."""
    keys = {_key(name).replace(" ", "").replace(".", "") for name in names}
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    labels = host.split(".")
    if len(labels) >= 2:
        keys.add(labels[-2] if len(labels[-2]) > 3 or len(labels) == 2 else labels[-3])
        keys.add("".join(labels))
    return {key for key in keys if len(key) >= 2}


def _key(text: str) -> str:
    """How candidates are compared: NFKC, case folded, quotes made plain, white space folded."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.translate(str.maketrans("‘’‚‛“”„‟", "''''\"\"\"\""))
    return " ".join(text.split())
