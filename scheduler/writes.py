"""Which of the service's jobs the database has refused a write (a full disk, a lost connection), and why:
what /healthz reports until a write of that job succeeds again."""

from __future__ import annotations

import threading
from collections.abc import Callable

from db.session import database_error


class FailingWrites:
    def __init__(self, on_failure: Callable[[str], None] | None = None) -> None:
        self._failing: dict[str, str] = {}  # job -> the database's reason, one line
        self._lock = threading.Lock()
        self.on_failure = on_failure  # told the job's name at every refused write (a metric counts them)

    def failed(self, job: str, reason: BaseException | str) -> None:
        with self._lock:
            self._failing[job] = reason if isinstance(reason, str) else database_error(reason)
        if self.on_failure is not None:
            self.on_failure(job)

    def succeeded(self, job: str) -> None:
        with self._lock:
            self._failing.pop(job, None)

    def failing(self) -> dict[str, str]:
        with self._lock:
            return dict(self._failing)
