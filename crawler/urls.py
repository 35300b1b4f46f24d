"""Canonical URLs: the key under which a story is known, so that a link seen twice is fetched once."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from courlan import normalize_url


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no default port, no fragment, no tracking parameters (utm_*, fbclid ...).

    Query parameters that select content (``?id=123``) are kept, in a stable order.
    """
    url = url.strip()
    try:
        normalized = normalize_url(url)
    except ValueError:
        normalized = url
    parts = urlsplit(normalized)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
    if parts.port and (parts.scheme, parts.port) not in {("http", 80), ("https", 443)}:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme.lower(), netloc.lower(), parts.path or "/", parts.query, ""))
