"""One message to one channel through apprise, with a stable identity and a verdict we can act on.

- **Identity.** Every message carries an identity derived from its outbox row, the same on every retry and
  after a restart: the email's ``Message-ID``, and for HTTP channels (webhooks, chat) an ``Idempotency-Key``
  header and, for JSON webhooks, an ``idempotency_key`` field. A receiver that honours it drops the second
  copy of a message sent again because its first outcome was never recorded (a kill, a full disk).
- **Verdict.** Sent, failed, or *unknown*: a channel that took the message but did not answer in time
  (a read timeout) may have it; it is retried with the same identity.
- **What apprise said.** apprise reports an outcome by return value and log lines. The lines of this send are
  told apart from those of other channels sending at the same moment by a context variable (apprise carries
  the caller's context into its worker thread), never by the logger's name.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from email.utils import make_msgid
from urllib.parse import parse_qsl, urlsplit

import apprise
import apprise.plugins.email.base as apprise_email
import requests

from alerts.channels import is_native_webhook, native_target
from alerts.render import Message
from newsmon.secrets import mask_secrets

# A channel gets this long to answer once it has the message, unless its URL sets apprise's ``rto``.
# apprise's own default (4 s) is shorter than real webhooks take (a receiver that answers in 60 s got the
# same alert on every retry); ``?rto=90`` in the channel URL gives a slower one more.
DEFAULT_READ_TIMEOUT = 30.0


class Verdict(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"  # the message went out but no answer came: it may have arrived


@dataclass(frozen=True, slots=True)
class SendResult:
    verdict: Verdict
    error: str | None = None  # one line, secrets masked

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.SENT


def message_identity(first_id: int, created_at: datetime, rows: int = 1) -> str:
    """The identity of the message that stands for ``rows`` outbox rows from ``first_id`` (a digest has several).

    The row id alone would repeat in another archive; its creation time (to the microsecond) makes it
    unique across archives while staying the same for every attempt at this row.
    """
    micros = int(created_at.timestamp() * 1_000_000)
    return f"newsmon-{first_id}.{micros:x}" + (f"-n{rows}" if rows > 1 else "")


def read_timeout(url: str) -> float:
    """Seconds the channel at ``url`` is given to answer once it has the message."""
    values = dict(parse_qsl(urlsplit(url).query))
    try:
        return float(values["rto"])
    except (KeyError, ValueError):
        return DEFAULT_READ_TIMEOUT


def send(url: str, message: Message, identity: str) -> SendResult:
    """Send ``message`` to the channel at ``url``; never raises."""
    if is_native_webhook(url):
        return _post_payload(url, message, identity)
    plugin = apprise.Apprise.instantiate(url, asset=apprise.AppriseAsset(async_mode=False), suppress_exceptions=True)
    if plugin is None:
        return SendResult(Verdict.FAILED, "apprise does not understand this channel URL")
    plugin.socket_read_timeout = read_timeout(url)
    _stamp(plugin, identity)
    notifier = apprise.Apprise()
    notifier.add(plugin)
    with _capture() as lines, _email_message_id(identity):
        try:
            ok = bool(notifier.notify(title=message.title, body=message.body, body_format=message.body_format))
        except Exception as exc:  # a plugin bug must not take the delivery run down
            return SendResult(Verdict.FAILED, mask_secrets(f"{type(exc).__name__}: {exc}", url))
    if ok:
        return SendResult(Verdict.SENT)
    if any("Read timed out" in text for _level, text in lines):
        timeout = plugin.socket_read_timeout
        return SendResult(Verdict.UNKNOWN, f"no answer within {timeout:g}s after the message was sent "
                                           "(it may have arrived; retried with the same idempotency key)")
    said = [text for level, text in lines if level >= logging.INFO]
    return SendResult(Verdict.FAILED, mask_secrets(" / ".join(said[-2:]) or "apprise reported a failure", url))


def _post_payload(url: str, message: Message, identity: str) -> SendResult:
    """newsmon's own JSON webhook: the message's payload (alerts.payload), its identity in Idempotency-Key."""
    body = message.payload or {"version": 1, "kind": "notice", "idempotency_key": identity, "title": message.title,
                               "text": message.body, "stories": []}
    target = native_target(url)
    try:
        response = requests.post(target, json=body, timeout=(10, read_timeout(url)), allow_redirects=False,
                                 headers={"Idempotency-Key": identity, "User-Agent": "newsmon"})
    except requests.exceptions.ReadTimeout:
        return SendResult(Verdict.UNKNOWN, f"no answer within {read_timeout(url):g}s after the message was sent "
                                           "(it may have arrived; retried with the same idempotency key)")
    except requests.exceptions.RequestException as exc:
        return SendResult(Verdict.FAILED, mask_secrets(f"{type(exc).__name__}: {exc}", url))
    if 200 <= response.status_code < 300:
        return SendResult(Verdict.SENT)
    return SendResult(Verdict.FAILED, f"the webhook answered HTTP {response.status_code}")


def _stamp(plugin: object, identity: str) -> None:
    """Put the identity where the channel's receiver can see it: HTTP header, JSON field."""
    headers = getattr(plugin, "headers", None)
    if isinstance(headers, dict) and not isinstance(plugin, apprise_email.NotifyEmail):
        headers.setdefault("Idempotency-Key", identity)
    extras = getattr(plugin, "payload_extras", None)
    if isinstance(extras, dict):
        extras.setdefault("idempotency_key", identity)


