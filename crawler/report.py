"""The running tally of one crawl, per source: what the CLI prints and what is recorded as crawl runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from db.records import SourceTally


@dataclass(slots=True)
class CrawlReport:
    """Filled in by the spider and pipelines while the crawl runs; ``on_source_done`` fires once per source."""

    tallies: dict[str, SourceTally]
    on_source_done: Callable[[SourceTally], None] | None = None

    @classmethod
    def start(cls, names: list[str], on_source_done: Callable[[SourceTally], None] | None = None) -> CrawlReport:
        now = datetime.now(UTC)
        return cls({name: SourceTally(name=name, started_at=now) for name in names}, on_source_done)

    def opened(self, source: str, count: int = 1) -> None:
        self.tallies[source].pending += count

    def closed(self, source: str) -> None:
        tally = self.tallies[source]
        tally.pending -= 1
        if tally.pending <= 0 and tally.finished_at is None:
            self.finish(tally)

    def finish(self, tally: SourceTally) -> None:
        tally.finished_at = datetime.now(UTC)
        if self.on_source_done is not None:
            self.on_source_done(tally)

    def finish_all(self) -> None:
        """At the end of the crawl: sources cut short (shutdown, time limit) are finished too."""
        for tally in self.tallies.values():
            if tally.finished_at is None:
                if tally.pending > 0 and not tally.error:
                    tally.error = f"crawl ended with {tally.pending} requests unfinished"
                self.finish(tally)

    def totals(self) -> dict[str, int]:
        keys = ("links", "new", "duplicate", "known", "failed")
        totals = {key: sum(getattr(t, key) for t in self.tallies.values()) for key in keys}
        totals["sources_failed"] = sum(1 for t in self.tallies.values() if t.error)
        return totals
