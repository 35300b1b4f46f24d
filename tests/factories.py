"""Plain functions that return real objects for tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from crawler.extract import Article, content_hash

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
