"""Surge alerts: one alert when enough outlets (in enough languages) report a rule's stories within its window,
listing every outlet's first report; nothing more until the window has passed with fewer. A real receiver, the
test's clock, both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from alerts.delivery import deliver_pending
from alerts.payload import AlertPayload
from db.session import session_factory
from tests.factories import alert_plan, store_matched
from tests.servers import Webhook, filler

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
RULE = {"name": "putin", "query": "Putin", "notify": ["chat"], "surge": {"outlets": 3, "within": "2h", "languages": 2}}
REPORTS = [  # (minutes after NOW, outlet, language, text): the same news, told by each outlet in its words
    (0, "Kyiv Daily", "uk", "Путін заявив про готовність до переговорів."),
    (10, "Moscow Wire", "ru", "Путин заявил о готовности к переговорам."),
    (20, "Berlin Post", "de", "Putin erklärte sich zu Verhandlungen bereit."),
    (30, "Paris Soir", "fr", "Poutine s'est dit prêt à négocier."),
]


def _report(sessions: object, plan: object, minutes: int, outlet: str, language: str, text: str) -> None:
    at = NOW + timedelta(minutes=minutes)
    url = f"https://{outlet.split()[0].lower()}.example/{minutes}"
    store_matched(sessions, plan, at, url=url, urls=(url,), title=f"{outlet}: {text[:30]}",  # type: ignore[arg-type]
                  text=f"{text} {filler(f'{outlet} {minutes}')}", site_name=outlet, language=language, published_at=at)


def test_a_surge_fires_once_with_every_outlet_and_again_only_after_a_quiet_window(engine: Engine) -> None:
    sessions = session_factory(engine)
    plan = alert_plan(RULE)
    with Webhook() as chat, Webhook(path="/json") as hook:
        host, port = hook.server.server_address[:2]
        channels = {"chat": chat.url}
        for minutes, outlet, language, text in REPORTS[:2]:
            _report(sessions, plan, minutes, outlet, language, text)
        deliver_pending(sessions, channels, plan, now=NOW + timedelta(minutes=15))
        assert [m["title"] for m in chat.received if "surge" in str(m["title"])] == []  # two outlets: no surge yet

        _report(sessions, plan, *REPORTS[2])  # the third outlet, the third language
        deliver_pending(sessions, channels, plan, now=NOW + timedelta(minutes=25))
        surges = [m for m in chat.received if "surge" in str(m["title"])]
        assert [m["title"] for m in surges] == ["newsmon surge: putin: 3 outlets in 3 languages within 2h"]
        lines = str(surges[0]["message"]).splitlines()
        assert [line.split(": ", 1)[0] for line in lines if line.startswith("•")] == [
            "• 2026-12-07 08:00 UTC Kyiv Daily (uk)", "• 2026-12-07 08:10 UTC Moscow Wire (ru)",
            "• 2026-12-07 08:20 UTC Berlin Post (de)"]  # first report first, with its headline and link
        assert "https://kyiv.example/0" in str(surges[0]["message"])
        assert len(chat.received) == 4  # the three stories' own alerts too: surges are counted on stories

        _report(sessions, plan, *REPORTS[3])  # the surge goes on: no second surge alert
        deliver_pending(sessions, channels, plan, now=NOW + timedelta(minutes=35))
        assert len([m for m in chat.received if "surge" in str(m["title"])]) == 1

        # Hours later one outlet alone: the window has fewer, the rule is re-armed; three more fire again,
        # this time to a native webhook too, whose payload lists the stories.
        plan_json = alert_plan({**RULE, "notify": ["chat", "json"]})
        channels["json"] = f"webhook+http://{host}:{port}/json"
        later = 300
        for offset, (_minutes, outlet, language, text) in enumerate(REPORTS[:3]):
            _report(sessions, plan_json, later + offset, outlet, language, text)
            deliver_pending(sessions, channels, plan_json, now=NOW + timedelta(minutes=later + offset + 1))
        assert len([m for m in chat.received if "surge" in str(m["title"])]) == 2
        (surge_payload,) = [AlertPayload.model_validate(a.body) for a in hook.arrivals if a.body.get("kind") == "surge"]
        assert [s.outlet for s in surge_payload.stories] == ["Kyiv Daily", "Moscow Wire", "Berlin Post"]


def test_a_surge_needs_its_languages(engine: Engine, webhook: Webhook) -> None:
    sessions = session_factory(engine)
    plan = alert_plan({**RULE, "surge": {"outlets": 2, "within": "2h", "languages": 2}})
    for minutes, outlet in ((0, "Wire One"), (5, "Wire Two"), (10, "Wire Three")):
        _report(sessions, plan, minutes, outlet, "en", "Putin said he was ready to negotiate.")
    deliver_pending(sessions, {"chat": webhook.url}, plan, now=NOW + timedelta(minutes=15))
    assert not [m for m in webhook.received if "surge" in str(m["title"])]  # three outlets, one language
