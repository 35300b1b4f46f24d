"""A name that resolves to a private address is refused at connect time, unless private networks are allowed.

The machine's own host name resolves to a loopback address on most systems (/etc/hosts): a real name, a real
resolution, no override. Where it resolves to a public address the test skips and says so.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from crawler.safety import PrivateAddressRefused, PublicOnlyResolver
from tests.conftest import run_newsmon, write_config
from tests.servers import Outlet, rss


def _local_name() -> str:
    name = socket.gethostname()
    try:
        address = socket.gethostbyname(name)
    except OSError:
        pytest.skip(f"this machine's name {name!r} does not resolve")
    if not address.startswith("127."):
        pytest.skip(f"this machine's name {name!r} resolves to {address}, not to loopback")
    return name


def _crawl(tmp_path: Path, feed_url: str, allow: bool) -> dict[str, object]:
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'n.db'}",
                          [{"name": "named", "feed": feed_url}], crawl={"allow_private_networks": allow})
    result = run_newsmon("--config", str(config), "crawl", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "deprecated" not in result.stderr.lower()  # the resolver is set the way this Scrapy wants it
    return json.loads(result.stdout)["sources"][0]


def test_a_name_resolving_to_loopback_is_refused_and_allowed_only_when_asked(tmp_path: Path, outlet: Outlet) -> None:
    name = _local_name()
    outlet.add("/feed.xml", rss([]), content_type="application/rss+xml")
    feed_url = outlet.url("/feed.xml").replace("127.0.0.1", name)
    refused = _crawl(tmp_path, feed_url, allow=False)
    assert refused["status"] == "failed"
    assert refused["error"] == (f"refused: {name} resolves to 127.0.0.1, not a public address "
                                "(set crawl.allow_private_networks: true to allow)")
    assert outlet.hits["/feed.xml"] == 0  # never connected (and not retried)
    allowed = _crawl(tmp_path, feed_url, allow=True)
    assert allowed["status"] == "ok" and outlet.hits["/feed.xml"] == 1


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "fd00::1", "::ffff:10.0.0.1",
                                     "0.0.0.0", "100.64.0.1"])
def test_private_addresses_fail_the_resolution(address: str) -> None:
    with pytest.raises(PrivateAddressRefused, match=f"resolves to {address}"):
        PublicOnlyResolver._public_only(address, "news.example")


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_public_addresses_pass(address: str) -> None:
    assert PublicOnlyResolver._public_only(address, "news.example") == address
