"""The evidence in the message: rules and headline in the subject, the words that fired marked in the snippet,
outlet, language, time, the cluster's other outlets, the link to newsmon; and newsmon's own JSON webhook, whose
payload validates against its documented model; with a real SMTP server and a real receiver, on both databases."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from alerts.delivery import deliver_pending
from alerts.payload import AlertPayload, StoryEntry
from db.session import session_factory
from tests.conftest import REPO, Mailbox
from tests.factories import alert_plan, store_matched
from tests.servers import Webhook, filler

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
TEXT = (filler("opening", 60) + " Overnight, Путина called the talks useful, and the Kremlin said a second round would"
        " follow in Geneva. " + filler("closing", 60))


def _native(webhook: Webhook) -> str:
    host, port = webhook.server.server_address[:2]
    return f"webhook+http://{host}:{port}{webhook.path}"


def test_an_alert_carries_its_evidence_by_email_chat_and_json_webhook(
    engine: Engine, mailbox: Mailbox, webhook: Webhook
) -> None:
    sessions = session_factory(engine)
    plan = replace(alert_plan({"name": "putin", "query": "Putin", "notify": ["email", "chat", "json"]}),
                   base_url="https://newsmon.example.org/")
    first = store_matched(sessions, plan, NOW, url="https://kyiv.example/a", urls=("https://kyiv.example/a",),
                          title="Talks: a second round in Geneva", text=TEXT, site_name="Kyiv Daily", language="ru",
                          published_at=NOW)
    store_matched(sessions, plan, NOW, url="https://wire.example/b", urls=("https://wire.example/b",),
                  title="Second round of talks", text=TEXT + " An editor's note.", site_name="Wire Service",
                  published_at=NOW)  # a copy: the cluster's second outlet, no second alert
    with Webhook(path="/chat") as chat:
        channels = {"email": mailbox.url(), "chat": chat.url, "json": _native(webhook)}
        report = deliver_pending(sessions, channels, plan, now=NOW)

        assert (report.sent, report.failed) == (3, 0)
        (message,) = chat.received
    mail = mailbox.messages[0]
    assert mail["Subject"] == "[newsmon] putin: Talks: a second round in Geneva"
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "<mark>Путина</mark>" in html  # the word that fired, in the snippet, marked
    assert "Kyiv Daily · ru · 2026-12-07 09:00 UTC · also at 1 outlet (Wire Service)" in html
    assert f'href="https://newsmon.example.org/stories/{first}"' in html
    assert "Matched: putin (Putin, as Путина)" in html

    assert message["title"] == "newsmon: putin: Talks: a second round in Geneva"
    text = str(message["message"])
    assert "«Путина»" in text and f"In newsmon: https://newsmon.example.org/stories/{first}" in text

    (arrival,) = webhook.arrivals
    body = AlertPayload.model_validate(arrival.body)  # the documented model, extra fields forbidden
    assert arrival.headers["Idempotency-Key"] == body.idempotency_key
    assert (body.version, body.kind) == (1, "alert")
    (story,) = body.stories
    assert (story.id, story.url, story.outlet, story.language) == (first, "https://kyiv.example/a", "Kyiv Daily", "ru")
    assert story.rules == ["putin"] and story.matched_as == ["Putin, as Путина"]
    assert story.also_at == ["Wire Service"] and story.cluster_id == first
    assert [story.snippet[start:end] for start, end in story.highlights] == ["Путина"]
    assert story.published == NOW and story.page == f"https://newsmon.example.org/stories/{first}"


def test_a_native_webhook_that_fails_is_retried_with_the_same_key(engine: Engine) -> None:
    sessions = session_factory(engine)
    plan = alert_plan({"name": "putin", "query": "Putin", "notify": ["json"]})
    store_matched(sessions, plan, NOW, text=TEXT, published_at=NOW)
    with Webhook([500, 200]) as hook:
        channels = {"json": _native(hook)}
        failed = deliver_pending(sessions, channels, plan, now=NOW)
        assert (failed.sent, failed.retrying) == (0, 1) and "HTTP 500" in failed.errors[0]
        later = deliver_pending(sessions, channels, plan, now=NOW.replace(hour=10))
        assert later.sent == 1
        assert len(set(hook.keys())) == 1 and len(hook.arrivals) == 2


def test_the_readme_documents_every_field_of_the_payload() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_.\[\]]+)` \| ", readme[readme.index("### The JSON webhook"):], re.M))
    fields = set(AlertPayload.model_fields) | {f"stories[].{name}" for name in StoryEntry.model_fields}
    assert fields <= documented, sorted(fields - documented)
