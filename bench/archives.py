"""Helpers shared by the benchmarks that fill an archive: where it lives, and the 95th percentile."""

from __future__ import annotations

from sqlalchemy import text

from db.session import open_database


def archive_url(database_url: str | None, folder: str, name: str) -> str:
    """The given PostgreSQL database, emptied of stories and sources first; else a new SQLite file in ``folder``."""
    if not database_url:
        return f"sqlite:///{folder}/{name}"
    engine = open_database(database_url)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE stories, sources RESTART IDENTITY CASCADE"))
    engine.dispose()
    return database_url


def p95(timings: list[float]) -> float:
    """The 95th percentile of ``timings`` (nearest rank)."""
    ordered = sorted(timings)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]
