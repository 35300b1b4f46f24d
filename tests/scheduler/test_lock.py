"""One scheduler per database: the lease row, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from db.models import SchedulerLock
from db.session import session_factory
from scheduler.lock import LOCK_NAME, DatabaseLock, LockHeld, LockLost

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_a_second_holder_is_refused_until_the_lease_runs_out(engine: Engine) -> None:
    sessions = session_factory(engine)
    first, second = DatabaseLock(sessions), DatabaseLock(sessions)
    first.acquire(NOW)
    with pytest.raises(LockHeld, match=r"another `newsmon run` \(.* pid \d+ #\w+\) schedules this database"):
        second.acquire(NOW + timedelta(seconds=30))
    first.renew(NOW + timedelta(seconds=50))  # heartbeats keep it
    with pytest.raises(LockHeld):
        second.acquire(NOW + timedelta(seconds=100))
    # The first stopped renewing (hung, or its machine died): after the lease anyone may take over.
    second.acquire(NOW + timedelta(seconds=200))
    with pytest.raises(LockLost, match="taken over"):
        first.renew(NOW + timedelta(seconds=201))
    second.release()
    first.acquire(NOW + timedelta(seconds=202))  # free again at once


def test_release_only_drops_our_own_lease(engine: Engine) -> None:
    sessions = session_factory(engine)
    first, second = DatabaseLock(sessions), DatabaseLock(sessions)
    first.acquire(NOW)
    second.release()  # not the holder: nothing happens
    with pytest.raises(LockHeld):
        second.acquire(NOW + timedelta(seconds=1))


def test_a_dead_holder_on_this_host_is_taken_over_at_once(engine: Engine) -> None:
    sessions = session_factory(engine)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    dead_pid = int(gone.stdout)
    first = DatabaseLock(sessions)
    first.acquire(NOW)
    with sessions.begin() as session:
        session.execute(update(SchedulerLock).where(SchedulerLock.name == LOCK_NAME)
                        .values(holder=f"{socket.gethostname()} pid {dead_pid} #deadbeef"))
    second = DatabaseLock(sessions)
    second.acquire(NOW + timedelta(seconds=1))  # well within the dead one's lease
    assert second.predecessor == f"{socket.gethostname()} pid {dead_pid} #deadbeef"  # what it left is taken back
    # A holder on another host is never presumed dead.
    with sessions.begin() as session:
        session.execute(update(SchedulerLock).where(SchedulerLock.name == LOCK_NAME)
                        .values(holder=f"elsewhere pid {os.getpid()} #cafe"))
    with pytest.raises(LockHeld, match="elsewhere"):
        DatabaseLock(sessions).acquire(NOW + timedelta(seconds=2))
