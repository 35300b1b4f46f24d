"""A loopback "feed farm": thousands of generated RSS outlets, for benchmarking the polling service.

``FeedFarm(feeds=2000, items=20, seed=1)`` serves ``/feed/N.xml`` (RSS 2.0, 8-25 KB, with ETag and
Last-Modified, answering conditional requests with 304) and ``/article/N/M.html`` (a news page of 400-900
generated words that trafilatura extracts as an article) on 127.0.0.1, port 0; ``/robots.txt`` is a 404.
Content is deterministic from the seed; dates follow the clock (``epoch``, default now). ``advance()``
publishes new items in a seeded random tenth of the feeds, as the world does between two polling rounds.

The server (asyncio, HTTP/1.1 keep-alive) runs in its own process: this file run with ``--serve`` (it needs
only the standard library, and a multiprocessing "spawn" child would re-run the benchmark's ``__main__``).
CPU accounting: ``RUSAGE_CHILDREN`` counts only children that ended and were waited for, and the farm is
waited for in ``close()``, so ``RUSAGE_CHILDREN`` deltas taken inside the ``with`` block never include it.
Over a window that spans ``close()``, subtract ``stats()["cpu_seconds_total"]`` read just before it.
Control requests (``/_farm/...`` on the same server) are not counted in ``stats()``. Self-check::

    python bench/feedfarm.py
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import resource
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from html import escape
from types import TracebackType
from typing import Any, Self

# Word lists read best as prose, hence str.split().
_WORDS = """the a of to and in on for with that by from as at after before over under between against about government
officials talks ceasefire agreement minister president delegation forces troops border region city capital council
parliament vote election court ruling sanctions economy prices energy gas oil grain exports markets bank budget
deficit inflation growth workers union strike protest police security army drone attack missile defence aid
humanitarian refugees civilians hospital school power grid water winter negotiators proposal plan framework
guarantees withdrawal prisoners exchange monitors observers mission report statement spokesman spokeswoman analysts
diplomats envoy summit meeting week month year day night morning evening said says told added warned insisted
denied confirmed announced expected planned rejected agreed signed proposed demanded called urged reported new old
first last several many few more most other local national regional international western eastern northern southern
major minor senior junior former official public private military civilian political economic legal final initial
possible likely unclear would could should might will may must not also still only already again later soon
recently yesterday today because while although since if when where which who whose despite amid during within
across toward people country countries leaders residents families companies farmers voters lawmakers judges
soldiers negotiations dispute crisis conflict war peace deal issue question position pressure support
concern""".split()  # noqa: SIM905 (prose)
_NAMES = """Kyiv Moscow Washington Brussels Geneva Ankara Warsaw Berlin Paris London Beijing Istanbul Odesa Kharkiv
Zaporizhzhia Crimea Donetsk Vienna Riyadh Doha Minsk Tbilisi Budapest Rome Madrid Tokyo Delhi Zelensky Putin Lavrov
Sybiha Erdogan Macron Scholz Starmer Tusk Guterres Witkoff Rubio NATO Kremlin EU UN""".split()  # noqa: SIM905 (prose)
_AUTHORS = ("Anna Kovalenko", "James Miller", "Olena Shevchenko", "Mark Ellis", "Sofia Rossi", "Daniel Weber")
_SECTIONS = ("World", "Europe", "Politics", "Business", "Security", "Analysis")
_REASONS = {200: "OK", 304: "Not Modified", 404: "Not Found", 405: "Method Not Allowed"}
_Response = tuple[int, list[tuple[str, str]], bytes, str]  # status, headers, body, kind
_FEED = re.compile(r"/feed/(\d+)\.xml")
_ARTICLE = re.compile(r"/article/(\d+)/(\d+)\.html")


def _sentence(rng: random.Random, shortest: int = 8, longest: int = 24) -> str:
    words = rng.choices(_WORDS, k=rng.randint(shortest, longest))
    if rng.random() < 0.6:  # news copy names people and places
        words[rng.randrange(len(words))] = rng.choice(_NAMES)
    if len(words) > 12 and rng.random() < 0.5:
        words[rng.randrange(3, len(words) - 3)] += ","
    return words[0][:1].upper() + " ".join(words)[1:] + ("?" if rng.random() < 0.03 else ".")


def _paragraph(rng: random.Random, words: int) -> str:
    sentences: list[str] = []
    while words > 0:
        sentences.append(_sentence(rng))
        words -= sentences[-1].count(" ") + 1
    return " ".join(sentences)


def _story(seed: int, n: int, m: int) -> tuple[random.Random, str, str]:
    """The title and lead of article (n, m), and its generator positioned for the rest of the body.

    Seeding with a string hashes it with sha512, so the text is the same in every process and run.
    """
    rng = random.Random(f"{seed}/{n}/{m}")
    title = _sentence(rng, 6, 13).rstrip(".?")
    return rng, title, _paragraph(rng, rng.randint(55, 90))


def _http_date(ts: float) -> str:
    return formatdate(ts, usegmt=True)


@dataclass(slots=True)
class _Feed:
    n: int
    site: str
    section: str
    richness: float  # 0..1: how many optional elements (author, categories, media) items carry
    teaser: int  # usual length of its descriptions: with richness, what makes feeds 8 or 25 KB
    items: list[int] = field(default_factory=list)  # article numbers listed, newest first
    times: dict[int, int] = field(default_factory=dict)  # every article ever listed -> published (epoch s)
    rendered: dict[int, tuple[str, str]] = field(default_factory=dict)  # listed article -> (title, <item>)
    last_modified: int = 0
    etag: str = ""
    body: bytes = b""


class _Farm:
    """The server side: feed state, page generation and the HTTP loop."""

    def __init__(self, feeds: int, items: int, seed: int, epoch: float, base: str, max_age: int | None) -> None:
        self.items, self.seed, self.base, self.advances = items, seed, base, 0
        self.cache_control = f"max-age={max_age}" if max_age is not None else "no-cache"
        self.counts: Counter[str] = Counter()
        self.feeds: list[_Feed] = []
        for n in range(feeds):
            rng = random.Random(f"{seed}/feed/{n}")
            site = f"The {rng.choice(_NAMES[:20])} {rng.choice(('Herald', 'Post', 'Times', 'Monitor', 'Daily'))}"
            feed = _Feed(n, site, rng.choice(_SECTIONS), rng.random(), rng.randint(200, 400))
            gap, ts = rng.uniform(600, 8 * 3600), epoch - rng.uniform(0, 3600)  # outlets publish at their own pace
            for m in range(items):
                feed.times[items - 1 - m] = int(ts)
                ts -= rng.expovariate(1 / gap) + 1
            self._publish(feed, list(range(items)), feed.times[items - 1])
            self.feeds.append(feed)
        self.cpu_at_reset = self._cpu()  # stats count serving, not building

    @staticmethod
    def _cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def _publish(self, feed: _Feed, new: list[int], newest: int) -> None:
        """List the articles ``new`` (oldest first) at the top of the feed and render it again."""
        feed.items[:0] = reversed(new)
        for m in feed.items[self.items:]:
            feed.rendered.pop(m, None)
        del feed.items[self.items:]
        for m in new:
            feed.rendered[m] = self._item(feed, m)
        feed.last_modified, feed.etag = newest, f'"{self.seed}-{feed.n}-{feed.items[0]}"'
        feed.body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">\n<channel>\n'
            f"<title>{escape(feed.site)} - {feed.section}</title>\n<link>{self.base}/</link>\n"
            f'<atom:link href="{self.base}/feed/{feed.n}.xml" rel="self" type="application/rss+xml"/>\n'
            f"<description>Latest {feed.section.lower()} news from {escape(feed.site)}</description>\n"
            f"<language>en-gb</language>\n<lastBuildDate>{_http_date(newest)}</lastBuildDate>\n"
            + "".join(feed.rendered[m][1] for m in feed.items) + "</channel>\n</rss>\n"
        ).encode()

    def _item(self, feed: _Feed, m: int) -> tuple[str, str]:
        _, title, lead = _story(self.seed, feed.n, m)
        rng = random.Random(f"{self.seed}/{feed.n}/{m}/extras")  # its first draw is the author, as on the page
        author, url = rng.choice(_AUTHORS), f"{self.base}/article/{feed.n}/{m}.html"
        cut = min(400, max(200, feed.teaser + rng.randint(-40, 40)))
        teaser = lead if len(lead) <= cut else lead[:cut].rsplit(" ", 1)[0] + "…"
        extras = f"<dc:creator>{author}</dc:creator>\n" if feed.richness > 0.3 else ""
        categories = rng.sample(_NAMES, rng.randint(0, round(4 * feed.richness)))
        extras += "".join(f"<category>{c}</category>\n" for c in categories)
        if rng.random() < feed.richness:
            extras += (f'<media:content url="{self.base}/img/{feed.n}/{m}.jpg" medium="image" width="1200"'
                       ' height="675">'
                       f"<media:credit>{rng.choice(_AUTHORS)}/Reuters</media:credit>"
                       f"<media:description>{escape(_sentence(rng))}</media:description></media:content>\n")
        return title, (f"<item>\n<title>{escape(title)}</title>\n<link>{url}</link>\n"
                       f'<guid isPermaLink="true">{url}</guid>\n<pubDate>{_http_date(feed.times[m])}</pubDate>\n'
                       f"{extras}<description>{escape(teaser)}</description>\n</item>\n")

    def advance(self, fraction: float) -> int:
        rng = random.Random(f"{self.seed}/advance/{self.advances}")
        self.advances += 1
        added, now = 0, int(time.time())
        for feed in rng.sample(self.feeds, min(len(self.feeds), round(fraction * len(self.feeds)))):
            k = rng.randint(1, 3)
            # Last-Modified has whole seconds: it must still move when two rounds fall in the same second.
            newest, first = max(now, feed.last_modified + k), max(feed.times) + 1
            for i in range(k):
                feed.times[first + i] = newest - k + 1 + i
            self._publish(feed, list(range(first, first + k)), newest)
            added += k
        return added

    def article(self, n: int, m: int) -> bytes | None:
        if n >= len(self.feeds) or m not in self.feeds[n].times:
            return None
        feed, (rng, title, lead) = self.feeds[n], _story(self.seed, n, m)
        paragraphs, words = [lead], rng.randint(400, 900) - lead.count(" ")
        for left in range(rng.randint(5, 11), 0, -1):
            paragraphs.append(_paragraph(rng, max(20, round(words / left * rng.uniform(0.7, 1.3)))))
            words -= paragraphs[-1].count(" ") + 1
        when = datetime.fromtimestamp(feed.times[m], UTC)
        t, url = escape(title), f"{self.base}/article/{n}/{m}.html"
        author = random.Random(f"{self.seed}/{n}/{m}/extras").choice(_AUTHORS)
        nav = "".join(f'<li><a href="/{s.lower()}/">{s}</a></li>' for s in _SECTIONS)
        related = "".join(f'<li><a href="/article/{n}/{r}.html">{escape(feed.rendered[r][0])}</a></li>'
                          for r in feed.items[:5] if r != m)
        body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{t} | {escape(feed.site)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="canonical" href="{url}">
<meta name="description" content="{escape(lead[:160])}"><meta property="og:type" content="article">
<meta property="og:title" content="{t}"><meta property="og:site_name" content="{escape(feed.site)}">
<meta property="og:url" content="{url}"><meta name="author" content="{author}">
<meta property="article:published_time" content="{when.isoformat()}">
<link rel="stylesheet" href="/static/site.css"></head>
<body><header class="site-header"><a class="logo" href="/">{escape(feed.site)}</a><nav><ul>{nav}</ul></nav>
<form action="/search"><input name="q" placeholder="Search"></form></header>
<main><nav class="breadcrumb"><a href="/">Home</a> › <a href="/{feed.section.lower()}/">{feed.section}</a></nav>
<article><h1>{t}</h1>
<p class="byline">By <span class="author">{author}</span> ·
<time datetime="{when.isoformat()}">{when:%d %B %Y, %H:%M} UTC</time></p>
{body}
</article>
<aside class="related"><h2>Most read</h2><ul>{related}</ul></aside>
<section class="newsletter"><h2>Sign up to our morning briefing</h2>
<p>The day's essential stories, in your inbox.</p></section>
</main><footer><ul><li><a href="/about">About us</a></li><li><a href="/privacy">Privacy</a></li>
<li><a href="/contact">Contact</a></li></ul><p>© {when.year} {escape(feed.site)}. All rights reserved.</p></footer>
</body></html>
""".encode()

    def respond(self, method: str, target: str, headers: dict[str, str]) -> _Response:
        """(status, headers, body, kind); kind "" for control requests, which are not counted."""
        path, _, query = target.partition("?")
        if path.startswith("/_farm/"):
            return 200, [("Content-Type", "application/json")], json.dumps(self.control(path[7:], query)).encode(), ""
        if method not in ("GET", "HEAD"):
            return 405, [], b"", "other"
        if match := _FEED.fullmatch(path):
            n = int(match[1])
            if n < len(self.feeds):
                feed = self.feeds[n]
                extra = [("Content-Type", "application/rss+xml; charset=utf-8"), ("ETag", feed.etag),
                         ("Last-Modified", _http_date(feed.last_modified)), ("Cache-Control", self.cache_control)]
                return (304, extra, b"", "feed") if self._unchanged(feed, headers) else (200, extra, feed.body, "feed")
        elif (match := _ARTICLE.fullmatch(path)) and (page := self.article(int(match[1]), int(match[2]))):
            return 200, [("Content-Type", "text/html; charset=utf-8")], page, "article"
        kind = "feed" if path.startswith("/feed/") else "article" if path.startswith("/article/") else "other"
        return 404, [("Content-Type", "text/plain")], b"not found", "robots" if path == "/robots.txt" else kind

    @staticmethod
    def _unchanged(feed: _Feed, headers: dict[str, str]) -> bool:
        if (tags := headers.get("if-none-match")) is not None:  # it wins over If-Modified-Since (RFC 9110 13.2.2)
            return any(tag.strip() in (feed.etag, "*", "W/" + feed.etag) for tag in tags.split(","))
        try:
            return parsedate_to_datetime(headers["if-modified-since"]).timestamp() >= feed.last_modified
        except (KeyError, TypeError, ValueError):
            return False

    def control(self, command: str, query: str) -> object:
        if command == "advance":
            return self.advance(float(urllib.parse.parse_qs(query).get("fraction", ["0.1"])[0]))
        if command == "reset":
            self.counts.clear()
            self.cpu_at_reset = self._cpu()
            return None
        if command == "existing":
            return [[f"{self.base}/article/{f.n}/{m}.html", f.rendered[m][0]] for f in self.feeds for m in f.items]
        cpu = self._cpu()  # "stats"
        base = {"feed_200": 0, "feed_304": 0, "article_200": 0, "other": 0}
        return base | dict(self.counts) | {"cpu_seconds": cpu - self.cpu_at_reset, "cpu_seconds_total": cpu}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                method, target, version = head[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
                await reader.readexactly(int(headers.get("content-length", 0)))  # a control POST's empty body
                status, extra, body, kind = self.respond(method, target, headers)
                if kind:
                    self.counts[f"{kind}_{status}" if kind != "other" else "other"] += 1
                    self.counts["bytes"] += len(body)
                connection = headers.get("connection", "").lower()
                keep = connection == "keep-alive" if version == "HTTP/1.0" else connection != "close"
                lines = [f"HTTP/1.1 {status} {_REASONS[status]}", f"Date: {_http_date(time.time())}",
                         *(f"{k}: {v}" for k, v in extra), "Connection: " + ("keep-alive" if keep else "close")]
                if status != 304:  # a 304 has no body, and no Content-Length of the body it stands for
                    lines.append(f"Content-Length: {len(body)}")
                writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if method == "HEAD" else body))
                await writer.drain()
                if not keep:
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass  # the client went away or spoke something else than HTTP/1.x: drop the connection
        except asyncio.CancelledError:
            pass  # shutdown with a keep-alive connection open; re-raising makes asyncio print a traceback
        finally:
            writer.close()


