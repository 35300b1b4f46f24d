"""News sitemaps, plain sitemaps, sitemap indexes and robots.txt (gzip too), read with a parser that fetches nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from urllib.parse import urljoin, urlsplit

from lxml import etree
from w3lib.html import replace_entities

from crawler.links import Link
from crawler.listing import believable, cut_title, from_iso, later, maybe_gunzip, refuse_xml_entities
from crawler.spiders.feed import links_from_feed
from crawler.urls import canonical_url
from newsmon.errors import ExtractionError

_WEB = ("http://", "https://")
# A robots.txt line that names a directive (RFC 9309 and the common extensions); a plain-text sitemap has none.
_ROBOTS_LINE = re.compile(
    rb"^[ \t]*(?:user-agent|disallow|allow|sitemap|crawl-delay|request-rate|host|noindex)[ \t]*:",
    re.IGNORECASE | re.MULTILINE,
)
_SITEMAP_LINE = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE)
# A control character left in a title (a stray byte read leniently); tab, newline and carriage return are spaces.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


class SitemapKind(StrEnum):
    """How the body was written: what the crawl reads from it is the same either way."""

    URLSET = "urlset"  # <urlset> of <url> entries
    INDEX = "index"  # <sitemapindex> of further sitemaps
    ROBOTS = "robots"  # a robots.txt, whose Sitemap: lines name further sitemaps
    PLAIN = "plain"  # a text file of URLs, one a line
    FEED = "feed"  # an RSS or Atom feed, which the sitemap protocol accepts in place of a urlset


@dataclass(frozen=True, slots=True)
class SitemapContent:
    """What one sitemap file lists: article links (a urlset) or further sitemaps (an index or a robots.txt)."""

    links: list[Link] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    modified: dict[str, datetime] = field(default_factory=dict)  # an index's <lastmod> of its sitemaps, if given
    # The form, not the content: two bodies listing the same links are equal whatever their kind.
    kind: SitemapKind = field(default=SitemapKind.URLSET, compare=False)


def _parser() -> etree.XMLParser:
    # No entity expansion, no network, no DTD loading: a sitemap is untrusted input.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, recover=True, remove_comments=True, huge_tree=False
    )


def _local(tag: object) -> str:
    """An element's name without namespace or prefix: ``news:title``, ``ns0:title`` and ``title`` are alike."""
    return tag.rsplit("}", 1)[-1].split(":")[-1].lower() if isinstance(tag, str) else ""


def _child(element: etree._Element | None, name: str) -> etree._Element | None:
    if element is None:
        return None
    return next((child for child in element if _local(child.tag) == name), None)


def _child_text(element: etree._Element | None, name: str) -> str | None:
    """The text of the element's own child of that name: never a grandchild such as <image:image>'s <image:loc>."""
    child = _child(element, name)
    text = child.text.strip() if child is not None and child.text else ""
    return text or None


