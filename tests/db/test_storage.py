"""The archive's query functions, with one test body on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from alerts.search import search
from db.models import Base, Story, StoryUrl
from db.search import Filters, is_search_index, newest
from db.session import MIGRATIONS_DIR, current_revision, head_revision, make_engine, upgrade
from db.sources import sync_sources
from db.storage import StoreOutcome, known_urls, store_article
from newsmon.config import SourceConfig
from tests.factories import make_article

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _source_id(session: Session, name: str = "example") -> int:
    return sync_sources(session, [SourceConfig(name=name, feed="https://example.org/feed.xml")], NOW)[name]


def test_migrations_create_exactly_the_models(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": lambda _o, name, type_, *_: not is_search_index(name, type_)}
        )
        assert compare_metadata(context, Base.metadata) == []
    assert upgrade(engine) is False  # a second start applies nothing


def test_the_head_revision_is_alembics_head_of_the_migrations() -> None:
    from alembic.script import ScriptDirectory

    assert head_revision() == ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def test_an_empty_database_has_no_revision(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert current_revision(engine) is None
    assert upgrade(engine) is True
    assert current_revision(engine) == head_revision()


def test_a_new_article_is_stored_with_its_urls(engine: Engine) -> None:
    article = make_article(urls=("https://a.example/x", "https://a.example/x-final"), url="https://a.example/x-final")
    with Session(engine) as session, session.begin():
        outcome, story_id = store_article(session, article, _source_id(session), NOW)
    assert outcome is StoreOutcome.NEW
    with Session(engine) as session:
        story = session.get(Story, story_id)
        assert story is not None
        assert story.title == article.title
        assert story.published_at == article.published_at
        assert story.published_at.tzinfo is not None
        assert story.fetched_at == NOW
        assert sorted(u.url for u in story.urls) == ["https://a.example/x", "https://a.example/x-final"]


def test_the_same_text_under_another_url_is_stored_once_with_both_urls(engine: Engine) -> None:
    original = make_article(url="https://wire.example/story", urls=("https://wire.example/story",))
    copy = make_article(
        url="https://paper.example/world/story",
        urls=("https://paper.example/world/story",),
        title="A different headline on the copy",
        text=original.text.upper().replace(" ", "  "),  # case and spacing do not make it another story
    )
    with Session(engine) as session, session.begin():
        source_id = _source_id(session)
        first, story_id = store_article(session, original, source_id, NOW)
        second, copy_id = store_article(session, copy, source_id, NOW)
        again, again_id = store_article(session, copy, source_id, NOW)
    assert (first, second, again) == (StoreOutcome.NEW, StoreOutcome.DUPLICATE, StoreOutcome.KNOWN)
    assert story_id == copy_id == again_id
    with Session(engine) as session:
        assert session.scalar(select(Story).where(Story.id == story_id)) is not None
        assert len(session.scalars(select(Story)).all()) == 1
        urls = set(session.scalars(select(StoryUrl.url)))
        assert urls == {"https://wire.example/story", "https://paper.example/world/story"}
        assert known_urls(session, ["https://paper.example/world/story", "https://other.example/"]) == {
            "https://paper.example/world/story"
        }


def test_a_changed_page_under_a_stored_url_is_not_a_second_story(engine: Engine) -> None:
    first = make_article(text="First version of the article text about the ceasefire talks in Geneva today.")
    second = make_article(text="Second, updated version of the article text about the ceasefire talks in Geneva.")
    with Session(engine) as session, session.begin():
        source_id = _source_id(session)
        assert store_article(session, first, source_id, NOW)[0] is StoreOutcome.NEW
        assert store_article(session, second, source_id, NOW)[0] is StoreOutcome.KNOWN
    with Session(engine) as session:
        assert len(session.scalars(select(Story)).all()) == 1


def test_sync_sources_follows_the_config(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        ids = sync_sources(session, [SourceConfig(name="a", feed="https://a.example/rss")], NOW)
        moved = sync_sources(session, [SourceConfig(name="a", sitemap="https://a.example/news.xml")], NOW)
    assert ids == moved


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("зеленський", ["uk"]),  # Cyrillic, typed in lower case, stored capitalised
        ("CEASEFIRE", ["en"]),
        ("peace Зеленський", []),  # every word must match
        ("100%", []),  # no wildcard
    ],
)
def test_search_folds_case_in_every_script(engine: Engine, query: str, expected: list[str]) -> None:
    with Session(engine) as session, session.begin():
        source_id = _source_id(session)
        store_article(session, make_article(url="https://e.example/en", urls=("https://e.example/en",),
                                            title="Ceasefire talks", language="en"), source_id, NOW)
        ukrainian = "Зеленський зустрівся з делегацією у Києві, щоб обговорити гарантії безпеки."
        store_article(session, make_article(url="https://e.example/uk", urls=("https://e.example/uk",),
                                            title="Зеленський у Києві", text=ukrainian, language="uk"), source_id, NOW)
    with Session(engine) as session:
        found = [hit.story.language for hit in search(session, query)]
    assert found == expected


def test_search_filters_by_date_and_source(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        a = _source_id(session, "a")
        b = _source_id(session, "b")
        old = make_article(url="https://e.example/old", urls=("https://e.example/old",), title="Old",
                           published_at=NOW - timedelta(days=30))
        new = make_article(url="https://e.example/new", urls=("https://e.example/new",), title="New",
                           published_at=NOW - timedelta(hours=1))
        store_article(session, old, a, NOW)
        store_article(session, new, b, NOW)
    with Session(engine) as session:
        assert [s.title for s in newest(session)] == ["New", "Old"]
        assert [s.title for s in newest(session, Filters(since=NOW - timedelta(days=7)))] == ["New"]
        assert [s.title for s in newest(session, Filters(source="a"))] == ["Old"]


def test_a_copy_with_a_date_fills_the_date_the_first_copy_lacked(engine: Engine) -> None:
    undated = make_article(url="https://paper.example/a", urls=("https://paper.example/a",), published_at=None)
    dated = make_article(url="https://wire.example/a", urls=("https://wire.example/a",), text=undated.text)
    with Session(engine) as session, session.begin():
        source_id = _source_id(session)
        _, story_id = store_article(session, undated, source_id, NOW)
        assert store_article(session, dated, source_id, NOW)[0] is StoreOutcome.DUPLICATE
    with Session(engine) as session:
        story = session.get(Story, story_id)
        assert story is not None and story.published_at == dated.published_at


def test_a_new_version_replaces_the_storys_words_in_the_index(engine: Engine) -> None:
    """SQLite's index keeps no copy of the text (migration 0014): the old version's words are taken out by name."""
    url = "https://e.example/talks"
    first = make_article(url=url, urls=(url,), title="Talks in Geneva", text="Delegates discussed a ceasefire.")
    second = make_article(url=url, urls=(url,), title="Talks in Riyadh", text="Delegates agreed on grain exports.",
                          content_hash="f" * 64, refresh=True)
    with Session(engine) as session, session.begin():
        source_id = _source_id(session)
        store_article(session, first, source_id, NOW)
        assert store_article(session, second, source_id, NOW)[0] is StoreOutcome.UPDATED
    with Session(engine) as session:
        found = {query: [hit.story.title for hit in search(session, query)]
                 for query in ("ceasefire", "geneva", "grain", "riyadh", "delegates")}
    assert found == {"ceasefire": [], "geneva": [], "grain": ["Talks in Riyadh"], "riyadh": ["Talks in Riyadh"],
                     "delegates": ["Talks in Riyadh"]}
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:  # no entry of the old words is left behind
            rows = connection.execute(text("SELECT count(*) FROM stories_fts WHERE stories_fts MATCH 'geneva'"))
            assert rows.scalar() == 0
