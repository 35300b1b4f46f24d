"""Delivering the outbox through apprise: claim what is due, send it per channel, record every attempt.

- Each channel is served by its own thread, so a slow or dead channel never holds up the others.
- A claimed message carries a lease (``claimed_until``); a sender that dies leaves it to be claimed again
  when the lease runs out, so nothing is lost. The window for a double send is only between the channel
  accepting a message and our commit of "sent".
- A failed attempt is retried with backoff; after ``MAX_ATTEMPTS`` the message is marked failed and stays
  visible in ``newsmon alerts log``.
"""

from __future__ import annotations

import inspect
import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import apprise
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from alerts.channels import is_email, mask_secrets
from alerts.outbox import AlertPlan
from alerts.query import Term
from alerts.render import (
    Message,
    StoryAlert,
    render_alert,
    render_digest,
    render_followup,
    render_notice,
    snippet,
)
from db.clusters import cluster_copies
from db.models import DeliveryAttempt, OutboxMessage, Story

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)
_BACKOFF = (30, 60, 120, 300, 600, 1800, 3600)  # seconds before attempt 2, 3, ...; then hourly


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=_BACKOFF[min(attempts, len(_BACKOFF)) - 1] if attempts > 0 else 0)


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # one line per failed attempt, secrets masked

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.errors += other.errors


class _Clock:
    """``now`` as given to the run, moving on with the monotonic clock (time is a parameter, for tests too)."""

    def __init__(self, now: datetime) -> None:
        self.at = now
        self.started = time.monotonic()

    def now(self) -> datetime:
        return self.at + timedelta(seconds=time.monotonic() - self.started)


@dataclass(frozen=True, slots=True)
class _Send:
    """One message to one channel, standing for one or more outbox rows (a digest gathers several)."""

    channel: str
    message_ids: tuple[int, ...]
    message: Message


def deliver_pending(
    sessions: sessionmaker[Session],
    channels: dict[str, str],
    plan: AlertPlan,
    now: datetime | None = None,
    deadline: float = 120.0,
) -> DeliveryReport:
    """Send every due outbox message; returns what happened. Never raises for a channel's failure.

    Args:
        channels: channel name -> apprise URL, from the config.
        deadline: seconds after which no new send is started; what is left stays due for the next run.
    """
    now = now or datetime.now(UTC)
    sends = _claim(sessions, channels, plan, now)
    if not sends:
        return DeliveryReport()
    by_channel: dict[str, list[_Send]] = defaultdict(list)
    for send in sends:
        by_channel[send.channel].append(send)
    clock = _Clock(now)
    stop_at = clock.started + deadline
    reports = {name: DeliveryReport() for name in by_channel}
    threads = [
        threading.Thread(
            target=_serve_channel,
            args=(sessions, name, channels.get(name), queue, clock, stop_at, reports[name]),
            name=f"deliver-{name}",
            daemon=True,
        )
        for name, queue in by_channel.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = DeliveryReport()
    for report in reports.values():
        total.add(report)
    logger.info("delivery: %d sent, %d to retry, %d failed", total.sent, total.retrying, total.failed)
    return total


def _claim(
    sessions: sessionmaker[Session], channels: dict[str, str], plan: AlertPlan, now: datetime
) -> list[_Send]:
    """Lease every due message (and every expired lease) and render what to send."""
    terms = plan.shown_terms
    with sessions.begin() as session:
        statement = (
            select(OutboxMessage)
            .where(
                or_(
                    (OutboxMessage.status == "pending") & (OutboxMessage.due_at <= now),
                    (OutboxMessage.status == "sending") & (OutboxMessage.claimed_until < now),
                )
            )
            .order_by(OutboxMessage.id)
        )
        if session.get_bind().dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True, of=OutboxMessage)
        rows = list(session.scalars(statement).unique())
        digests: dict[tuple[str, str], list[OutboxMessage]] = defaultdict(list)
        sends = []
        for row in rows:
            row.status = "sending"
            row.claimed_until = now + LEASE
            url = channels.get(row.channel, "")
            if row.story is None:  # a notice about the service itself, written out when it was queued
                sends.append(_Send(row.channel, (row.id,), render_notice(row.notice or "")))
            elif row.kind == "followup":
                alert = _story_alert(row.story, row.rules.split(","), terms)
                others = [_story_alert(copy, [], terms) for copy in cluster_copies(session, row.story)]
                sends.append(_Send(row.channel, (row.id,), render_followup(alert, others, is_email(url))))
            elif row.digest:
                digests[(row.channel, row.digest)].append(row)
            else:
                alert = _story_alert(row.story, row.rules.split(","), terms)
                sends.append(_Send(row.channel, (row.id,), render_alert(alert, is_email(url))))
        for (channel, rule), members in digests.items():
            alerts = [_story_alert(row.story, [rule], terms) for row in members]
            message = render_digest(rule, alerts, is_email(channels.get(channel, "")))
            sends.append(_Send(channel, tuple(row.id for row in members), message))
    return sends


