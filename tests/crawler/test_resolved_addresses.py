"""A name that resolves to a private address is refused at connect time, unless private networks are allowed.

The machine's own host name resolves to a loopback address on most systems (/etc/hosts): a real name, a real
resolution, no override. Where it resolves to a public address the test skips and says so.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from crawler.safety import PrivateAddressRefused, PublicOnlyResolver
from tests.conftest import crawl, write_config
from tests.servers import Outlet, article_page, filler, rss


def _local_name() -> str:
    name = socket.gethostname()
    try:
        address = socket.gethostbyname(name)
    except OSError:
        pytest.skip(f"this machine's name {name!r} does not resolve")
    if not address.startswith("127."):
        pytest.skip(f"this machine's name {name!r} resolves to {address}, not to loopback")
    return name


def _crawl(tmp_path: Path, feed_url: str, *options: str, **settings: object) -> tuple[dict[str, Any], str]:
    """The crawl's row of its one source, and what it wrote on stderr."""
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'n.db'}",
                          [{"name": "named", "feed": feed_url}], crawl=settings)
    crawled = crawl(config, options=options)
    assert "deprecated" not in crawled.stderr.lower()  # the resolver is set the way this Scrapy wants it
    return crawled.only, crawled.stderr


def _refusal(name: str) -> str:
    return f"refused: {name} resolves to 127.0.0.1, not a public address (set crawl.allow_private_networks: true to allow)"


def assert_one_line_per_refused_url(stderr: str, urls: list[str]) -> None:
    assert "Traceback" not in stderr and "CRITICAL" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == len(urls), stderr
    for url in urls:
        assert len([line for line in lines if f" {url} was not fetched: refused: " in line]) == 1, stderr


def test_a_name_resolving_to_loopback_is_refused_and_allowed_only_when_asked(tmp_path: Path, outlet: Outlet) -> None:
    name = _local_name()
    outlet.add("/feed.xml", rss([]), content_type="application/rss+xml")
    feed_url = outlet.url("/feed.xml").replace("127.0.0.1", name)
    refused, stderr = _crawl(tmp_path, feed_url, allow_private_networks=False)
    assert refused["status"] == "failed"
    assert refused["error"] == _refusal(name)
    assert outlet.hits["/feed.xml"] == 0  # never connected
    assert_one_line_per_refused_url(stderr, [feed_url])
    allowed, _ = _crawl(tmp_path, feed_url, allow_private_networks=True)
    assert allowed["status"] == "ok" and outlet.hits["/feed.xml"] == 1


def test_links_to_a_refused_name_cost_one_lookup_and_one_line_each_and_are_not_retried(
    tmp_path: Path, outlet: Outlet
) -> None:
    name = _local_name()
    fine = outlet.add("/world/fine", article_page("Talks resume in Geneva", [filler("fine", 120)]))
    inside = [outlet.add(f"/inside/{n}", article_page(f"Inside {n}", [filler(n, 120)])).replace("127.0.0.1", name)
              for n in range(3)]
    feed_url = outlet.add("/feed.xml", rss([{"title": "Fine", "link": fine}] + [
        {"title": f"Inside {n}", "link": url} for n, url in enumerate(inside)]), content_type="application/rss+xml")
    # The outlet itself is allowed by its address; the same server under the machine's name is not.
    settings = {"allow_private_networks": False, "private_hosts": ["127.0.0.1"], "obey_robots_txt": True}
    row, stderr = _crawl(tmp_path, feed_url, **settings)
    assert (row["status"], row["new"], row["failed"]) == ("partial", 1, 3)
    assert sorted(row["problems"], key=lambda p: p["url"]) == [{"url": url, "reason": _refusal(name)} for url in inside]
    assert_one_line_per_refused_url(stderr, inside)
    assert [path for path in outlet.hits if path.startswith("/inside/")] == []  # never connected
    # At -vv, the resolver's and the retries' own lines show that the name was looked up once and nothing retried.
    _, debug = _crawl(tmp_path, feed_url, "-vv", **settings)
    assert len([line for line in debug.splitlines() if f"looked up {name}: 127.0.0.1 is not a public" in line]) == 1
    assert "Retrying" not in debug and "Gave up retrying" not in debug


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "fd00::1", "::ffff:10.0.0.1",
                                     "0.0.0.0", "100.64.0.1"])
def test_private_addresses_fail_the_resolution(address: str) -> None:
    with pytest.raises(PrivateAddressRefused, match=f"resolves to {address}"):
        PublicOnlyResolver._public_only(address, "news.example")


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_public_addresses_pass(address: str) -> None:
    assert PublicOnlyResolver._public_only(address, "news.example") == address
