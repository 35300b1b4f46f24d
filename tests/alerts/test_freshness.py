"""Only news alerts: a first crawl's years-old backlog sends nothing, and `alerts test` decides every story
exactly as alerting did (sent, too old, already alerted for its cluster, excluded), through a real crawl and a
real webhook."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import OutboxMessage, RuleMatch
from db.session import make_engine
from tests.conftest import run_newsmon, write_config
from tests.servers import Outlet, Webhook, article_page, filler, rfc822, rss

TALKS = [
    "Negotiators met in Geneva on Sunday and agreed to extend the ceasefire along the front line by a month.",
    "Officials from both delegations said the monitoring mission would report to the foreign ministers.",
]


def _serve(outlet: Outlet, stories: list[tuple[str, str, list[str], datetime]],
           listed: dict[str, datetime] | None = None) -> None:
    """Pages with their own publication date, in a feed that gives the same date (or ``listed``'s, by slug)."""
    items = []
    for slug, title, paragraphs, published in stories:
        url = outlet.add(f"/world/{published:%Y/%m/%d}/{slug}", article_page(title, paragraphs,
                                                                            published=published.isoformat()))
        items.append({"title": title, "link": url, "pubDate": rfc822((listed or {}).get(slug, published))})
    outlet.add("/feed.xml", rss(items), content_type="application/rss+xml")


def test_a_backlog_sends_nothing_old_and_the_backtest_decides_as_alerting_did(
    tmp_path: Path, database_url: str, outlet: Outlet, webhook: Webhook
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    fresh = now - timedelta(hours=3)
    story = [*TALKS, filler("talks")]
    _serve(outlet, [
        ("ceasefire-extended", "Ceasefire extended by a month", story, fresh),
        ("ceasefire-extended-copy", "Truce extended, delegations say", [*story, "An editor's note was added."],
         fresh + timedelta(minutes=20)),
        ("football-ceasefire", "Football: a ceasefire between fans", [*TALKS[:1], filler("football")], fresh),
        ("old-ceasefire-2019", "Ceasefire talks in 2019", [*TALKS, filler("2019")], datetime(2019, 5, 1, tzinfo=UTC)),
        ("old-ceasefire-last-week", "Ceasefire talks last week", [*TALKS, filler("week")], now - timedelta(days=8)),
    ])
    rules = [{"name": "ceasefire", "query": "ceasefire", "exclude": "football", "notify": ["chat"]}]
    config = write_config(tmp_path / "config.yaml", database_url, [{"name": "w", "feed": outlet.url("/feed.xml")}],
                          channels={"chat": webhook.url}, rules=rules, alerts={})  # the default max_age, 2d

    crawled = run_newsmon("--config", str(config), "crawl", "--format", "json")

    assert crawled.returncode == 0, crawled.stderr
    assert json.loads(crawled.stdout)["totals"]["new"] == 5
    # One alert for the two copies: for whichever of them two extraction workers stored first.
    copies = {"Ceasefire extended by a month", "Truce extended, delegations say"}
    alerted = [str(m["message"]).split("\n", 1)[0] for m in webhook.received]
    assert len(alerted) == 1 and alerted[0] in copies, alerted
    (other,) = copies - {alerted[0]}
    engine = make_engine(database_url)
    with Session(engine) as session:
        sent = set(session.scalars(select(OutboxMessage.story_id)))
        matched = set(session.scalars(select(RuleMatch.story_id)))
    engine.dispose()
    assert len(sent) == 1 and len(matched) == 4  # the old stories are matched, searchable, never sent

    tested = run_newsmon("--config", str(config), "alerts", "test", "ceasefire", "--since", "3650d", "--format", "json")

    assert tested.returncode == 0, tested.stderr
    verdicts = {record["title"]: record["verdict"] for record in json.loads(tested.stdout)}
    assert verdicts == {
        alerted[0]: "sent",
        other: "already alerted for its cluster",
        "Football: a ceasefire between fans": "excluded",
        "Ceasefire talks in 2019": "too old",
        "Ceasefire talks last week": "too old",
    }
    assert {r["id"] for r in json.loads(tested.stdout) if r["verdict"] == "sent"} == sent  # as alerting did
    table = run_newsmon("--config", str(config), "alerts", "test", "ceasefire", "--since", "3650d")
    assert "5 stories matched since" in table.stderr
    assert "1 would have alerted chat; 2 too old, 1 already alerted for its cluster, 1 excluded" in table.stderr


def test_a_rule_can_allow_older_stories(tmp_path: Path, database_url: str, outlet: Outlet, webhook: Webhook) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    _serve(outlet, [("weekly", "Ceasefire review of the week", [*TALKS, filler("weekly")], now - timedelta(days=5))])
    rules = [{"name": "weekly", "query": "ceasefire", "notify": ["chat"], "max_age": "7d"},
             {"name": "daily", "query": "ceasefire", "notify": ["chat"]}]
    config = write_config(tmp_path / "config.yaml", database_url, [{"name": "w", "feed": outlet.url("/feed.xml")}],
                          channels={"chat": webhook.url}, rules=rules, alerts={})

    crawled = run_newsmon("--config", str(config), "crawl", "--format", "json")

    assert crawled.returncode == 0, crawled.stderr
    assert [m["title"] for m in webhook.received] == ["newsmon: weekly: Ceasefire review of the week"]  # not daily


def test_an_old_page_that_its_listing_brings_up_as_new_alerts(
    tmp_path: Path, database_url: str, outlet: Outlet, webhook: Webhook
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    _serve(outlet, [("ceasefire-explainer", "What the ceasefire means", [*TALKS, filler("explainer")],
                     datetime(2022, 3, 1, tzinfo=UTC)),
                    ("ceasefire-archive", "Ceasefire talks, from the archive", [*TALKS, filler("archive")],
                     datetime(2022, 3, 2, tzinfo=UTC))],
           listed={"ceasefire-explainer": now - timedelta(hours=1)})  # the feed republishes the explainer today
    rules = [{"name": "ceasefire", "query": "ceasefire", "notify": ["chat"]}]
    config = write_config(tmp_path / "config.yaml", database_url, [{"name": "w", "feed": outlet.url("/feed.xml")}],
                          channels={"chat": webhook.url}, rules=rules, alerts={})

    crawled = run_newsmon("--config", str(config), "crawl", "--format", "json")

    assert crawled.returncode == 0, crawled.stderr
    assert [str(m["message"]).split("\n", 1)[0] for m in webhook.received] == ["What the ceasefire means"]
    tested = run_newsmon("--config", str(config), "alerts", "test", "ceasefire", "--since", "3650d", "--format", "json")
    assert {r["title"]: r["verdict"] for r in json.loads(tested.stdout)} == {
        "What the ceasefire means": "sent", "Ceasefire talks, from the archive": "too old"}