# Email: apprise gives every message a fresh Message-ID (``make_msgid`` in its email plugin) after the headers
# a caller may set, so the identity is put in through that one function, for this send's context only.
_message_ids: contextvars.ContextVar[str | None] = contextvars.ContextVar("newsmon_message_id", default=None)
_original_make_msgid = make_msgid


def _stable_msgid(idstring: str | None = None, domain: str | None = None) -> str:
    identity = _message_ids.get()
    return _original_make_msgid(idstring, domain) if identity is None else email_message_id(identity)


@contextmanager
def _email_message_id(identity: str) -> Iterator[None]:
    token = _message_ids.set(identity)
    try:
        yield
    finally:
        _message_ids.reset(token)


def email_message_id(identity: str) -> str:
    """The ``Message-ID`` header an email with this identity carries."""
    return f"<{identity}@newsmon.invalid>"


# What apprise logs during one send, kept apart from every other send by the context it runs in.
_lines: contextvars.ContextVar[list[tuple[int, str]] | None] = contextvars.ContextVar("newsmon_send_lines",
                                                                                       default=None)
_install_lock = threading.Lock()
_installed = False


class _SendLines(logging.Filter):
    """On apprise's logger: copies each record to the send it belongs to, and lets through to the
    application's handlers only what the logger's configured level would have let through."""

    def __init__(self, passes: int) -> None:
        super().__init__()
        self.passes = passes  # the level apprise's logger had before we opened it to DEBUG (0: inherit)

    def filter(self, record: logging.LogRecord) -> bool:
        lines = _lines.get()
        if lines is not None:
            lines.append((record.levelno, " ".join(record.getMessage().split())))
        threshold = self.passes or logging.getLogger().getEffectiveLevel()
        return record.levelno >= threshold


def _install() -> None:
    """Open apprise's logger to DEBUG once (the timeout that says 'outcome unknown' is a DEBUG line), behind
    a filter that keeps what the application sees as it was."""
    global _installed
    with _install_lock:
        if _installed:
            return
        apprise_email.make_msgid = _stable_msgid
        logger = logging.getLogger("apprise")
        logger.addFilter(_SendLines(logger.level))
        logger.setLevel(logging.DEBUG)
        _installed = True


@contextmanager
def _capture() -> Iterator[list[tuple[int, str]]]:
    _install()
    lines: list[tuple[int, str]] = []
    token = _lines.set(lines)
    try:
        yield lines
    finally:
        _lines.reset(token)
