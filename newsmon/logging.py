"""Logging for people: handlers are configured once, here, by the CLI. Secrets never reach a log line."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime

# Libraries that narrate every page at INFO; their warnings still come through.
_LIBRARIES = ("scrapy", "twisted", "apscheduler", "trafilatura", "htmldate", "courlan", "charset_normalizer", "alembic", "py.warnings")
# These log expected failures at ERROR, often with tracebacks: extraction misses on ordinary pages, requests
# that gave up after retries, an unreachable robots.txt. The crawl records each as a one-line problem of
# its source instead, so they are shown only at -vv.
# apprise narrates every send and logs a channel's failure as a warning; the delivery records each failed
# attempt and logs it in one line of its own (channel named, secrets masked).
# APScheduler logs a job that raised with its traceback; the service's listener logs it in one line.
_EXPECTED_FAILURES = (
    "apprise",
    "apscheduler.executors",
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


_secrets: list[str] = []  # longest first, so that a secret containing another is hidden whole
_secrets_lock = threading.Lock()
MASK = "****"


def hide_in_logs(secrets: Iterable[str]) -> None:
    """Mask these strings (passwords, tokens) in every log line from now on, whoever logs it."""
    global _secrets
    with _secrets_lock:
        _secrets = sorted({*_secrets, *(s for s in secrets if s and len(s) >= 4)}, key=len, reverse=True)


def masked(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class _SecretMask(logging.Filter):
    """On the handler, so it sees every record, third-party loggers' included, at every level and format:
    the message, its arguments and its traceback are masked before any formatter sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        message = record.getMessage()
        hidden = masked(message)
        if hidden != message:
            record.msg, record.args = hidden, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = masked(record.exc_text)
        if record.stack_info:
            record.stack_info = masked(record.stack_info)
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
        if record.exc_info or record.exc_text:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(verbosity: int = 0, json_lines: bool = False) -> None:
    """Send log records to stderr: 0 warnings only, 1 (-v) newsmon at INFO, 2 (-vv) everything at DEBUG."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    text = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    handler.setFormatter(JsonLines() if json_lines else text)
    handler.addFilter(_LibraryFilter(verbosity))
    handler.addFilter(_SecretMask())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def scrapy_level(verbosity: int) -> str:
    return "DEBUG" if verbosity >= 2 else "INFO" if verbosity == 1 else "WARNING"
