"""Logging for people: handlers are configured once, here, by the CLI."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

# Libraries that narrate every page at INFO; their warnings still come through.
_LIBRARIES = ("scrapy", "twisted", "apscheduler", "trafilatura", "htmldate", "courlan", "charset_normalizer", "alembic", "py.warnings")
# These log expected failures at ERROR, often with tracebacks: extraction misses on ordinary pages, requests
# that gave up after retries, an unreachable robots.txt. The crawl records each as a one-line problem of
# its source instead, so they are shown only at -vv.
_EXPECTED_FAILURES = (
    "trafilatura",
    "htmldate",
    "scrapy.downloadermiddlewares.retry",
    "scrapy.downloadermiddlewares.robotstxt",
    "scrapy.core.scraper",
)


class _LibraryFilter(logging.Filter):
    """Drops library chatter by name. A handler filter, because Scrapy resets its loggers' levels when it starts."""

    def __init__(self, verbosity: int) -> None:
        super().__init__()
        self.verbosity = verbosity

    def filter(self, record: logging.LogRecord) -> bool:
        if self.verbosity >= 2:
            return True
        name = record.name
        if any(name == lib or name.startswith(lib + ".") for lib in _EXPECTED_FAILURES):
            return False
        if any(name == lib or name.startswith(lib + ".") for lib in _LIBRARIES):
            return record.levelno >= logging.WARNING
        return True


class JsonLines(logging.Formatter):
    """One JSON object per record (time in UTC, level, logger, message, and the traceback if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(verbosity: int = 0, json_lines: bool = False) -> None:
    """Send log records to stderr: 0 warnings only, 1 (-v) newsmon at INFO, 2 (-vv) everything at DEBUG."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    text = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    handler.setFormatter(JsonLines() if json_lines else text)
    handler.addFilter(_LibraryFilter(verbosity))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def scrapy_level(verbosity: int) -> str:
    return "DEBUG" if verbosity >= 2 else "INFO" if verbosity == 1 else "WARNING"