def read_sitemap(body: bytes, url: str, source: str, max_bytes: int, now: datetime | None = None) -> SitemapContent:
    """Parse a sitemap or sitemap index; a plain-text sitemap (one URL a line), a robots.txt or a feed is read too.

    The news extension's title and publication date are kept (whatever prefix the news namespace has). An entry's
    date is its news:publication_date, else its <lastmod>, when believable (1995 to a day ahead of ``now``).

    Args:
        body: the response body, gzipped or not.
        url: the URL it came from; relative URLs are resolved against it, and a path ending in /robots.txt
            marks a robots.txt.
        source: the name of the source, kept in each Link.
        max_bytes: the most a gzipped body may inflate to.
        now: the time dates are judged against (default: the current time).

    Raises:
        ExtractionError: the body is empty, declares XML entities (see ``refuse_xml_entities``), is a robots.txt
            with no Sitemap: lines, or is neither a sitemap nor a list of URLs.
    """
    body = maybe_gunzip(body, max_bytes).removeprefix(b"\xef\xbb\xbf").strip()
    if not body:
        raise ExtractionError("empty response where a sitemap was expected")
    if not body.startswith(b"<"):
        if _is_robots_txt(body, url):
            return _robots_txt(body, url)
        return _plain_text(body, source)
    # lxml expands no entity here, but a sitemap that declares them is hostile: refused like a feed.
    refuse_xml_entities(body, "sitemap")
    try:
        root = etree.fromstring(body, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise ExtractionError(f"not a sitemap: {str(exc).splitlines()[0]}") from exc
    if root is None:
        raise ExtractionError("not a sitemap: no XML elements found")
    kind = _local(root.tag)
    if kind in {"rss", "feed", "rdf"}:
        # The sitemap protocol accepts an RSS 2.0, RSS 1.0 or Atom feed in place of a urlset.
        return SitemapContent(links=links_from_feed(body, url, source, None, max_bytes), kind=SitemapKind.FEED)
    if kind == "sitemapindex":
        return _index(root, url, now)
    if kind != "urlset":
        raise ExtractionError(f"not a sitemap: the root element is <{kind or '?'}>, not <urlset> or <sitemapindex>")
    links: dict[str, Link] = {}
    for entry in root:
        if _local(entry.tag) != "url":
            continue
        loc = _child_text(entry, "loc")
        if not loc:
            continue
        absolute = urljoin(url, loc)
        if not absolute.startswith(_WEB):
            continue
        link_url = canonical_url(absolute)
        news = _child(entry, "news")
        published = believable(from_iso(_child_text(news, "publication_date")), now) or believable(
            from_iso(_child_text(entry, "lastmod")), now
        )
        title = _plain_title(_child_text(news, "title"))
        updated = later(believable(from_iso(_child_text(entry, "lastmod")), now), published)
        links.setdefault(link_url, Link(url=link_url, source=source, title=title, published_at=published,
                                        updated_at=updated))
    return SitemapContent(links=list(links.values()), kind=SitemapKind.URLSET)


def _index(root: etree._Element, url: str, now: datetime | None) -> SitemapContent:
    sitemaps: dict[str, None] = {}
    modified: dict[str, datetime] = {}
    for entry in root:
        if _local(entry.tag) != "sitemap":
            continue
        # Some indexes put the bare URL in <sitemap> with no <loc>.
        loc = _child_text(entry, "loc") or (entry.text or "").strip()
        absolute = urljoin(url, loc) if loc else ""
        if not absolute.startswith(_WEB) or absolute in sitemaps:
            continue
        sitemaps[absolute] = None
        if (lastmod := believable(from_iso(_child_text(entry, "lastmod")), now)) is not None:
            modified[absolute] = lastmod
    return SitemapContent(sitemaps=list(sitemaps), modified=modified, kind=SitemapKind.INDEX)


def _plain_title(text: str | None) -> str | None:
    """A news title as text: entities escaped twice ("&amp;amp;") decoded, control characters and runs of
    whitespace gone, at most a headline's length (MAX_TITLE)."""
    if not text:
        return None
    return cut_title(" ".join(_CONTROL.sub("", replace_entities(text)).split())) or None


def _is_robots_txt(body: bytes, url: str) -> bool:
    return urlsplit(url).path.endswith("/robots.txt") or _ROBOTS_LINE.search(body) is not None


def _robots_txt(body: bytes, url: str) -> SitemapContent:
    """The sitemaps a robots.txt names in its Sitemap: lines (any case, anywhere in the file); other lines,
    comments and a URL with no directive are no sitemaps."""
    sitemaps: dict[str, None] = {}
    for line in body.decode("utf-8", errors="replace").splitlines():
        match = _SITEMAP_LINE.match(line.split("#", 1)[0])
        if match:
            absolute = urljoin(url, match.group(1))
            if absolute.startswith(_WEB):
                sitemaps.setdefault(absolute, None)
    if not sitemaps:
        raise ExtractionError("not a sitemap: a robots.txt with no Sitemap: lines")
    return SitemapContent(sitemaps=list(sitemaps), kind=SitemapKind.ROBOTS)


def _plain_text(body: bytes, source: str) -> SitemapContent:
    lines = body.decode("utf-8", errors="replace").split()
    urls = [line for line in lines if line.startswith(_WEB)]
    if not urls or len(urls) < len(lines) / 2:
        raise ExtractionError("not a sitemap: neither XML nor a list of URLs")
    links = {canonical_url(u): None for u in urls}
    return SitemapContent(links=[Link(url=u, source=source) for u in links], kind=SitemapKind.PLAIN)
