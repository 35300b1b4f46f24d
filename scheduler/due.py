"""The sources waiting for a crawl and the sources being crawled, shared by the scheduling jobs (which mark
sources due) and the dispatcher (which takes them), with one condition to wait on."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable


class DueSources:
    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.stopping = threading.Event()
        self._due: dict[str, None] = {}  # in the order they fell due
        self._in_flight: set[str] = set()

    def mark(self, name: str) -> None:
        """``name`` is due, unless it is already waiting or being crawled, or the service is stopping."""
        with self.changed:
            if self.stopping.is_set() or name in self._in_flight or name in self._due:
                return
            self._due[name] = None
            self.changed.notify_all()

    def wait(self, ready: Callable[[], bool], timeout: float | None = None) -> bool:
        """Wait until stopping, or until sources are due and ``ready()`` holds; False when stopping."""
        with self.changed:
            self.changed.wait_for(lambda: self.stopping.is_set() or (bool(self._due) and ready()), timeout)
            return not self.stopping.is_set()

    def take(self, limit: int) -> list[str]:
        """Up to ``limit`` of the due sources, the first fallen due first, now in flight."""
        with self.changed:
            names = list(self._due)[:limit]
            for name in names:
                del self._due[name]
            self._in_flight.update(names)
            return names

    def crawling(self, names: Iterable[str]) -> None:
        """Sources in flight that were never due here (runs a stopped scheduler left, taken over)."""
        with self.changed:
            self._in_flight.update(names)

    def done(self, names: Iterable[str]) -> None:
        with self.changed:
            self._in_flight.difference_update(names)
            self.changed.notify_all()

    def stop(self) -> None:
        self.stopping.set()
        with self.changed:
            self.changed.notify_all()

    def notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    @property
    def due(self) -> int:
        return len(self._due)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)
