"""Databases that stop taking writes on cue, for real: a SQLite file on a small tmpfs that the test fills, and a
PostgreSQL database switched to read-only with its connections cut (what a full volume or a failover does)."""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from tests.conftest import _postgres_database


class FullDisk:
    """A tmpfs of ``size`` mounted at ``path`` (needs root and a mount namespace that allows it)."""

    def __init__(self, path: Path, size: str = "16m") -> None:
        self.path = path
        path.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs to fill (needs root): {done.stderr.strip() or done.returncode}")
        self.filler = path / "filler"

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path / 'newsmon.db'}"

    def prepare(self, engine: Engine) -> None:
        """Empty the write-ahead log into the database file, so that the next writes must grow it: SQLite
        reuses a log it has already grown, and writes into it would succeed on a full disk."""
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def refuse(self) -> None:
        """Fill the volume to its last byte."""
        with open(self.filler, "ab", buffering=0) as out:
            for chunk in (1 << 20, 1 << 12, 1):
                try:
                    while True:
                        out.write(b"\0" * chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise

    def accept(self) -> None:
        self.filler.unlink(missing_ok=True)

    def close(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], capture_output=True, check=False)


class ReadOnlyPostgres:
    """A fresh PostgreSQL database; ``refuse`` makes it read-only and cuts every connection to it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = make_url(url).database
        self.admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")

    def _set(self, read_only: bool) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{self.name}" SET default_transaction_read_only = '
                                    f'{"on" if read_only else "off"}'))
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": self.name})

    def prepare(self, engine: Engine) -> None:
        """Nothing to do: a read-only database refuses every write."""

    def refuse(self) -> None:
        self._set(True)

    def accept(self) -> None:
        self._set(False)

    def close(self) -> None:
        self.admin.dispose()


Fault = FullDisk | ReadOnlyPostgres


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fragile_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Fault]:
    """A database, on either backend, that refuses writes when the test says so."""
    if request.param == "sqlite":
        fault: Fault = FullDisk(tmp_path / "volume")
        try:
            yield fault
        finally:
            fault.close()
        return
    for url in _postgres_database():
        fault = ReadOnlyPostgres(url)
        try:
            yield fault
        finally:
            fault.accept()
            fault.close()

