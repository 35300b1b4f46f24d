"""Nothing hostile gets through: a loopback outlet with one resource per attack, crawled by the real command.

Every attack is a source of one crawl, beside a normal source on another host. Each ends in a recorded one-line
failure of its source or of a page (or, where nothing is wrong but the input, is read safely), nothing it points
at is fetched or stored, the normal source stores its story, and the crawl's memory stays bounded however far
a bomb would inflate.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest

from bench.procs import tree_rss_kib
from crawler.listing import refuse_xml_entities
from crawler.safety import PrivateNetworkMiddleware
from crawler.workers import default_workers
from newsmon.errors import ExtractionError
from tests.conftest import run_newsmon, write_config
from tests.servers import Outlet, article_page, rss

try:
    import brotli
except ImportError:  # Scrapy 2.19 itself imports brotli or brotlicffi to decode "br"
    try:
        import brotlicffi as brotli
    except ImportError:
        brotli = None
if sys.version_info >= (3, 14):  # Scrapy 2.19 decodes zstd with these
    from compression import zstd
else:
    from backports import zstd

TIMEOUT = 3  # crawl.timeout, seconds
MAX_BYTES = 5_000_000  # crawl.max_bytes
MAX_LINKS = 20  # crawl.max_links
SECRET = "TOP-SECRET-4f1c9a"  # served at /secret: must never be fetched, nor appear anywhere
PASSWD = "root:x:0:0"  # the first line of /etc/passwd
TITLE = "Talks on the exchange of prisoners resume in Geneva"
HUGE_TITLE = "ceasefire " * 100_000  # 1 MB
PARAGRAPH = ("Negotiators met in Geneva on Sunday to discuss the ceasefire and the exchange of prisoners, officials "
             "from both delegations said after six hours of talks behind closed doors in the old city of Geneva.")


def laughs(levels: int) -> str:
    """A billion laughs DOCTYPE: &lolN; is 30 bytes times 10**N."""
    declared = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1))
    return f'<!DOCTYPE rss [<!ENTITY lol0 "lollollollollollollollollollol">{declared}]>'


@cache
def bomb(encoding: str) -> bytes:
    """1 GiB of zeros compressed (about 1 MB for gzip and deflate), built a MiB at a time."""
    if encoding == "br" and brotli is None:
        return b""
    compressor: Any = {"gzip": lambda: zlib.compressobj(9, zlib.DEFLATED, 31), "deflate": lambda: zlib.compressobj(9),
                       "br": lambda: brotli.Compressor(quality=5), "zstd": zstd.ZstdCompressor}[encoding]()
    step, finish = (compressor.process, compressor.finish) if encoding == "br" else (compressor.compress,
                                                                                      compressor.flush)
    return b"".join(step(bytes(1 << 20)) for _ in range(1024)) + finish()


def story(outlet: Outlet, name: str, title: bool = False) -> str:
    """A real article at /<name>/story; without a title of its own, the listing's title is the one stored."""
    paragraphs = [f"From the {name} desk. {PARAGRAPH}", "A second round is planned for next week."]
    page = article_page(TITLE, paragraphs) if title else (
        "<html><body><article>" + "".join(f"<p>{p}</p>" for p in paragraphs) + "</article></body></html>")
    return outlet.add(f"/{name}/story", page)


def feed(outlet: Outlet, name: str, doctype: str = "", title: str = TITLE) -> str:
    """A one-item feed whose prolog carries ``doctype`` on the XML declaration's line (where feedparser leaves
    it to expat) and whose item title may reference its entities."""
    items = rss([{"title": "TITLE", "link": story(outlet, name)}]).replace("TITLE", title)
    body = items.replace("?>", "?>" + doctype, 1)
    return outlet.add(f"/{name}/feed.xml", body, content_type="application/rss+xml")


def sitemap(outlet: Outlet, name: str, doctype: str, title: str) -> str:
    body = (f'<?xml version="1.0"?>{doctype}<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
            f"<url><loc>{story(outlet, name)}</loc><news:news><news:title>{title}</news:title></news:news></url>"
            "</urlset>")
    return outlet.add(f"/{name}/sitemap.xml", body, content_type="application/xml")


def entity(system_id: str) -> str:
    return f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{system_id}">]>'


@dataclass(frozen=True)
class Attack:
    name: str
    kind: str  # the source's kind: feed, sitemap or page
    serve: Callable[[Outlet], str]  # adds the attack's resources; returns the source's URL
    reason: str | None  # what the source's error or one of its problems says; None: read normally


