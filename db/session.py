"""Engines and sessions for SQLite (the embedded default) and PostgreSQL, and the schema kept at Alembic head."""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from newsmon.errors import StorageError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# A locked SQLite database (another process writing) is waited for rather than failed on: this many seconds,
# unless the URL says otherwise (sqlite:///newsmon.db?timeout=60, the parameter SQLAlchemy's pysqlite reads).
SQLITE_BUSY_TIMEOUT = 30.0
# SQLite's result codes for "another connection holds the lock" (sqlite3.Error.sqlite_errorname).
_SQLITE_LOCKED = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_BUSY_SNAPSHOT", "SQLITE_BUSY_RECOVERY")


def masked_url(url: str) -> str:
    """The database URL with its password hidden, for logs and output."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout (``?timeout=SECONDS``, 30 by default), foreign keys and
    Unicode-aware lower().

    Raises:
        StorageError: the URL cannot be understood or the SQLite file's folder does not exist.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"database.url is not a valid SQLAlchemy URL: {masked_url(url)}") from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).expanduser().resolve().parent
            if not folder.is_dir():
                raise StorageError(f"database folder {folder} does not exist; create it or fix database.url")
        timeout = _busy_timeout(parsed)
        engine = create_engine(parsed.difference_update_query(["timeout"]), connect_args={"timeout": timeout},
                               **kwargs)
        event.listen(engine, "connect", functools.partial(_configure_sqlite, busy_ms=round(timeout * 1000)))
        return engine
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def _busy_timeout(parsed: URL) -> float:
    """Seconds a SQLite connection waits for another's lock: the URL's ``timeout``, else SQLITE_BUSY_TIMEOUT."""
    value = parsed.query.get("timeout")
    if value is None:
        return SQLITE_BUSY_TIMEOUT
    try:
        seconds = float(value if isinstance(value, str) else value[-1])
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 86_400:
        raise StorageError(f"database.url: timeout={value} is not a number of seconds (0 to 86400), e.g. ?timeout=30")
    return seconds


def _configure_sqlite(dbapi_connection: sqlite3.Connection, _record: object, busy_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.close()
    # SQLite's own lower() folds ASCII only; searches must find "Зеленський" typed in any case.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


# The newest migration's revision. Every command opens the archive and finds it current: reading that without
# alembic saves each one a third of a second (alembic's script loader imports mako and pygments). A test checks
# that this is the head alembic finds in db/migrations, so a new migration cannot forget it.
HEAD_REVISION = "0015"


def current_revision(engine: Engine) -> str | None:
    """The revision the archive's schema is at (alembic's version table), None for an empty database."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def head_revision() -> str:
    return HEAD_REVISION


def upgrade(engine: Engine) -> bool:
    """Apply every pending Alembic migration; returns True when something was applied.

    Raises:
        StorageError: the database cannot be reached or a migration fails.
    """
    try:
        if current_revision(engine) == head_revision():
            return False
        logger.info("migrating %s to %s", masked_url(str(engine.url)), head_revision())
        from alembic import command

        command.upgrade(_alembic_config(engine), "head")
        return True
    except SQLAlchemyError as exc:
        raise storage_error(exc, f"prepare the database {masked_url(str(engine.url))}") from exc


def open_database(url: str) -> Engine:
    """Engine for ``url`` with the schema at head: what every command that touches the archive calls first."""
    engine = make_engine(url)
    upgrade(engine)
    return engine


def is_locked(exc: BaseException) -> bool:
    """True when ``exc`` says another connection held SQLite's lock for longer than the busy timeout."""
    orig = getattr(exc, "orig", None) or exc
    return isinstance(orig, sqlite3.OperationalError) and getattr(orig, "sqlite_errorname", "") in _SQLITE_LOCKED


def database_error(exc: BaseException) -> str:
    """What went wrong with the database, in one line for a person: never the SQL nor its parameters, which
    SQLAlchemy puts in its message (a stored page's text among them)."""
    if is_locked(exc):
        return ("another process holds the database's write lock (a crawl, `newsmon run`, a migration or a sqlite3 "
                "shell)")
    reason = getattr(exc, "orig", None) or exc
    text = " ".join(str(reason).split("\n[SQL:", 1)[0].split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def storage_error(exc: SQLAlchemyError, doing: str) -> StorageError:
    """The StorageError that says, in one line, what could not be done and why (see database_error)."""
    if is_locked(exc):
        return StorageError(f"cannot {doing}: {database_error(exc)}; run it again when that process is done")
    return StorageError(f"cannot {doing}: database error: {database_error(exc)}")


@contextmanager
def storage_errors(doing: str) -> Iterator[None]:
    """Translate a database error raised in the block into a one-line StorageError: ``cannot <doing>: ...``."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise storage_error(exc, doing) from exc
