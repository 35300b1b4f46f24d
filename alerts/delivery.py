"""Delivering the outbox through apprise: claim what is due, send it per channel, record every attempt.

- Each channel is served by its own thread, so a slow or dead channel never holds up the others.
- A claimed message carries a lease (``claimed_until``) and its sender's name (``claimed_by``). A sender that
  dies leaves it to be claimed again: at once when the sender is known dead (its process is gone from this
  host, or its scheduler lock was taken over), else when the lease runs out. Nothing is lost.
- At least once, with a stable identity: a message whose send succeeded but whose "sent" was never committed
  (a kill in between) is sent again, carrying the same identity (``alerts.sending``), so a receiver that
  honours it shows it once.
- A send whose outcome the database will not take (a full disk, a lost connection) is kept in memory and
  recorded as soon as the database takes writes again; until then nothing new is claimed, so a message that
  went out is never sent again because its outcome was lost.
- A failed attempt is retried with backoff; after ``MAX_ATTEMPTS`` the message is marked failed and stays
  visible in ``newsmon alerts log``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from alerts.channels import is_email, is_native_webhook
from alerts.names import matched_names
from alerts.outbox import AlertPlan
from alerts.payload import payload
from alerts.query import Term
from alerts.render import (
    StoryAlert,
    emphasis_for,
    highlights,
    render_alert,
    render_digest,
    render_followup,
    render_notice,
    render_surge,
    snippet,
)
from alerts.sending import Message, SendResult, Verdict, message_identity, read_timeout, send
from alerts.surges import surge_reports
from db.claimants import is_dead_on_this_host, new_claimant
from db.clusters import cluster_copies
from db.models import DeliveryAttempt, OutboxMessage, Story
from db.session import database_error
from newsmon.moments import format_duration

logger = logging.getLogger(__name__)
# The digest an alert held by its channel's quiet hours joins (config quiet_hours): sent when they end.
QUIET_DIGEST = "quiet hours"

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)  # at least; longer when a channel is given longer to answer
_BACKOFF = (30, 60, 120, 300, 600, 1800, 3600)  # seconds before attempt 2, 3, ...; then hourly
SETTLE_FOR = 30.0  # seconds a one-shot delivery keeps trying to record outcomes the database refused


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=_BACKOFF[min(attempts, len(_BACKOFF)) - 1] if attempts > 0 else 0)


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unknown: int = 0  # of retrying: the channel took the message but did not answer
    unrecorded: int = 0  # sent or tried, but the database has not taken the outcome yet (held in memory)
    write_error: str | None = None  # why the database refused a write, one line
    errors: list[str] = field(default_factory=list)  # one line per failed attempt, secrets masked

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.unknown += other.unknown
        self.errors += other.errors
        self.write_error = other.write_error or self.write_error


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
    identity: str


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What became of a claimed send, to be written to the outbox. ``result`` None: never attempted (the run's
    deadline, or the database failing first), so the claim is only given back."""

    send: _Send
    result: SendResult | None
    at: datetime
    permanent: bool = False