def _story_alert(story: Story, rules: list[str], terms: dict[str, list[Term]]) -> StoryAlert:
    wanted = [term for rule in rules for term in terms.get(rule, [])]
    return StoryAlert(
        title=story.title,
        outlet=story.site_name or story.source.name,
        url=story.url,
        published_at=story.published_at,
        rules=tuple(rules),
        snippet=snippet(story.text, wanted),
    )


def _serve_channel(
    sessions: sessionmaker[Session],
    name: str,
    url: str | None,
    queue: list[_Send],
    clock: _Clock,
    stop_at: float,
    report: DeliveryReport,
) -> None:
    for index, send in enumerate(queue):
        if time.monotonic() > stop_at:
            _release(sessions, queue[index:])
            return
        started = clock.now()
        if url is None:
            ok, error = False, f"channel {name!r} is no longer in the config"
        else:
            ok, error = _send(url, send.message)
        try:
            _record(sessions, send, ok, error, started, permanent=url is None, report=report)
        except Exception:  # the job boundary of this thread: the lease makes the message due again
            logger.exception("could not record the delivery of outbox %s", send.message_ids)


def _send(url: str, message: Message) -> tuple[bool, str | None]:
    """One apprise notification; apprise reports failure by return value and log lines, which we keep."""
    # Sequential: the send happens in this thread, so the warnings apprise logs for it are ours to keep.
    notifier = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False))
    if not notifier.add(url):
        return False, "apprise does not understand this channel URL"
    with _captured_warnings(url) as lines:
        try:
            ok = notifier.notify(title=message.title, body=message.body, body_format=message.body_format)
        except Exception as exc:  # a plugin bug must not take the delivery run down
            return False, f"{type(exc).__name__}: {exc}"
    if ok:
        return True, None
    return False, mask_secrets(" / ".join(lines[-2:]) or "apprise reported a failure", url)


@contextmanager
def _captured_warnings(url: str) -> Iterator[list[str]]:
    """The warnings apprise logs while it sends to ``url``.

    apprise sends from its own worker threads, so records cannot be told apart by thread; they are told
    apart by the plugin that logged them (the channel's plugin module, or its package for email and the
    like). Two channels of the same kind failing at the same moment may see each other's lines.
    """
    lines: list[str] = []
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    source = inspect.getfile(type(plugin)) if plugin is not None else ""
    folder = os.path.dirname(source)
    scope = folder if os.path.basename(folder) != "plugins" else source

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.INFO and (not scope or record.pathname.startswith(scope)):
                lines.append(" ".join(record.getMessage().split()))

    handler = Handler(level=logging.INFO)
    apprise_logger = logging.getLogger("apprise")
    global _senders, _saved_level
    with _level_lock:
        # Channels send from several threads: the first lowers apprise's level to INFO, the last restores it.
        if _senders == 0:
            _saved_level = apprise_logger.level
            if apprise_logger.getEffectiveLevel() > logging.INFO:
                apprise_logger.setLevel(logging.INFO)
        _senders += 1
        apprise_logger.addHandler(handler)
    try:
        yield lines
    finally:
        with _level_lock:
            apprise_logger.removeHandler(handler)
            _senders -= 1
            if _senders == 0:
                apprise_logger.setLevel(_saved_level)


_level_lock = threading.Lock()
_senders = 0  # sends in progress
_saved_level = logging.NOTSET  # apprise's own level, put back when the last send ends


def _record(
    sessions: sessionmaker[Session],
    send: _Send,
    ok: bool,
    error: str | None,
    at: datetime,
    permanent: bool,
    report: DeliveryReport,
) -> None:
    gave_up = permanent
    with sessions.begin() as session:
        for message_id in send.message_ids:
            row = session.get(OutboxMessage, message_id)
            if row is None:
                continue
            session.add(DeliveryAttempt(message_id=message_id, attempted_at=at, ok=ok, error=error))
            row.attempts += 1
            row.claimed_until = None
            if ok:
                row.status, row.sent_at, row.last_error = "sent", at, None
            elif permanent or row.attempts >= MAX_ATTEMPTS:
                row.status, row.last_error = "failed", error
                gave_up = True
            else:
                row.status, row.last_error = "pending", error
                row.due_at = at + backoff(row.attempts)
    if ok:
        report.sent += 1
    else:
        report.errors.append(f"{send.channel}: {error}")
        if gave_up:
            report.failed += 1
        else:
            report.retrying += 1


def _release(sessions: sessionmaker[Session], sends: list[_Send]) -> None:
    """Give back the lease of messages not attempted before the deadline: they are due again at once."""
    with sessions.begin() as session:
        for send in sends:
            for message_id in send.message_ids:
                row = session.get(OutboxMessage, message_id)
                if row is not None and row.status == "sending":
                    row.status, row.claimed_until = "pending", None
