"""News sitemaps, plain sitemaps and sitemap indexes (gzip too), read with a parser that fetches nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin

from lxml import etree

from crawler.extract import Link
from crawler.listing import from_iso, maybe_gunzip
from crawler.spiders.feed import links_from_feed
from crawler.urls import canonical_url
from newsmon.errors import ExtractionError


@dataclass(frozen=True, slots=True)
class SitemapContent:
    """What one sitemap file lists: article links (a urlset) or further sitemaps (an index)."""

    links: list[Link] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    modified: dict[str, datetime] = field(default_factory=dict)  # an index's <lastmod> of its sitemaps, if given


def _parser() -> etree.XMLParser:
    # No entity expansion, no network, no DTD loading: a sitemap is untrusted input.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, recover=True, remove_comments=True, huge_tree=False
    )


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].split(":")[-1].lower() if isinstance(tag, str) else ""


def _child_text(element: etree._Element, name: str) -> str | None:
    for child in element.iter():
        if _local(child.tag) == name and child.text and child.text.strip():
            return child.text.strip()
    return None


def read_sitemap(body: bytes, url: str, source: str, max_bytes: int) -> SitemapContent:
    """Parse a sitemap or sitemap index; a plain-text sitemap (one URL a line) or a feed is read too.

    The news extension's title and publication date are kept (with or without the ``news:`` prefix).

    Raises:
        ExtractionError: the body is empty or is neither a sitemap nor a list of URLs.
    """
    body = maybe_gunzip(body, max_bytes).removeprefix(b"\xef\xbb\xbf").strip()
    if not body:
        raise ExtractionError("empty response where a sitemap was expected")
    if not body.startswith(b"<"):
        return _plain_text(body, url, source)
    try:
        root = etree.fromstring(body, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise ExtractionError(f"not a sitemap: {str(exc).splitlines()[0]}") from exc
    if root is None:
        raise ExtractionError("not a sitemap: no XML elements found")
    kind = _local(root.tag)
    if kind in {"rss", "feed", "rdf"}:
        # The sitemap protocol accepts an RSS 2.0, RSS 1.0 or Atom feed in place of a urlset.
        return SitemapContent(links=links_from_feed(body, url, source, None, max_bytes))
    if kind == "sitemapindex":
        sitemaps, modified = [], {}
        for entry in root:
            if _local(entry.tag) == "sitemap":
                # Some indexes put the bare URL in <sitemap> with no <loc>.
                loc = _child_text(entry, "loc") or (entry.text or "").strip()
                if loc:
                    sitemaps.append(urljoin(url, loc))
                    if (lastmod := from_iso(_child_text(entry, "lastmod"))) is not None:
                        modified[sitemaps[-1]] = lastmod
        return SitemapContent(sitemaps=list(dict.fromkeys(sitemaps)), modified=modified)
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
        if not absolute.startswith(("http://", "https://")):
            continue
        link_url = canonical_url(absolute)
        news = next((child for child in entry if _local(child.tag) == "news"), None)
        title = _child_text(news, "title") if news is not None else None
        published = from_iso(_child_text(entry, "publication_date")) or from_iso(_child_text(entry, "lastmod"))
        links.setdefault(link_url, Link(url=link_url, source=source, title=title, published_at=published))
    return SitemapContent(links=list(links.values()))


def _plain_text(body: bytes, url: str, source: str) -> SitemapContent:
    lines = body.decode("utf-8", errors="replace").split()
    urls = [line for line in lines if line.startswith(("http://", "https://"))]
    if not urls or len(urls) < len(lines) / 2:
        raise ExtractionError("not a sitemap: neither XML nor a list of URLs")
    links = {canonical_url(u): None for u in urls}
    return SitemapContent(links=[Link(url=u, source=source) for u in links])
