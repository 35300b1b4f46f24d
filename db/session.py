"""Engines and sessions for SQLite (the embedded default) and PostgreSQL, and the schema kept at Alembic head."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from newsmon.errors import StorageError

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# A locked SQLite database (another process writing) is waited for rather than failed on.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def masked_url(url: str) -> str:
    """The database URL with its password hidden, for logs and output."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def database_error(exc: BaseException) -> str:
    """What the database said, in one line, without the SQL statement or its parameters (SQLAlchemy appends
    both to its messages; they may be long and hold page text)."""
    reason = getattr(exc, "orig", None) or exc
    text = " ".join(str(reason).split("\n[SQL:", 1)[0].split())
    return text if len(text) <= 300 else text[:297] + "..."


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout, foreign keys and Unicode-aware lower().

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
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def _configure_sqlite(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()
    # SQLite's own lower() folds ASCII only; searches must find "Зеленський" typed in any case.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config(engine: Engine) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def upgrade(engine: Engine) -> bool:
    """Apply every pending Alembic migration; returns True when something was applied.

    Raises:
        StorageError: the database cannot be reached or a migration fails.
    """
    try:
        if current_revision(engine) == head_revision():
            return False
        logger.info("migrating %s to %s", masked_url(str(engine.url)), head_revision())
        command.upgrade(_alembic_config(engine), "head")
        return True
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot prepare the database {masked_url(str(engine.url))}: {_first_line(exc)}") from exc


def open_database(url: str) -> Engine:
    """Engine for ``url`` with the schema at head: what every command that touches the archive calls first."""
    engine = make_engine(url)
    upgrade(engine)
    return engine


def _first_line(exc: BaseException) -> str:
    message = str(getattr(exc, "orig", None) or exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__
