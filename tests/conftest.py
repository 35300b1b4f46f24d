"""Real collaborators for the tests: databases (a SQLite file and PostgreSQL), loopback outlets, the CLI."""

from __future__ import annotations

import email
import email.policy
import json
import os
import socket
import subprocess
import threading
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

from db.session import open_database
from tests.servers import CORPUS, Outlet, Webhook

pytest_plugins = ["tests.faults"]  # the fragile_database fixture

POSTGRES_ENV = "NEWSMON_TEST_POSTGRES_URL"
REPO = Path(__file__).resolve().parents[1]


def _postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set: PostgreSQL tests skipped (.ci/run sets it)")
    admin_url = make_url(base).set(drivername="postgresql+psycopg")
    name = f"newsmon_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL at {admin_url.render_as_string(hide_password=True)} is not reachable: {exc.orig}")
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test body on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'newsmon.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for a test that needs PostgreSQL itself (skips, saying why, without it)."""
    yield from _postgres_database()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def outlet() -> Iterator[Outlet]:
    with Outlet("127.0.0.1") as server:
        yield server


@pytest.fixture
def second_outlet() -> Iterator[Outlet]:
    """Another site on another loopback address (127.0.0.2), for syndication across outlets."""
    with Outlet("127.0.0.2") as server:
        yield server


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    return CORPUS


class Mailbox:
    """A real SMTP server (aiosmtpd) on loopback that keeps what it receives; ``refuse`` makes it answer 451.

    ``messages`` holds what it accepted, ``offered`` everything it was sent, refused or not.
    """

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.messages: list[EmailMessage] = []
        self.offered: list[EmailMessage] = []
        self.refuse = False
        self.arrived = threading.Event()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.content, _class=EmailMessage, policy=email.policy.default)
        self.offered.append(message)
        if self.refuse:
            return "451 4.3.0 mailbox busy, try again later"
        self.messages.append(message)
        self.arrived.set()
        return "250 OK"

    def url(self, **extra: str) -> str:
        """An apprise mailto:// URL delivering here (apprise needs a domain; smtp= names the server)."""
        query = "&".join(f"{k}={v}" for k, v in {"smtp": "127.0.0.1", "from": "newsmon@example.org",
                                                   "to": "desk@example.org", **extra}.items())
        return f"mailto://example.org:{self.port}?{query}"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.controller.start()
    yield box
    box.controller.stop()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with Webhook() as hook:
        yield hook


def write_config(path: Path, database_url: str, sources: list[dict[str, Any]], **extra: Any) -> Path:
    """A config.yaml for crawling loopback outlets (private networks allowed, no delay), whose rules alert on
    stories of any age: the pages of most tests carry fixed dates (tests/alerts/test_freshness.py sets
    ``alerts.max_age`` to test freshness)."""
    crawl = {"delay": 0, "allow_private_networks": True, "obey_robots_txt": False, "timeout": 10}
    crawl.update(extra.pop("crawl", {}))
    extra.setdefault("alerts", {"max_age": "36500d"})
    data = {"database": {"url": database_url}, "crawl": crawl, "sources": sources, **extra}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Crawled:
    """What `newsmon crawl --format json` reported: the whole report, its rows by source, and its stderr."""

    report: dict[str, Any]
    stderr: str

    @property
    def rows(self) -> dict[str, dict[str, Any]]:
        return {row["source"]: row for row in self.report["sources"]}

    @property
    def only(self) -> dict[str, Any]:
        """The row of the crawl's one source."""
        (row,) = self.report["sources"]
        return row


def crawl(config: Path, *args: str, options: Sequence[str] = ()) -> Crawled:
    """`newsmon [options] --config CONFIG crawl --format json [args]`, which must run to the end (exit 0, no
    traceback)."""
    result = run_newsmon(*options, "--config", str(config), "crawl", "--format", "json", *args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return Crawled(json.loads(result.stdout), result.stderr)


def run_newsmon(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The real command in a child process (a crawl runs the Twisted reactor, which starts once per process)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "newsmon", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=environment,
        check=False,
    )