class Deliverer:
    """Delivers the outbox for one process, keeping what the database would not take until it does.

    The service keeps one for its whole life; a one-shot command (``newsmon crawl``, ``alerts deliver``) uses
    ``deliver_pending``.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: dict[str, str],
        plan: AlertPlan,
        claimant: str | None = None,
    ) -> None:
        self.sessions = sessions
        self.channels = channels
        self.plan = plan
        self.claimant = claimant or new_claimant()
        self.dead_claimants: set[str] = set()  # senders known dead elsewhere (a lock taken over from them)
        self._unrecorded: list[_Outcome] = []
        self._lock = threading.Lock()

    @property
    def unrecorded(self) -> int:
        """Sends whose outcome the database has not taken yet."""
        with self._lock:
            return sum(1 for outcome in self._unrecorded if outcome.result is not None)

    def deliver(self, now: datetime | None = None, deadline: float = 120.0) -> DeliveryReport:
        """Record what is held, then send every due message; never raises for a channel or the database.

        Args:
            deadline: seconds after which no new send is started; what is left stays due for the next run.
        """
        now = now or datetime.now(UTC)
        report = DeliveryReport()
        if not self.flush(report):
            report.unrecorded = self.unrecorded
            return report  # claim nothing new while the database refuses what we owe it
        try:
            sends = self._claim(now, deadline)
        except SQLAlchemyError as exc:
            report.write_error = database_error(exc)
            logger.warning("delivery: could not claim due alerts: %s", report.write_error)
            return report
        if not sends:
            return report
        by_channel: dict[str, list[_Send]] = defaultdict(list)
        for item in sends:
            by_channel[item.channel].append(item)
        clock = _Clock(now)
        stop_at = clock.started + deadline
        reports = {name: DeliveryReport() for name in by_channel}
        threads = [
            threading.Thread(
                target=self._serve_channel,
                args=(name, self.channels.get(name), queue, clock, stop_at, reports[name]),
                name=f"deliver-{name}",
                daemon=True,
            )
            for name, queue in by_channel.items()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for channel_report in reports.values():
            report.add(channel_report)
        report.unrecorded = self.unrecorded
        logger.info("delivery: %d sent, %d to retry, %d failed", report.sent, report.retrying, report.failed)
        if report.unrecorded:
            logger.warning("delivery: %d outcomes not recorded yet (the database refused: %s); nothing new is "
                           "sent until they are", report.unrecorded, report.write_error)
        return report

    def flush(self, report: DeliveryReport | None = None) -> bool:
        """Write the outcomes held in memory; True when none is left."""
        with self._lock:
            held, self._unrecorded = self._unrecorded, []
        for index, outcome in enumerate(held):
            try:
                self._write(outcome)
            except SQLAlchemyError as exc:
                with self._lock:
                    self._unrecorded[:0] = held[index:]
                if report is not None:
                    report.write_error = database_error(exc)
                return False
        if held:
            logger.info("delivery: recorded %d outcomes the database had refused", len(held))
        return True

    def settle(self, within: float = SETTLE_FOR) -> bool:
        """Keep trying to record held outcomes for up to ``within`` seconds (a one-shot command before it
        exits); True when all were recorded."""
        give_up_at = time.monotonic() + within
        pause = 0.5
        while not self.flush():
            if time.monotonic() + pause > give_up_at:
                logger.warning(
                    "delivery: %d alerts were sent but the database would not record it; they will be sent "
                    "again with the same message identity once their lease runs out", self.unrecorded)
                return False
            time.sleep(pause)
            pause = min(pause * 2, 5.0)
        return True

    def _claim(self, now: datetime, deadline: float) -> list[_Send]:
        """Lease every due message, every expired lease and every message a dead sender held; render them."""
        terms, channels = self.plan.shown_terms, self.channels
        with self.sessions.begin() as session:
            dead = self._dead_senders(session)
            statement = (
                select(OutboxMessage)
                .where(
                    or_(
                        (OutboxMessage.status == "pending") & (OutboxMessage.due_at <= now),
                        (OutboxMessage.status == "sending") & (OutboxMessage.claimed_until < now),
                        (OutboxMessage.status == "sending") & OutboxMessage.claimed_by.in_(dead),
                    )
                )
                .order_by(OutboxMessage.id)
            )
            if session.get_bind().dialect.name == "postgresql":
                statement = statement.with_for_update(skip_locked=True, of=OutboxMessage)
            rows = list(session.scalars(statement).unique())
            taken_back = sum(1 for row in rows if row.status == "sending" and row.claimed_by in dead)
            if taken_back:
                logger.info("delivery: took back %d alerts a stopped sender had in flight (%s); sent again with "
                            "the same identity", taken_back, ", ".join(sorted(dead)))
            until = now + self._lease(deadline)
            digests: dict[tuple[str, str], list[OutboxMessage]] = defaultdict(list)
            sends = []
            for row in rows:
                if row.status == "pending" and self._held(row, now):
                    continue  # the channel's quiet hours: due again when they end
                row.status, row.claimed_until, row.claimed_by = "sending", until, self.claimant
                url = channels.get(row.channel, "")
                identity = message_identity(row.id, row.created_at)
                if row.story is None:  # a notice about the service itself, written out when it was queued
                    message, shown, kind = render_notice(row.notice or ""), [], "notice"
                elif row.kind == "followup":
                    alert = story_alert(session, row.story, row.rules.split(","), terms, self.plan.base_url)
                    others = [story_alert(session, copy, [], terms, self.plan.base_url, with_cluster=False)
                              for copy in cluster_copies(session, row.story)]
                    message, shown, kind = render_followup(alert, others, is_email(url)), [alert, *others], "followup"
                elif row.kind == "surge" and row.rules in self.plan.surges:
                    surge = self.plan.surges[row.rules]
                    shown = [story_alert(session, report.story, [row.rules], terms, self.plan.base_url)
                             for report in surge_reports(session, row.rules, surge, row.created_at)]
                    message, kind = render_surge(row.rules, shown, format_duration(surge.within), is_email(url)), "surge"
                elif row.digest:
                    digests[(row.channel, row.digest)].append(row)
                    continue
                else:
                    alert = story_alert(session, row.story, row.rules.split(","), terms, self.plan.base_url)
                    message, shown, kind = render_alert(alert, is_email(url), emphasis_for(url)), [alert], "alert"
                sends.append(_Send(row.channel, (row.id,), _for_channel(url, message, kind, identity, shown), identity))
            for (channel, rule), members in digests.items():
                alerts = [story_alert(session, row.story, row.rules.split(",") if rule == QUIET_DIGEST else [rule],
                                      terms, self.plan.base_url) for row in members if row.story is not None]
                url = channels.get(channel, "")
                message = render_digest(rule, alerts, is_email(url))
                identity = message_identity(members[0].id, members[0].created_at, len(members))
                message = _for_channel(url, message, "digest", identity, alerts)
                sends.append(_Send(channel, tuple(row.id for row in members), message, identity))
        return sends

    def _held(self, row: OutboxMessage, now: datetime) -> bool:
        """Hold ``row`` when its channel is in quiet hours and none of its rules is urgent: it is due again when
        they end, and an alert joins the channel's one quiet-hours digest (what the window gathered)."""
        window = self.plan.quiet.get(row.channel)
        ends = window.holds_until(now) if window is not None else None
        if ends is None or self.plan.urgent.intersection(row.rules.split(",")):
            return False
        row.due_at = ends
        if row.kind == "alert" and not row.digest and row.story is not None:
            row.digest = QUIET_DIGEST
        return True

    def _dead_senders(self, session: Session) -> list[str]:
        """The senders of messages still marked 'sending' that are known dead."""
        claimants = session.scalars(
            select(OutboxMessage.claimed_by).where(OutboxMessage.status == "sending").distinct()
        )
        return [name for name in claimants if name and name != self.claimant
                and (name in self.dead_claimants or is_dead_on_this_host(name))]

    def _lease(self, deadline: float) -> timedelta:
        """Long enough for the run's last send to be started and answered before anyone else may claim."""
        slowest = max((read_timeout(url) for url in self.channels.values()), default=0.0)
        return max(LEASE, timedelta(seconds=deadline + 2 * slowest + 60))

    def _serve_channel(
        self, name: str, url: str | None, queue: list[_Send], clock: _Clock, stop_at: float,
        report: DeliveryReport,
    ) -> None:
        for index, item in enumerate(queue):
            if time.monotonic() > stop_at:
                self._settle_or_hold([_Outcome(rest, None, clock.now()) for rest in queue[index:]], report)
                return
            started = clock.now()
            if url is None:
                result = SendResult(Verdict.FAILED, f"channel {name!r} is no longer in the config")
            else:
                result = send(url, item.message, item.identity)
            if not self._settle_or_hold([_Outcome(item, result, started, permanent=url is None)], report):
                # The database refuses writes: send nothing more now; the rest are given back once it takes
                # writes again (or claimed again after the lease, by us or by another sender).
                self._hold([_Outcome(rest, None, clock.now()) for rest in queue[index + 1:]])
                return

    def _settle_or_hold(self, outcomes: list[_Outcome], report: DeliveryReport) -> bool:
        """Record ``outcomes`` and count them in ``report``; hold them in memory if the database refuses."""
        for index, outcome in enumerate(outcomes):
            try:
                gave_up = self._write(outcome)
            except SQLAlchemyError as exc:
                report.write_error = database_error(exc)
                logger.warning("delivery: could not record the outcome of %d messages, kept until the database "
                               "takes it: %s", len(outcomes) - index, report.write_error)
                self._hold(outcomes[index:])
                for held in outcomes[index:]:
                    self._count(held, report, gave_up=False)
                return False
            self._count(outcome, report, gave_up)
        return True

    def _hold(self, outcomes: list[_Outcome]) -> None:
        with self._lock:
            self._unrecorded.extend(outcomes)

    @staticmethod
    def _count(outcome: _Outcome, report: DeliveryReport, gave_up: bool) -> None:
        result = outcome.result
        if result is None:
            return
        if result.ok:
            report.sent += 1
            return
        report.errors.append(f"{outcome.send.channel}: {result.error}")
        if result.verdict is Verdict.UNKNOWN:
            report.unknown += 1
        if gave_up:
            report.failed += 1
        else:
            report.retrying += 1

    def _write(self, outcome: _Outcome) -> bool:
        """Record one outcome (or give back an unattempted claim); True when the message was given up.

        Raises:
            SQLAlchemyError: the database refused the write.
        """
        result = outcome.result
        gave_up, retry = outcome.permanent, None
        with self.sessions.begin() as session:
            for message_id in outcome.send.message_ids:
                row = session.get(OutboxMessage, message_id)
                if row is None:
                    continue
                if result is None:
                    if row.status == "sending" and row.claimed_by == self.claimant:
                        row.status, row.claimed_until, row.claimed_by = "pending", None, None
                    continue
                if row.status == "sent":  # recorded already (a flush after a partial write)
                    continue
                session.add(DeliveryAttempt(message_id=message_id, attempted_at=outcome.at, ok=result.ok,
                                            error=result.error))
                row.attempts += 1
                row.claimed_until, row.claimed_by = None, None
                if result.ok:
                    row.status, row.sent_at, row.last_error = "sent", outcome.at, None
                elif outcome.permanent or row.attempts >= MAX_ATTEMPTS:
                    row.status, row.last_error = "failed", result.error
                    gave_up = True
                else:
                    row.status, row.last_error = "pending", result.error
                    row.due_at = outcome.at + backoff(row.attempts)
                    retry = row.attempts
        if result is not None and not result.ok:
            ids = ", ".join(map(str, outcome.send.message_ids))
            then = "given up" if gave_up else f"next attempt in {backoff(retry or 1)}"
            logger.warning("alert %s to %s failed (%s): %s", ids, outcome.send.channel, then, result.error)
        return gave_up


