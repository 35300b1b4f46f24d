"""Canonical URLs and the refusal of non-public addresses."""

from __future__ import annotations

import pytest

from crawler.safety import refusal_reason
from crawler.urls import canonical_url


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://WWW.Example.COM:443/World/Story?utm_source=rss&utm_medium=feed#comments",
         "https://www.example.com/World/Story"),
        ("https://news.example.org/a?id=42&fbclid=abc&gclid=x", "https://news.example.org/a?id=42"),
        ("https://news.example.org/a?b=2&a=1", "https://news.example.org/a?a=1&b=2"),
        ("http://example.org", "http://example.org/"),
        ("http://example.org:8080/x#top", "http://example.org:8080/x"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("  https://example.org/x  ", "https://example.org/x"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical
    assert canonical_url(canonical) == canonical  # idempotent


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed",
        "http://127.0.0.2:8080/",
        "http://localhost/",
        "http://api.localhost/",
        "http://10.0.0.5/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "ftp://example.org/feed",
        "file:///etc/passwd",
    ],
)
def test_non_public_addresses_and_schemes_are_refused(url: str) -> None:
    reason = refusal_reason(url)
    assert reason is not None and reason.startswith("refused:")


@pytest.mark.parametrize("url", ["https://feeds.bbci.co.uk/news/world/rss.xml", "http://93.184.216.34/", "http://[2606:4700::1111]/"])
def test_public_addresses_pass(url: str) -> None:
    assert refusal_reason(url) is None
