"""One scheduler per database: a lease held in a row of the database itself, so it works across machines.

The holder renews the lease while it runs (``renew``); a holder that died stops renewing and anyone may take
over once the lease has run out. A holder on this very host whose process is gone (or whose pid is now ours,
as after a container restart) is known dead at once and is taken over without waiting.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db.claimants import is_dead_on_this_host, new_claimant
from db.models import SchedulerLock
from newsmon.errors import NewsmonError

LOCK_NAME = "scheduler"
LEASE = timedelta(seconds=60)


class LockHeld(NewsmonError):
    """Another `newsmon run` schedules this database."""


class LockLost(NewsmonError):
    """The lease was taken over (it had run out): this service must stop scheduling."""


class DatabaseLock:
    def __init__(self, sessions: sessionmaker[Session], lease: timedelta = LEASE) -> None:
        self.sessions = sessions
        self.lease = lease
        self.holder = new_claimant()
        self.expires_at: datetime | None = None
        # The holder this one took over from (it died or its lease ran out): what it left half done,
        # such as alerts it was sending, can be taken back at once.
        self.predecessor: str | None = None

    def acquire(self, now: datetime) -> None:
        """Take the lock, or raise LockHeld saying who holds it and until when."""
        with self.sessions.begin() as session:
            row = session.get(SchedulerLock, LOCK_NAME)
            stale = row is not None and is_dead_on_this_host(row.holder)
            previous = row.holder if row is not None and (stale or row.expires_at < now) else None
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
        else:
            self.predecessor = previous
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

    def holds(self, now: datetime) -> bool:
        """Whether our lease runs at ``now`` (it lapses when renewals fail, until one succeeds)."""
        return self.expires_at is not None and self.expires_at > now

    def release(self) -> None:
        with self.sessions.begin() as session:
            session.execute(
                delete(SchedulerLock).where(SchedulerLock.name == LOCK_NAME, SchedulerLock.holder == self.holder)
            )
        self.expires_at = None