def deliver_pending(
    sessions: sessionmaker[Session],
    channels: dict[str, str],
    plan: AlertPlan,
    now: datetime | None = None,
    deadline: float = 120.0,
) -> DeliveryReport:
    """Send every due outbox message once, for a command that exits afterwards; returns what happened.

    Never raises for a channel's failure or the database's: outcomes the database refuses are retried for
    ``SETTLE_FOR`` seconds before the command gives up on them (they are then sent again, with the same
    identity, once their lease runs out).
    """
    deliverer = Deliverer(sessions, channels, plan)
    report = deliverer.deliver(now, deadline)
    if deliverer.unrecorded and deliverer.settle():
        report.unrecorded = 0
    return report


def story_alert(
    session: Session, story: Story, rules: list[str], terms: dict[str, list[Term]], base_url: str | None = None,
    with_cluster: bool = True,
) -> StoryAlert:
    """What an alert says about ``story``: its snippet centred on the words of ``rules`` that fired (and where
    they are in it), the forms its names were found in, its cluster's other outlets (unless ``with_cluster`` is
    False: a story a follow-up lists as a copy), its page in newsmon."""
    wanted = [term for rule in rules for term in terms.get(rule, [])]
    piece = snippet(story.text, wanted)
    outlet = story.site_name or story.source.name
    copies = cluster_copies(session, story) if with_cluster else []
    others = [copy.site_name or copy.source.name for copy in copies]
    return StoryAlert(
        title=story.title,
        outlet=outlet,
        url=story.url,
        published_at=story.published_at,
        rules=tuple(rules),
        snippet=piece,
        matched_as=tuple(matched_names(wanted, story.title, story.text)),
        marks=tuple(highlights(piece, wanted)),
        story_id=story.id,
        language=story.language,
        cluster_id=story.cluster_id or story.id,
        also_at=tuple(dict.fromkeys(o for o in others if o != outlet)),
        page=f"{base_url.rstrip('/')}/stories/{story.id}" if base_url else None,
    )


def _for_channel(url: str, message: Message, kind: str, identity: str, alerts: list[StoryAlert]) -> Message:
    """The message as the channel at ``url`` takes it: a native JSON webhook also gets the structured payload."""
    if not is_native_webhook(url):
        return message
    return replace(message, payload=payload(kind, identity, message.title, message.body, alerts))
