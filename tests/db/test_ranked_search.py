"""PostgreSQL search ranked by its RUM index (migration 0013), and the same answers where the server has no RUM."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from alerts.search import search
from db.search import RANKED_INDEX, SEARCH_COLUMN, SEARCH_INDEX, Filters, Sort, has_ranked_index
from db.session import open_database
from db.sources import sync_sources
from db.storage import store_article
from newsmon.config import SourceConfig
from tests.conftest import run_newsmon, write_config
from tests.factories import make_article
from tests.servers import filler

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
# (title, text): the term in the headline and often, in the text often, once, in a long text once.
STORIES = [
    ("Ceasefire holds in the east", "The ceasefire held overnight; the ceasefire line was quiet, ceasefire monitors said."),
    ("Talks in Geneva", "Delegates spoke of a ceasefire, a ceasefire line and ceasefire monitors for the east."),
    ("Grain exports", "Ships left Odesa; a ceasefire was not discussed."),
    ("Energy prices", f"{filler(7, 300)} A ceasefire was mentioned once."),
    ("Football", "The cup final was played tonight."),
]


@pytest.fixture
def archive(postgres_url: str) -> Iterator[str]:
    engine = open_database(postgres_url)
    with Session(engine) as session, session.begin():
        source_id = sync_sources(session, [SourceConfig(name="wire", feed="https://wire.example/rss")], NOW)["wire"]
        for index, (title, body) in enumerate(STORIES):
            url = f"https://wire.example/{index}"
            article = make_article(url=url, urls=(url,), title=title, text=body, source="wire", language="en",
                                   published_at=NOW - timedelta(days=index))
            store_article(session, article, source_id, NOW)
    engine.dispose()
    yield postgres_url


def ranked_titles(url: str, query: str = "ceasefire", sort: Sort = Sort.RELEVANCE) -> tuple[bool, list[str]]:
    engine = open_database(url)
    try:
        with Session(engine) as session:
            return has_ranked_index(session), [hit.story.title for hit in search(session, query, Filters(), sort)]
    finally:
        engine.dispose()


def plan(engine: Engine, query: str) -> str:
    statement = (f"EXPLAIN SELECT id FROM stories WHERE {SEARCH_COLUMN} @@ to_tsquery('simple', :q) "
                 f"ORDER BY {SEARCH_COLUMN} <=> to_tsquery('simple', :q) LIMIT 20")
    with engine.connect() as connection:
        connection.execute(text("SET enable_seqscan = off"))  # five rows: make the planner show what it can use
        return "\n".join(row[0] for row in connection.execute(text(statement), {"q": query}))


def test_the_index_ranks_the_stories_that_say_it_most_first(archive: str) -> None:
    ranked, found = ranked_titles(archive)
    if not ranked:
        pytest.skip("this PostgreSQL has no rum extension (apt install postgresql-<version>-rum; .ci/run installs it)")
    assert found[:2] == ["Ceasefire holds in the east", "Talks in Geneva"]
    assert set(found) == {"Ceasefire holds in the east", "Talks in Geneva", "Grain exports", "Energy prices"}
    engine = open_database(archive)
    try:
        assert f"Index Scan using {RANKED_INDEX}" in plan(engine, "ceasefire")
        with engine.connect() as connection:
            indexes = set(connection.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'stories'"))
                          .scalars())
        assert RANKED_INDEX in indexes and SEARCH_INDEX not in indexes  # one full-text index, not two
    finally:
        engine.dispose()


def test_without_rum_the_gin_index_gives_the_same_answers(archive: str) -> None:
    ranked, with_rum = ranked_titles(archive)
    if not ranked:
        pytest.skip("this PostgreSQL has no rum extension (apt install postgresql-<version>-rum; .ci/run installs it)")
    _, newest_with_rum = ranked_titles(archive, sort=Sort.NEWEST)
    engine = open_database(archive)
    with engine.begin() as connection:  # what migration 0013 leaves on a server without the extension
        connection.execute(text(f"CREATE INDEX {SEARCH_INDEX} ON stories USING gin ({SEARCH_COLUMN})"))
        connection.execute(text(f"DROP INDEX {RANKED_INDEX}"))
    engine.dispose()
    ranked, without = ranked_titles(archive)
    assert ranked is False
    assert without[:2] == with_rum[:2] and set(without) == set(with_rum)
    assert ranked_titles(archive, sort=Sort.NEWEST)[1] == newest_with_rum
    assert ranked_titles(archive, "title:ceasefire")[1] == ["Ceasefire holds in the east"]


def test_db_upgrade_gives_an_archive_migrated_without_rum_its_ranked_index(archive: str, tmp_path: Path) -> None:
    """rum installed after the archive was migrated: `newsmon db upgrade` builds the index it would have had."""
    if not ranked_titles(archive)[0]:
        pytest.skip("this PostgreSQL has no rum extension (apt install postgresql-<version>-rum; .ci/run installs it)")
    engine = open_database(archive)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE INDEX {SEARCH_INDEX} ON stories USING gin ({SEARCH_COLUMN})"))
        connection.execute(text(f"DROP INDEX {RANKED_INDEX}"))
    engine.dispose()
    assert ranked_titles(archive)[0] is False
    config = write_config(tmp_path / "config.yaml", archive, [{"name": "wire", "feed": "https://wire.example/rss"}])
    result = run_newsmon("--config", str(config), "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "without the RUM index" not in result.stdout
    ranked, found = ranked_titles(archive)
    assert ranked is True and found[:2] == ["Ceasefire holds in the east", "Talks in Geneva"]
