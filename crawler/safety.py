"""Refuse requests that could reach the machine newsmon runs on or its private network.

Users list URLs they do not control, and a feed can link anywhere. Schemes other than http and https (file:,
data:, ftp:) are always refused. Unless ``crawl.allow_private_networks`` is true, loopback, private, link-local
and other non-public addresses are refused too (but for the hosts of ``crawl.private_hosts``), twice: by the URL
(``PrivateNetworkMiddleware``: address literals, local names, every redirect), and by the address a name
resolves to (``PublicOnlyResolver``): the connection is made to the very address that was checked, so a name
that resolves to 127.0.0.1, or that rebinds to it after a first public answer, is refused too.

A refusal is final: it is not retried (``RetryUnlessRefusedMiddleware``), and a name refused once is refused
for the rest of the crawl without being looked up again, so a feed with a hundred links to such a name costs
one lookup and a one-line problem per link.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Sequence
from typing import Self
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.http import Response
from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.base import ReactorBase
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

logger = logging.getLogger(__name__)

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def scheme_refusal(url: str) -> str | None:
    """Why ``url`` is not fetched at all (it is not http or https), or None when it may be."""
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        return f"refused: only http and https URLs are fetched, not {scheme or 'no scheme'}"
    return None


def host_of(url: str) -> str:
    """The URL's host as it is compared: lower-case, without a trailing dot ("" when it has none)."""
    return (urlsplit(url).hostname or "").rstrip(".").lower()


def refusal_reason(url: str) -> str | None:
    """Why ``url`` must not be fetched from the public side, or None when it may be."""
    if reason := scheme_refusal(url):
        return reason
    host = host_of(url)
    if not host:
        return "refused: the URL has no host"
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return f"refused: {host} is this machine (set crawl.allow_private_networks: true to allow)"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        # A name: its address is checked when it is resolved (PublicOnlyResolver), and a refusal is kept.
        return refused_name_reason(host)
    if not _is_public(host):
        return f"refused: {host} is not a public address (set crawl.allow_private_networks: true to allow)"
    return None


class Refused(IgnoreRequest):
    """A request newsmon does not make (see the module's docstring); its message is the one-line reason."""


class PrivateAddressRefused(DNSLookupError):
    """A host name resolved to a non-public address. A DNSLookupError, so that Twisted takes it for the failed
    lookup it is instead of logging a CRITICAL traceback for every request to the name."""


# Why each refused name was refused: Twisted turns the resolver's error into a bare "DNS lookup failed" on its
# way to the request, so the crawl looks the reason up here by host name (see refused_name_reason). One crawl
# per process: a name refused once stays refused for the crawl, which is also what a rebinding name deserves.
_REFUSED_NAMES: dict[str, str] = {}


def refused_name_reason(host: str) -> str | None:
    return _REFUSED_NAMES.get(host.rstrip(".").lower())


def _is_public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global


def _private_hosts(crawler: Crawler) -> frozenset[str]:
    return frozenset(host.rstrip(".").lower() for host in crawler.settings.getlist("NEWSMON_PRIVATE_HOSTS"))


class PublicOnlyResolver(CachingThreadedResolver):
    """Scrapy's DNS resolver, failing every name that resolves to a non-public address (but the names of
    ``crawl.private_hosts``). A name refused once is refused again without a lookup."""

    private_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: ReactorBase) -> Self:
        resolver = super().from_crawler(crawler, reactor)
        resolver.private_hosts = _private_hosts(crawler)
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:  # noqa: N802 - Twisted's name
        if name.rstrip(".").lower() in self.private_hosts:
            return super().getHostByName(name, timeout)
        if reason := refused_name_reason(name):
            return defer.fail(PrivateAddressRefused(reason))
        resolved = super().getHostByName(name, timeout)
        resolved.addCallback(self._public_only, name)
        return resolved

    @staticmethod
    def _public_only(address: str, name: str) -> str:
        if not _is_public(address):
            reason = (f"refused: {name} resolves to {address}, not a public address "
                      "(set crawl.allow_private_networks: true to allow)")
            _REFUSED_NAMES[name.rstrip(".").lower()] = reason
            logger.debug("looked up %s: %s is not a public address; refused for the rest of the crawl", name, address)
            raise PrivateAddressRefused(reason)
        return address


class PrivateNetworkMiddleware:
    """Downloader middleware: drops a request (and any redirect) that is not http or https, or is aimed at a
    non-public address (or a name refused earlier in the crawl) unless private networks are allowed, or its
    host is one of ``private_hosts``."""

    def __init__(self, allow_private_networks: bool, private_hosts: Iterable[str] = ()) -> None:
        self.allow_private_networks = allow_private_networks
        self.private_hosts = frozenset(private_hosts)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateNetworkMiddleware:
        return cls(crawler.settings.getbool("NEWSMON_ALLOW_PRIVATE_NETWORKS"), _private_hosts(crawler))

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        # Allowing private networks allows addresses, never file: or data: (Scrapy would read a local file).
        if self.allow_private_networks or host_of(request.url) in self.private_hosts:
            reason = scheme_refusal(request.url)
        else:
            reason = refusal_reason(request.url)
        if reason:
            raise Refused(reason)


class RetryUnlessRefusedMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware, but a request whose host name was refused (PublicOnlyResolver) fails at once
    with the refusal: asking again would get the same answer."""

    def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> Request | Response | None:
        if isinstance(exception, CannotResolveHostError) and (reason := refused_name_reason(host_of(request.url))):
            raise Refused(reason) from exception
        return super().process_exception(request, exception)
