"""Real HTTP servers on loopback for tests and benchmarks: a small "outlet" serving pages and feeds.

Not a mock: Scrapy talks to it over TCP like to any site. Routes are set per test; the server counts the
requests it answered so tests can check what was (not) fetched.
"""

from __future__ import annotations

import gzip
import json
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


@dataclass
class Route:
    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow or hanging page)
    etag: str | None = None  # sent, and answered with 304 when the request's If-None-Match names it
    last_modified: str | None = None  # the same with If-Modified-Since
    drip: float = 0.0  # seconds between chunks of one byte of the body, sent over and over (an endless response)
    content_length: int | None = None  # announced instead of the body's length, then the connection closed
    on_request: Callable[[], object] | None = None  # called (in the server's thread) before each answer


class _Server(ThreadingHTTPServer):
    # socketserver's listen backlog of 5 drops a crawler's burst of connections (each then waits 1 s to retry).
    request_queue_size = 128
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # a client killed or gone mid-request: expected here
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class Outlet:
    """A threaded HTTP server on 127.0.0.x:port (port 0 = any free one) serving a dict of routes."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path, headers) of every request, in order
        self.times: list[float] = []  # time.monotonic() of every request, in the same order
        outlet = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                path = self.path
                outlet.hits[path] += 1
                outlet.requests.append((path, dict(self.headers.items())))
                outlet.times.append(time.monotonic())
                route = outlet.routes.get(path) or outlet.routes.get(path.split("?")[0])
                if route is None:
                    route = Route(b"not found", status=404, content_type="text/plain")
                if route.on_request is not None:
                    route.on_request()
                if route.delay:
                    time.sleep(route.delay)
                if route.drip or route.content_length is not None:
                    self.hostile(route)
                    return
                unchanged = (route.etag is not None and self.headers.get("If-None-Match") == route.etag) or (
                    route.last_modified is not None and self.headers.get("If-Modified-Since") == route.last_modified
                )
                body = b"" if unchanged else route.body
                self.send_response(304 if unchanged else route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in route.headers.items():
                    self.send_header(key, value)
                if route.etag:
                    self.send_header("ETag", route.etag)
                if route.last_modified:
                    self.send_header("Last-Modified", route.last_modified)
                self.end_headers()
                self.wfile.write(body)

            def hostile(self, route: Route) -> None:
                """An endless drip (chunked, a byte at a time) or a body cut short of its Content-Length."""
                self.close_connection = True
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                for key, value in route.headers.items():
                    self.send_header(key, value)
                if route.content_length is not None:
                    self.send_header("Content-Length", str(route.content_length))
                    self.end_headers()
                    self.wfile.write(route.body)
                    return
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                sent, deadline = 0, time.monotonic() + 300  # a backstop: the client gives up long before
                try:
                    while not outlet.closing.is_set() and time.monotonic() < deadline:
                        byte = route.body[sent % len(route.body):][:1] if route.body else b" "
                        self.wfile.write(b"1\r\n" + byte + b"\r\n")
                        sent += 1
                        outlet.closing.wait(route.drip)
                except OSError:  # the client hung up
                    pass

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.closing = threading.Event()  # set on exit: ends any drip still running
        self.server = _Server((host, 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> Outlet:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()

    def add(self, path: str, body: bytes | str, **kwargs: object) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(data, **kwargs)  # type: ignore[arg-type]
        return self.url(path)


@dataclass(frozen=True)
class Arrival:
    """One POST as the receiver got it, before it answered (a sender killed meanwhile never hears back)."""

    at: datetime
    headers: dict[str, str]
    body: dict[str, object]

    @property
    def key(self) -> str | None:
        """The idempotency key the sender gave (header, else payload field)."""
        return self.headers.get("Idempotency-Key") or self.body.get("idempotency_key")  # type: ignore[return-value]


class Webhook:
    """A chat webhook receiver on loopback: records every POST; answers from a script of statuses.

    ``statuses`` are used in order (the last one repeats); ``gate``, when set, holds every request until
    the test releases it (a channel that hangs); ``delay`` answers each request that many seconds late (a slow
    receiver); ``on_arrival`` is called with each arrival before the answer (to fill a disk, kill a sender).
    ``arrivals`` has every POST, answered or not; ``received`` the bodies of those answered with success.
    """

    def __init__(self, statuses: list[int] | None = None, path: str = "/hook") -> None:
        self.statuses = list(statuses or [200])
        self.path = path
        self.received: list[dict[str, object]] = []
        self.arrivals: list[Arrival] = []
        self.requests = 0
        self.gate: threading.Event | None = None
        self.delay = 0.0
        self.on_arrival: Callable[[Arrival], None] | None = None
        self.changed = threading.Condition()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                arrival = Arrival(datetime.now(UTC), dict(self.headers.items()), body)
                with hook.changed:
                    hook.requests += 1
                    hook.arrivals.append(arrival)
                    status = hook.statuses.pop(0) if len(hook.statuses) > 1 else hook.statuses[0]
                    hook.changed.notify_all()
                if hook.on_arrival is not None:
                    hook.on_arrival(arrival)
                if hook.gate is not None:
                    hook.gate.wait(30)
                if hook.delay:
                    time.sleep(hook.delay)
                if status < 300:
                    with hook.changed:
                        hook.received.append(body)
                        hook.changed.notify_all()
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the sender gave up waiting (a read timeout) or was killed
                    pass

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wait_for(self, predicate: Callable[[Webhook], bool], timeout: float = 60) -> bool:
        """Wait until ``predicate(self)`` holds (checked at every arrival and answer); False on timeout."""
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self), timeout)

    def keys(self) -> list[str | None]:
        return [arrival.key for arrival in self.arrivals]

    @property
    def url(self) -> str:
        """The apprise URL of this receiver (apprise's json:// posts title, message and type)."""
        host, port = self.server.server_address[:2]
        return f"json://{host}:{port}{self.path}"

    def __enter__(self) -> Webhook:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.gate is not None:
            self.gate.set()
        self.server.shutdown()
        self.server.server_close()


def rss(items: list[dict[str, str]], title: str = "Test outlet") -> str:
    """An RSS 2.0 feed of items with link, title and optional pubDate (a datetime's RFC 822 form)."""
    entries = []
    for item in items:
        date = f"<pubDate>{item['pubDate']}</pubDate>" if item.get("pubDate") else ""
        entries.append(
            f"<item><title>{xml_escape(item['title'])}</title><link>{xml_escape(item['link'])}</link>{date}</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{xml_escape(title)}</title><link>http://example.org/</link><description>t</description>"
        + "".join(entries)
        + "</channel></rss>"
    )


def rfc822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


_FILLER_WORDS = (
    "the minister said talks would continue next week while officials in the capital described progress as slow "
    "but steady and analysts warned that a final agreement could still take months to reach after several rounds "
    "of negotiations over borders prisoners energy grain exports sanctions reconstruction funds and elections "
    "observers noted that regional leaders had asked for more time to consult their partners before any vote"
).split()


def filler(seed: object, words: int = 150) -> str:
    """``words`` words in an order of their own for each seed: appended to a page, it makes the page a story
    of its own to near-duplicate clustering (shared paragraphs alone would make stories copies of each other)."""
    rng = random.Random(str(seed))
    return " ".join(rng.choice(_FILLER_WORDS) for _ in range(words)).capitalize() + "."


def attribute_bomb(attributes: int = 300_000) -> str:
    """A page whose one tag has that many attributes (3 MB for 300,000): libxml2's HTML parser compares each with
    every earlier one, minutes in one C call that no Python signal handler interrupts."""
    return "<html><body><div " + " ".join(f"a{i}=1" for i in range(attributes)) + ">x</div></body></html>"


def article_page(title: str, paragraphs: list[str], lang: str = "en", published: str | None = None) -> str:
    """A realistic article page: navigation, the article, a related box and a footer around it."""
    meta = f'<meta property="article:published_time" content="{published}">' if published else ""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{escape(title)}</title>{meta}
<meta property="og:site_name" content="Test Outlet"></head><body>
<nav><a href="/">Home</a> <a href="/world/">World</a> <a href="/politics/">Politics</a></nav>
<main><article><h1>{escape(title)}</h1>{body}</article></main>
<footer><p>Copyright Test Outlet. All rights reserved.</p></footer></body></html>"""


def aeb_pages() -> dict[str, tuple[bytes, dict[str, str]]]:
    """The 181 AEB pages (id -> (html bytes, ground truth)), read from ../shared/corpus by path."""
    folder = CORPUS / "articles" / "aeb"
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    return {key: (gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes()), value) for key, value in truth.items()}


def serve_aeb(outlet: Outlet) -> tuple[str, dict[str, dict[str, str]]]:
    """Serve every AEB page at /aeb/<id>.html and a feed listing them all; returns (feed URL, truth by URL)."""
    items, truth = [], {}
    for key, (html, expected) in aeb_pages().items():
        url = outlet.add(f"/aeb/{key}.html", html, content_type="text/html")
        items.append({"title": key, "link": url})
        truth[url] = expected
    feed_url = outlet.add("/aeb/feed.xml", rss(items, "AEB"), content_type="application/rss+xml")
    return feed_url, truth