async def _serve(feeds: int, items: int, seed: int, epoch: float, max_age: int | None) -> None:
    sock = socket.create_server(("127.0.0.1", 0), backlog=2048)  # bound first: the links need the port
    port = sock.getsockname()[1]
    farm = _Farm(feeds, items, seed, epoch, f"http://127.0.0.1:{port}", max_age)
    server = await asyncio.start_server(farm.handle, sock=sock)
    print(port, flush=True)
    loop, stop = asyncio.get_running_loop(), asyncio.Event()
    loop.add_reader(sys.stdin.fileno(), stop.set)  # stdin closes when the parent closes or dies: stop then
    await stop.wait()
    server.close()


class FeedFarm:
    """The client side: starts the farm process and controls it. Use as a context manager."""

    def __init__(self, feeds: int = 2000, items: int = 20, seed: int = 1, *, epoch: float | None = None,
                 max_age: int | None = None) -> None:
        self.args = [str(feeds), str(items), str(seed), str(epoch if epoch is not None else time.time()), str(max_age)]
        self.feeds, self.port = feeds, 0
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    def __enter__(self) -> Self:
        self.process = subprocess.Popen([sys.executable, __file__, "--serve", *self.args],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        start_new_session=True)  # Ctrl-C stops the bench, which closes us
        line = self.process.stdout.readline() if self.process.stdout else b""
        if not line.strip().isdigit():
            code = self.process.wait()
            self.close()
            raise RuntimeError(f"the feed farm did not start (exit code {code}; its error is on stderr above)")
        self.port, self.base_url = int(line), f"http://127.0.0.1:{int(line)}"
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop the farm and wait for it (from here on its CPU counts in ``RUSAGE_CHILDREN``)."""
        if self.process is not None:
            self.process.communicate(timeout=30)  # closes stdin, which stops the server
            self.process = None

    @property
    def feed_urls(self) -> list[str]:
        return [f"{self.base_url}/feed/{n}.xml" for n in range(self.feeds)]

    def _control(self, command: str, query: str = "", post: bool = False) -> Any:  # JSON
        request = urllib.request.Request(f"{self.base_url}/_farm/{command}?{query}", data=b"" if post else None)
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def advance(self, fraction: float = 0.1) -> int:
        """Add 1-3 items at the top of a seeded random ``fraction`` of the feeds; return how many were added."""
        return int(self._control("advance", f"fraction={fraction}", post=True))

    def stats(self) -> dict[str, float]:
        """Requests by kind and status since the last reset (feed_200, feed_304, article_200, article_404,
        robots_404, other), body bytes, and the farm's CPU seconds since the reset and in total."""
        stats: dict[str, float] = self._control("stats")  # counts are ints, CPU seconds floats
        return stats

    def reset_stats(self) -> None:
        self._control("reset", post=True)

    def existing_articles(self) -> list[tuple[str, str]]:
        """(article URL, title) of every item now listed in a feed."""
        return [(url, title) for url, title in self._control("existing")]


