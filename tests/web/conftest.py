"""A real archive served by the real app on 127.0.0.1 (uvicorn on a free port, in a thread of the test)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from alerts.outbox import AlertPlan, match_unmatched
from db.records import SourceTally
from db.session import open_database, session_factory
from db.sources import record_crawl_run, sync_sources
from db.storage import store_article
from newsmon.config import Config
from newsmon.config_load import validate_config
from newsmon.web.app import create_app
from newsmon.web.serve import listening_socket, make_server
from tests.factories import make_article
from tests.servers import filler

NOW = datetime.now(UTC).replace(microsecond=0)
SECRET_CHANNEL = "json://hook-user:hunter2-secret@127.0.0.1:9/hook"
PEACE = "Negotiators in Geneva discussed security guarantees for Kyiv and a ceasefire along the front line."
STORIES: list[tuple[str, str, int, str, str]] = [
    # (source, language, days ago, title, text): "wire" and "paper" carry one story (a cluster of two)
    ("wire", "en", 0, "Security guarantees for Kyiv on the table in Geneva", PEACE),
    ("paper", "en", 0, "Geneva talks: security guarantees for Kyiv",
     PEACE + " Both sides said more talks would follow."),
    ("wire", "en", 1, "Ceasefire talks stall over territory", "The talks stalled over territory, officials said."),
    ("paper", "uk", 2, "Зеленський: гарантії безпеки — головне питання",
     "Президент Зеленський заявив, що гарантії безпеки є головним питанням переговорів."),
    ("daily", "en", 3, "<script>alert('title')</script> Football cup final",
     "The ceasefire between rival fans held at the cup final, police said."),
]


@dataclass
class Served:
    url: str
    config: Config
    ids: list[int]  # story ids, in STORIES order


def archive_config(database_url: str, **extra: Any) -> Config:
    data = {
        "database": {"url": database_url},
        "sources": [{"name": n, "feed": f"https://{n}.example/rss"} for n in ("wire", "paper", "daily", "idle")],
        "channels": {"team": SECRET_CHANNEL},
        "rules": [
            {"name": "guarantees", "query": '"security guarantees" OR "гарантії безпеки"', "notify": ["team"]},
            {"name": "ceasefire", "query": "ceasefire NOT football"},
        ],
        **extra,
    }
    return validate_config(data, environ={})


def fill_archive(config: Config, stories: list[tuple[str, str, int, str, str]] = STORIES,
                 outlets: dict[str, str] | None = None) -> list[int]:
    """Store ``stories`` (each with filler of its own, but the copies with one text; the outlet's name from
    ``outlets`` by source, else "Wire Times" for wire) and match the rules."""
    engine = open_database(config.database.url)
    ids = []
    try:
        sessions = session_factory(engine)
        with sessions.begin() as session:
            source_ids = sync_sources(session, config.sources, NOW)
            for index, (source, language, days, title, body) in enumerate(stories):
                url = f"https://{source}.example/{index}"
                text = f"{body} {filler(body[:40])}"  # the copies share their first 40 characters
                outlet = (outlets or {}).get(source, f"{source.title()} Times")
                article = make_article(url=url, urls=(url,), title=title, text=text, source=source,
                                       language=language, site_name=outlet,
                                       published_at=NOW - timedelta(days=days, minutes=index))
                ids.append(store_article(session, article, source_ids[source], NOW)[1])
        match_unmatched(sessions, AlertPlan.from_config(config), NOW)
    finally:
        engine.dispose()
    return ids


@contextmanager
def running(app: FastAPI) -> Iterator[str]:
    """``app`` served on 127.0.0.1 at a free port until the block ends; yields its base URL."""
    sock = listening_socket("127.0.0.1", 0)
    server = make_server(app, sock)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web app did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def served(database_url: str) -> Iterator[Served]:
    config = archive_config(database_url)
    ids = fill_archive(config)
    with running(create_app(config)) as url:
        yield Served(url, config, ids)


@pytest.fixture
def sqlite_served(tmp_path: Path) -> Iterator[Served]:
    config = archive_config(f"sqlite:///{tmp_path / 'archive.db'}")
    ids = fill_archive(config)
    with running(create_app(config)) as url:
        yield Served(url, config, ids)


def session_on(config: Config) -> Session:
    return session_factory(open_database(config.database.url))()


def crawl_with_every_article_failing(config: Config, source: str) -> None:
    """Record a crawl of ``source`` that read its listing of three links and failed each one (two 500s, a 404)."""
    engine = open_database(config.database.url)
    try:
        with session_factory(engine).begin() as session:
            source_id = sync_sources(session, config.sources, NOW)[source]
            reasons = ("HTTP 500", "HTTP 404", "HTTP 500")
            problems = [(f"https://{source}.example/{n}", reason) for n, reason in enumerate(reasons)]
            record_crawl_run(session, source_id, SourceTally(source, NOW, NOW, links=3, failed=3, problems=problems))
    finally:
        engine.dispose()