ATTACKS = [
    Attack("feed-laughs", "feed", lambda o: feed(o, "feed-laughs", laughs(9), "&lol9;"),
           r"^refused: the feed declares XML entities that expand"),
    Attack("feed-laughs-300mb", "feed",  # 4 MB read first keeps the expansion under expat's own 100x limit
           lambda o: feed(o, "feed-laughs-300mb", laughs(7) + f"<!-- {'x' * 4_000_000} -->", "&lol7;"),
           r"^refused: the feed declares XML entities that expand"),
    Attack("sitemap-laughs", "sitemap", lambda o: sitemap(o, "sitemap-laughs", laughs(9), "&lol9;"),
           r"^refused: the sitemap declares XML entities that expand"),
    Attack("feed-xxe-file", "feed", lambda o: feed(o, "feed-xxe-file", entity("file:///etc/passwd"), "&xxe;"),
           r"^refused: the feed declares an external XML entity"),
    Attack("feed-xxe-http", "feed", lambda o: feed(o, "feed-xxe-http", entity(o.url("/secret")), "&xxe;"),
           r"^refused: the feed declares an external XML entity"),
    Attack("feed-external-dtd", "feed",  # the RSS 0.91 way: allowed, and never fetched
           lambda o: feed(o, "feed-external-dtd", f'<!DOCTYPE rss SYSTEM "{o.url("/secret")}">'), None),
    Attack("sitemap-xxe-file", "sitemap",
           lambda o: sitemap(o, "sitemap-xxe-file", entity("file:///etc/passwd"), "&xxe;"),
           r"^refused: the sitemap declares an external XML entity"),
    Attack("sitemap-xxe-http", "sitemap", lambda o: sitemap(o, "sitemap-xxe-http", entity(o.url("/secret")),
                                                            "&xxe;"), r"^refused: the sitemap declares an external"),
    Attack("gzip-bomb", "feed", lambda o: o.add("/gzip-bomb.xml", bomb("gzip"), headers={"Content-Encoding": "gzip"}),
           rf"^refused: the body inflates past crawl.max_bytes \({MAX_BYTES} bytes"),
    Attack("deflate-bomb", "feed", lambda o: o.add("/deflate-bomb.xml", bomb("deflate"),
                                                   headers={"Content-Encoding": "deflate"}),
           rf"^refused: the body inflates past crawl.max_bytes \({MAX_BYTES} bytes"),
    Attack("zstd-bomb", "feed", lambda o: o.add("/zstd-bomb.xml", bomb("zstd"), headers={"Content-Encoding": "zstd"}),
           rf"^refused: the body inflates past crawl.max_bytes \({MAX_BYTES} bytes"),
    Attack("gz-file-bomb", "sitemap", lambda o: o.add("/sitemap.xml.gz", bomb("gzip"), content_type="application/gzip"),
           rf"^refused: the gzip body inflates past crawl.max_bytes \({MAX_BYTES} bytes\)"),
    Attack("oversized", "feed", lambda o: o.add("/oversized.xml", b" " * (MAX_BYTES + 1)),
           rf"^refused: the body is larger than crawl.max_bytes \({MAX_BYTES} bytes\)"),
    Attack("redirect-to-file", "feed", lambda o: o.add("/moved.xml", b"", status=302,
                                                       headers={"Location": "file:///etc/passwd"}),
           r"^HTTP 302: a redirect to a file: URL, not followed$"),
    Attack("drip", "feed", lambda o: o.add("/drip.xml", b"<rss>", drip=0.5),
           rf"^timed out: Getting \S+ took longer than {TIMEOUT}.0 seconds"),
    Attack("truncated", "feed", lambda o: o.add("/truncated.xml", rss([])[:100], content_length=100_000),
           r"^the connection closed before the whole body arrived \(truncated\)$"),
    Attack("feed-10000-items", "feed", lambda o: o.add("/huge.xml", rss([
        {"title": f"Item {n}", "link": o.url(f"/item/{n}")} for n in range(10_000)])),
           rf"^lists 10000 links; only the newest {MAX_LINKS} are read"),
    Attack("feed-title-1mb", "feed", lambda o: feed(o, "feed-title-1mb", title=HUGE_TITLE), None),
    Attack("sitemap-title-1mb", "sitemap", lambda o: sitemap(o, "sitemap-title-1mb", "", HUGE_TITLE), None),
    Attack("page-title-1mb", "feed", lambda o: o.add("/page-title-1mb/feed.xml", rss([
        {"title": "Huge", "link": o.add("/page-title-1mb/story", article_page(HUGE_TITLE, [PARAGRAPH]))}])), None),
    Attack("feed-js-data-links", "feed", lambda o: o.add("/links.xml", rss([
        {"title": "Click", "link": "javascript:fetch('/secret')"},
        {"title": "Inline", "link": "data:text/html;base64,PGgxPkhpPC9oMT4="},
        {"title": "Real", "link": story(o, "feed-js-data-links", title=True)}])),
           r"^2 item links are not http or https URLs \(data, javascript\); not followed$"),
    Attack("page-js-data-links", "page", lambda o: o.add("/world/", (
        "<html><body><a href=\"javascript:fetch('/secret')\">Ministers say the ceasefire talks will resume</a>"
        '<a href="data:text/html;base64,PGgxPkhpPC9oMT4=">Prisoner exchange agreed after long night of talks</a>'
        f'<a href="{story(o, "page-js-data-links", title=True)}">{TITLE}</a></body></html>')),
           None),  # javascript: links are everywhere on real section pages: skipped, not a failure
    Attack("br-bomb", "feed", lambda o: o.add("/br-bomb.xml", bomb("br"), headers={"Content-Encoding": "br"}),
           rf"^refused: the body inflates past crawl.max_bytes \({MAX_BYTES} bytes"),
]
NO_BROTLI = pytest.mark.skipif(brotli is None, reason="neither brotli nor brotlicffi is installed: no br bomb built")