_Fetched = tuple[int, dict[str, str], bytes]  # status, headers, body


def _get(url: str, headers: dict[str, str] | None = None) -> _Fetched:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:  # urllib raises on 304 and 404
        return exc.code, dict(exc.headers), exc.read()


def _timed(farm: FeedFarm, label: str, requests: list[tuple[str, dict[str, str]]]) -> list[_Fetched]:
    farm.reset_stats()
    start = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:  # urllib closes every connection: the worst case for the server
        got = list(pool.map(lambda request: _get(*request), requests))
    seconds, cpu = time.perf_counter() - start, farm.stats()["cpu_seconds"]
    print(f"{len(requests)} {label}, 16 urllib threads: {len(requests) / seconds:.0f} requests/s,"
          f" {sum(len(body) for _, _, body in got) / seconds / 1e6:.1f} MB/s; farm CPU {cpu:.2f} s"
          f" ({len(requests) / cpu:.0f} requests per CPU second)")
    return got


def _self_check() -> None:
    with FeedFarm(feeds=200) as farm:
        status, headers, body = _get(farm.feed_urls[0])
        assert status == 200 and headers["Content-Type"] == "application/rss+xml; charset=utf-8", (status, headers)
        assert body.count(b"<item>") == 20 and "max-age" not in headers["Cache-Control"], body[:500]
        assert _get(farm.feed_urls[0], {"If-None-Match": headers["ETag"]})[0] == 304
        assert _get(farm.feed_urls[0], {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
        assert _get(farm.base_url + "/robots.txt")[0] == 404
        url, title = farm.existing_articles()[0]
        status, _, page = _get(url)
        assert status == 200 and escape(title).encode() in page
        feeds = {url: _get(url) for url in farm.feed_urls}
        sizes = sorted(len(body) for _, _, body in feeds.values())
        print(f"feed sizes: min {sizes[0]} median {sizes[100]} max {sizes[-1]} bytes; article {len(page)} bytes")
        print("advance(0.1) added", farm.advance(0.1), "items")
        changed = [_get(url, {"If-None-Match": feed[1]["ETag"]})[0] for url, feed in feeds.items()]
        assert changed.count(200) == 20 and changed.count(304) == 180, changed
        print("stats:", farm.stats())
    with FeedFarm() as farm:
        got = _timed(farm, "feeds (200)", [(url, {}) for url in farm.feed_urls])
        etags = [headers["ETag"] for _, headers, _ in got]
        _timed(farm, "feeds (304)", [(url, {"If-None-Match": etag}) for url, etag in zip(farm.feed_urls, etags)])
        _timed(farm, "articles", [(url, {}) for url, _ in farm.existing_articles()[::20]])


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        feeds, items, seed, epoch, max_age = sys.argv[2:7]
        age = None if max_age == "None" else int(max_age)
        asyncio.run(_serve(int(feeds), int(items), int(seed), float(epoch), age))
    else:
        _self_check()
