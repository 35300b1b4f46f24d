"""Refuse requests that could reach the machine newsmon runs on or its private network.

Users list URLs they do not control, and a feed can link anywhere. Unless ``crawl.allow_private_networks`` is
true, loopback, private, link-local and other non-public addresses are refused, as are schemes other than
http and https.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def refusal_reason(url: str) -> str | None:
    """Why ``url`` must not be fetched from the public side, or None when it may be."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"refused: only http and https URLs are fetched, not {parts.scheme or 'no scheme'}"
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "refused: the URL has no host"
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return f"refused: {host} is this machine (set crawl.allow_private_networks: true to allow)"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if not address.is_global:
        return f"refused: {host} is not a public address (set crawl.allow_private_networks: true to allow)"
    return None


class PrivateNetworkMiddleware:
    """Downloader middleware: drops a request (and any redirect) aimed at a non-public address."""

    def __init__(self, allow_private_networks: bool) -> None:
        self.allow_private_networks = allow_private_networks

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateNetworkMiddleware:
        return cls(crawler.settings.getbool("NEWSMON_ALLOW_PRIVATE_NETWORKS"))

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if self.allow_private_networks:
            return
        reason = refusal_reason(request.url)
        if reason:
            raise IgnoreRequest(reason)