@dataclass
class Crawl:
    rows: dict[str, dict[str, Any]]
    stdout: str
    stored: list[tuple[str, str, str]]  # url, title, text of every story
    hostile: Outlet
    peak_tree_kib: int  # the crawl's process tree, resident memory summed, at its highest sample
    peak_crawl_kib: int  # the crawl process's own high-water mark (VmHWM): where responses are decoded


def _children(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return children


def _high_water_kib(pid: int) -> int:
    try:
        return next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                    if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return 0


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawl]:
    tmp = tmp_path_factory.mktemp("hostile")
    with Outlet("127.0.0.1") as hostile, Outlet("127.0.0.2") as normal:
        hostile.add("/secret", SECRET, content_type="text/plain")
        sources = [{"name": attack.name, attack.kind: attack.serve(hostile)} for attack in ATTACKS]
        normal_feed = normal.add("/feed.xml", rss([{"title": TITLE, "link": story(normal, "normal", title=True)}]))
        sources.append({"name": "normal", "feed": normal_feed})
        config = write_config(tmp / "config.yaml", f"sqlite:///{tmp / 'n.db'}", sources,
                              crawl={"timeout": TIMEOUT, "max_bytes": MAX_BYTES, "max_links": MAX_LINKS})
        peaks = {"tree": 0, "crawl": 0}
        done = threading.Event()
        earlier = set(_children(os.getpid()))  # an extraction pool's forkserver left by another test, say

        def sample() -> None:  # every 50 ms, the process tree of this process's new child: the crawl
            while not done.wait(0.05):
                for child in set(_children(os.getpid())) - earlier:
                    peaks["tree"] = max(peaks["tree"], tree_rss_kib(child))
                    peaks["crawl"] = max(peaks["crawl"], _high_water_kib(child))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            result = run_newsmon("--config", str(config), "crawl", "--format", "json")
        finally:
            done.set()
            sampler.join()
        assert result.returncode == 0, result.stderr
        with closing(sqlite3.connect(tmp / "n.db")) as db:
            stored = db.execute("SELECT url, title, text FROM stories").fetchall()
        rows = {row["source"]: row for row in json.loads(result.stdout)["sources"]}
        yield Crawl(rows, result.stdout, stored, hostile, peaks["tree"], peaks["crawl"])


def _reasons(row: dict[str, Any]) -> list[str]:
    return ([row["error"]] if row["error"] else []) + [problem["reason"] for problem in row["problems"]]


@pytest.mark.parametrize("attack", [
    pytest.param(attack, id=attack.name, marks=[NO_BROTLI] if attack.name == "br-bomb" else []) for attack in ATTACKS])
def test_each_attack_ends_in_a_one_line_failure_of_its_source_or_page(crawl: Crawl, attack: Attack) -> None:
    row = crawl.rows[attack.name]
    reasons = _reasons(row)
    assert all("\n" not in reason and len(reason) <= 300 for reason in reasons), reasons
    if attack.reason is None:
        assert (row["status"], row["new"], reasons) == ("ok", 1, [])
    else:
        assert row["status"] in ("failed", "partial"), row
        assert any(re.search(attack.reason, reason) for reason in reasons), reasons


def test_the_normal_source_in_the_same_crawl_stores_its_story(crawl: Crawl) -> None:
    assert crawl.rows["normal"]["status"] == "ok" and crawl.rows["normal"]["new"] == 1
    assert any(url.startswith("http://127.0.0.2:") and title == TITLE for url, title, _ in crawl.stored)


def test_no_entity_is_resolved_nor_secret_fetched_nor_anything_hostile_stored(crawl: Crawl) -> None:
    assert crawl.hostile.hits["/secret"] == 0
    assert not [path for path, _ in crawl.hostile.requests if "javascript" in path or "data:" in path]
    leaks = (SECRET, PASSWD, "lollol", "&lol", "&xxe")
    assert not [word for word in leaks for _, title, text in crawl.stored if word in title + text]
    assert not [word for word in leaks if word in crawl.stdout]
    # A story from an attack's listing got through only where the attack was harmless by design (and from the
    # one http item beside the javascript: and data: ones).
    assert {url.split("/")[3] for url, _, _ in crawl.stored if url.startswith("http://127.0.0.1:")} == {
        attack.name for attack in ATTACKS if attack.reason is None} | {"feed-js-data-links"}


