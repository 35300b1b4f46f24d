"""Quiet hours: a channel's alerts are held through its window and sent as one digest when it ends, in the window's
own time zone across a change of daylight saving time; an urgent rule breaks through. Time is the test's clock
(deliver_pending's ``now``), the receiver a real one, on both databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from alerts.delivery import deliver_pending
from db.session import session_factory
from newsmon.moments import QuietWindow
from tests.conftest import run_newsmon, write_config
from tests.factories import alert_plan, store_matched
from tests.servers import Webhook

# Europe/Kyiv leaves summer time on 2026-10-25 at 04:00 local (01:00 UTC): 07:00 local is 04:00 UTC the day
# before and 05:00 UTC that day.
EVENING = datetime(2026, 10, 24, 20, 30, tzinfo=UTC)  # 23:30 in Kyiv, summer time
KYIV_NIGHTS = QuietWindow.parse("22:00-07:00 Europe/Kyiv")


def _store(sessions: object, plan: object, number: int, text: str) -> None:
    url = f"https://wire.example/{number}"
    store_matched(sessions, plan, EVENING, url=url, urls=(url,), title=f"Report {number}", text=text,  # type: ignore[arg-type]
                  published_at=EVENING)


def test_alerts_are_held_through_the_night_and_sent_as_one_digest_at_its_local_end(
    engine: Engine, webhook: Webhook
) -> None:
    sessions = session_factory(engine)
    plan = replace(alert_plan({"name": "talks", "query": "Geneva", "notify": ["chat"]}), quiet={"chat": KYIV_NIGHTS})
    channels = {"chat": webhook.url}
    _store(sessions, plan, 1, "Delegations met in Geneva on Saturday night.")
    _store(sessions, plan, 2, "A second Geneva meeting was announced, officials said before midnight.")

    assert deliver_pending(sessions, channels, plan, now=EVENING).sent == 0
    # 04:30 UTC is 07:30 by the summer clock, but 06:30 in Kyiv that morning: still night.
    assert deliver_pending(sessions, channels, plan, now=datetime(2026, 10, 25, 4, 30, tzinfo=UTC)).sent == 0
    assert webhook.received == []

    morning = deliver_pending(sessions, channels, plan, now=datetime(2026, 10, 25, 5, 0, tzinfo=UTC))

    assert morning.sent == 1  # one message for the night
    (message,) = webhook.received
    assert message["title"] == "newsmon digest: quiet hours, 2 stories"
    assert "Report 1" in str(message["message"]) and "Report 2" in str(message["message"])
    assert deliver_pending(sessions, channels, plan, now=datetime(2026, 10, 25, 6, 0, tzinfo=UTC)).sent == 0


def test_an_urgent_rule_breaks_through_quiet_hours(engine: Engine, webhook: Webhook) -> None:
    sessions = session_factory(engine)
    plan = replace(alert_plan({"name": "flash", "query": "ceasefire", "notify": ["chat"], "urgent": True},
                              {"name": "talks", "query": "Geneva", "notify": ["chat"]}), quiet={"chat": KYIV_NIGHTS})
    _store(sessions, plan, 1, "A ceasefire was announced at midnight.")
    _store(sessions, plan, 2, "Delegations met in Geneva.")

    report = deliver_pending(sessions, {"chat": webhook.url}, plan, now=EVENING)

    assert report.sent == 1
    assert [m["title"] for m in webhook.received] == ["newsmon: flash: Report 1"]


@pytest.mark.parametrize(
    ("hours", "error"),
    [("22-7", 'not quiet hours: \'22-7\'; write "HH:MM-HH:MM Area/City"'),
     ("22:00-07:00 Mars/Base", "no time zone 'Mars/Base'"), ("08:00-08:00", "start when they end")],
)
def test_quiet_hours_that_do_not_read_are_one_line_in_check(tmp_path: Path, hours: str, error: str) -> None:
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'n.db'}", [],
                          channels={"chat": "json://127.0.0.1:9/hook"}, quiet_hours={"chat": hours, "desk": hours})
    result = run_newsmon("--config", str(config), "check")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert error in result.stderr
    assert "quiet_hours.desk: channel 'desk' is not defined under channels" in result.stderr
