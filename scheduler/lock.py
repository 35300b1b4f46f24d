"""One scheduler per database: a lease held in a row of the database itself, so it works across machines.

The holder renews the lease while it runs (``renew``); a holder that died stops renewing and anyone may take
over once the lease has run out. A holder on this very host whose process is gone (or whose pid is now ours,
as after a container restart) is known dead at once and is taken over without waiting.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db.models import SchedulerLock
from newsmon.errors import NewsmonError

LOCK_NAME = "scheduler"
LEASE = timedelta(seconds=60)
_HOLDERS: set[str] = set()  # the holder names made in this process (tests make several)


class LockHeld(NewsmonError):
    """Another `newsmon run` schedules this database."""


class LockLost(NewsmonError):
    """The lease was taken over (it had run out): this service must stop scheduling."""


class DatabaseLock:
    def __init__(self, sessions: sessionmaker[Session], lease: timedelta = LEASE) -> None:
        self.sessions = sessions
        self.lease = lease
        self.host = socket.gethostname()
        self.holder = f"{self.host} pid {os.getpid()} #{secrets.token_hex(4)}"
        _HOLDERS.add(self.holder)
        self.expires_at: datetime | None = None

    def acquire(self, now: datetime) -> None:
        """Take the lock, or raise LockHeld saying who holds it and until when."""
        with self.sessions.begin() as session:
            row = session.get(SchedulerLock, LOCK_NAME)
            stale = row is not None and self._dead_on_this_host(row.holder)
            taken = session.execute(
                update(SchedulerLock)
                .where(
                    SchedulerLock.name == LOCK_NAME,
                    or_(SchedulerLock.expires_at < now, SchedulerLock.holder == (row.holder if stale else self.holder)),
                )
                .values(holder=self.holder, acquired_at=now, expires_at=now + self.lease)
                .execution_options(synchronize_session=False)
            ).rowcount
        if not taken:
            try:
                with self.sessions.begin() as session:
                    session.add(SchedulerLock(name=LOCK_NAME, holder=self.holder, acquired_at=now,
                                              expires_at=now + self.lease))
            except IntegrityError:
                with self.sessions() as session:
                    row = session.get(SchedulerLock, LOCK_NAME)
                    holder, until = (row.holder, row.expires_at) if row else ("another service", now)
                raise LockHeld(
                    f"another `newsmon run` ({holder}) schedules this database; stop it first "
                    f"(its lease runs out at {until:%Y-%m-%d %H:%M:%S} UTC if it died)"
                ) from None
        self.expires_at = now + self.lease

    def renew(self, now: datetime) -> None:
        """Extend the lease; raises LockLost if another service holds it now."""
        with self.sessions.begin() as session:
            renewed = session.execute(
                update(SchedulerLock)
                .where(SchedulerLock.name == LOCK_NAME, SchedulerLock.holder == self.holder)
                .values(expires_at=now + self.lease)
                .execution_options(synchronize_session=False)
            ).rowcount
        if not renewed:
            with self.sessions() as session:
                holder = session.scalar(select(SchedulerLock.holder).where(SchedulerLock.name == LOCK_NAME))
            raise LockLost(f"the scheduler lock was taken over by {holder or 'nobody'} after our lease ran out")
        self.expires_at = now + self.lease

    def release(self) -> None:
        with self.sessions.begin() as session:
            session.execute(
                delete(SchedulerLock).where(SchedulerLock.name == LOCK_NAME, SchedulerLock.holder == self.holder)
            )
        self.expires_at = None

    def _dead_on_this_host(self, holder: str) -> bool:
        host, _, rest = holder.partition(" pid ")
        pid_text = rest.split(" ", 1)[0]
        if host != self.host or not pid_text.isdigit():
            return False
        pid = int(pid_text)
        if pid == os.getpid():
            return holder not in _HOLDERS  # an earlier life of this process id (a restarted container)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, another user's
            return False
        return False
