"""Full-text search on SQLite FTS5 and PostgreSQL: the rule language, ranking, filters, hostile queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from alerts.matching import RuleSet, RuleSpec, StoryText
from alerts.query import MAX_NESTING, MAX_QUERY_LENGTH, MAX_TERMS, QueryError
from alerts.search import search
from db.models import Story
from db.search import Filters, Sort
from db.sources import sync_sources
from db.storage import store_article
from newsmon.config import SourceConfig
from tests.factories import make_article
from tests.odd_queries import ODD_QUERIES
from tests.servers import filler

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
STORIES = [
    # (source, language, days ago, title, text)
    ("wire", "en", 1, "Security guarantees for Kyiv on the table in Geneva",
     "Negotiators discussed security guarantees and a ceasefire along the front line."),
    ("wire", "en", 2, "Ceasefire talks stall",
     "The talks stalled over territory; security was mentioned only in passing, guarantees not at all."),
    ("paper", "uk", 3, "Зеленський: гарантії безпеки — головне питання",
     "Президент Зеленський заявив, що гарантії безпеки є головним питанням переговорів у Женеві."),
    ("paper", "de", 4, "Selenskyj in Łódź",
     "Der Präsident traf in Łódź Vertreter der polnischen Regierung; ZELENSKYY sprach über Sicherheit."),
    ("daily", "en", 9, "Football: cup final tonight",
     "The ceasefire in the stadium between rival fans held, police said of the cup final."),
]


@pytest.fixture
def archive(engine: Engine) -> Engine:
    with Session(engine) as session, session.begin():
        ids = sync_sources(session, [SourceConfig(name=n, feed=f"https://{n}.example/rss") for n in
                                     ("wire", "paper", "daily")], NOW)
        for index, (source, language, days, title, body) in enumerate(STORIES):
            url = f"https://{source}.example/{index}"
            article = make_article(url=url, urls=(url,), title=title, text=f"{body} {filler(index)}", source=source,
                                   language=language, published_at=NOW - timedelta(days=days))
            store_article(session, article, ids[source], NOW)
    return engine


def titles(engine: Engine, query: str, filters: Filters = Filters(), sort: Sort = Sort.RELEVANCE) -> list[str]:
    with Session(engine) as session:
        return [hit.story.title for hit in search(session, query, filters, sort)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"security guarantees"', ["Security guarantees for Kyiv on the table in Geneva"]),
        ("ceasefire NOT football", ["Security guarantees for Kyiv on the table in Geneva", "Ceasefire talks stall"]),
        ("title:ceasefire", ["Ceasefire talks stall"]),
        ("zelenskyy OR Зеленськ*", ["Зеленський: гарантії безпеки — головне питання", "Selenskyj in Łódź"]),
        ("lodz", ["Selenskyj in Łódź"]),  # accents and strokes folded, as in rules
        ("Женев*", ["Зеленський: гарантії безпеки — головне питання"]),
        ("Kyivstar", []),  # whole words only
    ],
)
def test_queries_in_the_rule_language(archive: Engine, query: str, expected: list[str]) -> None:
    assert sorted(titles(archive, query)) == sorted(expected)


def test_a_title_match_ranks_first_and_newest_sorts_by_date(archive: Engine) -> None:
    assert titles(archive, "ceasefire")[0] == "Ceasefire talks stall"  # in the title
    assert titles(archive, "ceasefire", sort=Sort.NEWEST) == [
        "Security guarantees for Kyiv on the table in Geneva", "Ceasefire talks stall", "Football: cup final tonight"
    ]


def test_filters_by_date_source_language_and_cluster(archive: Engine) -> None:
    recent = titles(archive, "ceasefire", Filters(since=NOW - timedelta(days=5)), Sort.NEWEST)
    assert recent == ["Security guarantees for Kyiv on the table in Geneva", "Ceasefire talks stall"]
    assert titles(archive, "ceasefire", Filters(until=NOW - timedelta(days=5))) == ["Football: cup final tonight"]
    assert titles(archive, "zelenskyy OR Зеленськ*", Filters(source="paper", language="uk")) == [
        "Зеленський: гарантії безпеки — головне питання"
    ]
    with Session(archive) as session:
        story = session.query(Story).filter(Story.title == "Ceasefire talks stall").one()
        cluster = story.cluster_id
    assert titles(archive, "ceasefire", Filters(cluster_id=cluster)) == ["Ceasefire talks stall"]


@pytest.mark.parametrize(("query", "error"), ODD_QUERIES, ids=[query for query, _ in ODD_QUERIES])
def test_odd_queries_give_results_or_a_one_line_error(archive: Engine, query: str, error: str | None) -> None:
    if error is None:
        assert titles(archive, query) == []
    else:
        with pytest.raises(QueryError) as raised:
            titles(archive, query)
        assert str(raised.value) == error
    assert len(titles(archive, "ceasefire")) == 3  # and the archive is intact


@pytest.mark.parametrize(
    "query",
    ["guarantees", "security AND guarantees", '"security guarantees" OR Женев*', "text:security NOT title:security",
     "(ceasefire OR talks) NOT (football OR cup)", "президент*", "sicherheit OR lodz", "title:(ceasefire OR kyiv)",
     "NOT NOT ceasefire", "NOT (NOT security OR NOT guarantees)", "ceasefire NOT (NOT talks AND NOT kyiv)",
     "NOT (NOT ceasefire AND football) ceasefire", "talks NOT NOT NOT football"],
)
def test_search_and_the_alert_matcher_agree_on_every_story(archive: Engine, query: str) -> None:
    matcher = RuleSet([RuleSpec("q", query)])
    with Session(archive) as session:
        everything = session.query(Story).all()
        expected = {s.title for s in everything if matcher.match(StoryText(s.title, s.text, s.source.name, s.language))}
    assert set(titles(archive, query)) == expected


def test_not_not_is_the_term_itself(archive: Engine) -> None:
    assert titles(archive, "NOT NOT ceasefire") == titles(archive, "ceasefire")
    assert titles(archive, "NOT (NOT security OR NOT guarantees)") == titles(archive, "security guarantees")


@pytest.mark.parametrize(
    "query",
    [
        # the deepest shape: every ( opens an OR inside an AND, two levels of the index's expression each
        "ceasefire OR " + "".join(f"x{n} OR y{n} (" for n in range(MAX_NESTING)) + "z" + ")" * MAX_NESTING,
        " OR ".join(["ceasefire", *(f"w{n}" for n in range(MAX_TERMS - 1))]),
        " ".join(["ceasefire", *(f"NOT w{n}" for n in range(MAX_TERMS - 1))]),
        '"' + " ".join(["w"] * ((MAX_QUERY_LENGTH - 20) // 2)) + '" OR ceasefire',
    ],
)
def test_a_query_at_the_limits_runs_on_the_index(archive: Engine, query: str) -> None:
    assert len(query) <= MAX_QUERY_LENGTH
    expected = ["Security guarantees for Kyiv on the table in Geneva", "Ceasefire talks stall",
                "Football: cup final tonight"]
    assert titles(archive, query, sort=Sort.NEWEST) == expected
    assert titles(archive, query, Filters(source="wire"), Sort.RELEVANCE) == expected[:2][::-1]
