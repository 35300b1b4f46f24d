"""Refuse requests that could reach the machine newsmon runs on or its private network.

Users list URLs they do not control, and a feed can link anywhere. Schemes other than http and https (file:,
data:, ftp:) are always refused. Unless ``crawl.allow_private_networks`` is true, loopback, private, link-local
and other non-public addresses are refused too, twice: by the URL (``PrivateNetworkMiddleware``: address
literals, local names, every redirect), and by the address a name resolves to (``PublicOnlyResolver``): the
connection is made to the very address that was checked, so a name that resolves to 127.0.0.1, or that
rebinds to it after a first public answer, is refused too.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.defer import Deferred

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def scheme_refusal(url: str) -> str | None:
    """Why ``url`` is not fetched at all (it is not http or https), or None when it may be."""
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        return f"refused: only http and https URLs are fetched, not {scheme or 'no scheme'}"
    return None


def refusal_reason(url: str) -> str | None:
    """Why ``url`` must not be fetched from the public side, or None when it may be."""
    if reason := scheme_refusal(url):
        return reason
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "refused: the URL has no host"
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return f"refused: {host} is this machine (set crawl.allow_private_networks: true to allow)"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None  # a name: its address is checked when it is resolved (PublicOnlyResolver)
    if not _is_public(host):
        return f"refused: {host} is not a public address (set crawl.allow_private_networks: true to allow)"
    return None


class PrivateAddressRefused(Exception):
    """A host name resolved to a non-public address."""


# Why each refused name was refused: Twisted turns the resolver's error into a bare "DNS lookup failed" on its
# way to the request, so the crawl looks the reason up here by host name (see refused_name_reason).
_REFUSED_NAMES: dict[str, str] = {}


def refused_name_reason(host: str) -> str | None:
    return _REFUSED_NAMES.get(host.lower())


def _is_public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global


class PublicOnlyResolver(CachingThreadedResolver):
    """Scrapy's DNS resolver, failing every name that resolves to a non-public address."""

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:  # noqa: N802 - Twisted's name
        resolved = super().getHostByName(name, timeout)
        resolved.addCallback(self._public_only, name)
        return resolved

    @staticmethod
    def _public_only(address: str, name: str) -> str:
        if not _is_public(address):
            reason = (f"refused: {name} resolves to {address}, not a public address "
                      "(set crawl.allow_private_networks: true to allow)")
            _REFUSED_NAMES[name.lower()] = reason
            raise PrivateAddressRefused(reason)
        return address


class PrivateNetworkMiddleware:
    """Downloader middleware: drops a request (and any redirect) that is not http or https, or is aimed at a
    non-public address unless private networks are allowed."""

    def __init__(self, allow_private_networks: bool) -> None:
        self.allow_private_networks = allow_private_networks

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateNetworkMiddleware:
        return cls(crawler.settings.getbool("NEWSMON_ALLOW_PRIVATE_NETWORKS"))

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        # Allowing private networks allows addresses, never file: or data: (Scrapy would read a local file).
        reason = scheme_refusal(request.url) if self.allow_private_networks else refusal_reason(request.url)
        if reason:
            raise IgnoreRequest(reason)