@pytest.mark.parametrize("name", ["feed-title-1mb", "sitemap-title-1mb", "page-title-1mb"])
def test_a_megabyte_title_is_cut_to_a_thousand_characters(crawl: Crawl, name: str) -> None:
    (title,) = [title for url, title, _ in crawl.stored if f"/{name}/" in url]
    assert title.startswith("ceasefire ceasefire") and len(title) == 1000 and title.endswith("...")
    assert len(crawl.stdout) < 100_000


def test_an_endless_drip_ends_at_the_timeout(crawl: Crawl) -> None:
    # The body never ends: each of the three tries (Scrapy's two retries) was given up at crawl.timeout (the
    # reason says so), and nothing more was asked for. The crawl itself ended, or there would be no rows.
    assert crawl.hostile.hits["/drip.xml"] == 3
    assert crawl.rows["drip"]["status"] == "failed" and "took longer than 3.0 seconds" in crawl.rows["drip"]["error"]


def test_no_bomb_is_inflated_in_memory(crawl: Crawl) -> None:
    print(f"peak memory: crawl process {crawl.peak_crawl_kib // 1024} MiB (VmHWM), "
          f"its process tree {crawl.peak_tree_kib // 1024} MiB (RSS summed)")
    # A bomb inflated would be 1 GiB in the process that decodes responses, the crawl process, and in the tree.
    # What the crawl holds besides is far below: 200 to 400 MiB in the crawl process, 600 MiB or so in the tree
    # with two extraction workers (more on a bigger machine, or on a busy one that keeps pages waiting).
    assert 0 < crawl.peak_crawl_kib < 1024 * 1024
    assert 0 < crawl.peak_tree_kib < (1024 + 150 * max(0, default_workers() - 2)) * 1024


@NO_BROTLI
def test_every_encoding_scrapy_asks_for_has_its_bomb(crawl: Crawl) -> None:
    (accepted,) = {headers.get("Accept-Encoding") for path, headers in crawl.hostile.requests if path == "/drip.xml"}
    assert accepted == "gzip, deflate, br, zstd"
    assert {f"{encoding}-bomb" for encoding in accepted.split(", ")} <= {attack.name for attack in ATTACKS}


BOMB = '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'


@pytest.mark.parametrize(("body", "refused"), [
    (f'<?xml version="1.0"?>\n{BOMB}\n<r>&b;</r>'.encode(), "expand"),  # on lines of its own
    (f'<?xml version="1.0" encoding="utf-16"?>{BOMB}<r/>'.encode("utf-16"), "expand"),
    (f'<?xml version="1.0" encoding="shift_jis"?>{BOMB}<r/>'.encode(), "expand"),  # an encoding expat lacks
    (f'junk <?xml version="1.0"?>{BOMB}<r/>'.encode(), "expand"),  # a prolog expat cannot read: the text decides
    (b'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]><r/>', "external"),
    (b'<!DOCTYPE r [<!ENTITY e SYSTEM "x.png" NDATA png>]><r/>', "external"),
    (b'<!DOCTYPE r [<!ENTITY nbsp "&#160;"><!ENTITY mdash "&#x2014;"><!ENTITY co "Acme">]><r>&nbsp;</r>', None),
    (b'junk <!DOCTYPE r [<!ENTITY nbsp "&#160;"><!ENTITY co \'Acme\'>]><r/>', None),
    (b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://x.example/rss-0.91.dtd"><r/>', None),
    (b'<r><![CDATA[How XXE works: <!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>]]></r>', None),
], ids=["own-lines", "utf-16", "shift-jis", "junk-first", "parameter", "unparsed", "short-ones",
                            "junk-short-ones", "rss-0.91", "cdata"])
def test_only_short_plain_entities_may_be_declared(body: bytes, refused: str | None) -> None:
    if refused is None:
        refuse_xml_entities(body, "feed")
    else:
        with pytest.raises(ExtractionError, match=rf"^refused: the feed declares .*{refused}"):
            refuse_xml_entities(body, "feed")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "data:text/html;base64,PGgxPkhpPC9oMT4=", "ftp://127.0.0.1/x"])
def test_allowing_private_networks_never_allows_other_schemes(url: str) -> None:
    with pytest.raises(IgnoreRequest, match="^refused: only http and https URLs are fetched"):
        PrivateNetworkMiddleware(allow_private_networks=True).process_request(Request(url))
