"""Plain functions that return real objects for tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from alerts.outbox import AlertPlan, record_matches
from crawler.extract import Article, content_hash
from db.models import Story
from db.sources import sync_sources
from db.storage import StoreOutcome, store_article
from newsmon.config import RuleConfig, SourceConfig

LOREM = (
    "Negotiators met again on Tuesday to discuss the proposed ceasefire and the exchange of prisoners, "
    "officials said, as both delegations weighed security guarantees for the months ahead."
)


def make_article(**overrides: Any) -> Article:
    """An Article; without a ``text``, one of LOREM's words in an order of its own (per URL and title), so that
    two articles are different stories to near-duplicate clustering unless a test gives them one text."""
    url = overrides.pop("url", "https://news.example.org/world/2026/11/24/talks-resume")
    title = overrides.get("title", "A story")
    words = LOREM.split()
    random.Random(f"{url} {title}").shuffle(words)
    text = overrides.pop("text", f"{' '.join(words)} {title}")
    values: dict[str, Any] = {
        "url": url,
        "urls": (url,),
        "source": "example",
        "title": "Talks resume",
        "text": text,
        "author": "A. Reporter",
        "site_name": "Example News",
        "language": "en",
        "published_at": datetime(2026, 11, 24, 8, 30, tzinfo=UTC),
        "content_hash": content_hash(text),
    }
    values.update(overrides)
    return Article(**values)


def alert_plan(*rules: dict[str, Any]) -> AlertPlan:
    """The compiled rules of a config's ``rules:`` entries, alerting on stories of any age (make_article's date is
    fixed; freshness has tests of its own)."""
    return AlertPlan.from_rules([RuleConfig(**rule) for rule in rules], max_age=timedelta(days=36500))


def store_matched(sessions: sessionmaker[Session], plan: AlertPlan, now: datetime, **article: Any) -> int:
    """Store one story of source ``wire`` and match it in one transaction, as the crawl's StorePipeline does;
    returns its id."""
    with sessions.begin() as session:
        source_id = sync_sources(session, [SourceConfig(name="wire", feed="https://wire.example/rss")], now)["wire"]
        outcome, story_id = store_article(session, make_article(**article), source_id, now)
        if outcome is StoreOutcome.NEW:
            story = session.get(Story, story_id)
            assert story is not None
            record_matches(session, story, plan, now)
    return story_id


def queue_alerts(sessions: sessionmaker[Session], plan: AlertPlan, count: int, now: datetime, word: str) -> None:
    """``count`` different stories naming ``word``, each stored and matched (an alert queued per channel)."""
    for number in range(count):
        url = f"https://wire.example/{word.lower()}/{number}"
        store_matched(sessions, plan, now, url=url, urls=(url,), title=f"{word} report {number}",
                      text=f"{word} {' '.join(random.Random(number).sample(LOREM.split(), 20))} {number}")
