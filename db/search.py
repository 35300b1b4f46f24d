"""The archive's full-text index on the database's own engine: writing stories into it, and reading candidates
for an index expression (``alerts.search`` turns a rule-language query into one and checks each candidate).

Stories are indexed as their folded words (newsmon.words.fold_words: no case, no accents, Cyrillic and every
other script as words), so the index and the alert matcher see the same words:
- SQLite: a contentless FTS5 table ``stories_fts`` (rowid = story id; columns title, text; migration 0014)
  with the ``ascii`` tokenizer, which splits the folded text exactly at its spaces. It keeps the words' index
  only, no copy of the text: a story's old words are taken out by giving the index the words it was given;
- PostgreSQL: ``stories.search_vector``, a tsvector of the folded title (weight A) and text (weight B) with
  the ``simple`` configuration, under a RUM index where the server has the ``rum`` extension (migration 0013),
  else a GIN index.
Both are written by the storage layer (``index_story``) in the transaction that stores or updates a story,
and created (and filled for older stories) by migration 0006.

Why RUM: a GIN index finds the matches of a common word among a million stories in milliseconds, but ranking
them with ``ts_rank`` reads every match's tsvector from the table (3 KB each, out of line): 85% of a query's
time, 0.8 s at a million stories. A RUM index keeps the words' positions and weights, so the index itself
returns the matches best first (``<=>``, the inverse of ``ts_rank``) and a query reads only the rows it shows.
Without the extension everything works as before, slower on common words.

Expressions reach SQL only as bound parameters.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, Select, func, literal_column, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from db.models import Source, Story
from newsmon.words import fold_words

SEARCH_TABLE = "stories_fts"
SEARCH_COLUMN = "search_vector"
SEARCH_INDEX = "ix_stories_search_vector"  # GIN, where the server has no RUM
RANKED_INDEX = "ix_stories_search_rum"  # RUM: the index ranks (see above)
_BATCH = 200  # candidates read per round while looking for enough exact matches
# ...but 50 in the first round: most candidates of a query are exact matches, and a page shows 20, so the first
# round usually ends the search (each candidate is a story loaded and checked by the matcher).
_FIRST_BATCH = 50


class Sort(StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"


def is_search_index(name: str | None, type_: str) -> bool:
    """Objects of the search index that the models do not describe (for Alembic's comparisons)."""
    if type_ == "table":
        return bool(name and name.startswith(SEARCH_TABLE))
    return name in (SEARCH_COLUMN, SEARCH_INDEX, RANKED_INDEX)


def rum_installable(connection: Connection) -> tuple[bool, str]:
    """Whether this PostgreSQL can have the RUM index, and if not, why (for the migration's warning)."""
    installed = connection.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'rum'")).first()
    if installed:
        return True, ""
    if not connection.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")).first():
        return False, "the server has no rum extension (Debian: apt install postgresql-<version>-rum)"
    superuser = connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()
    if not superuser:
        return False, "the rum extension is not created and only a superuser can (CREATE EXTENSION rum)"
    return True, ""


def ensure_ranked_index(connection: Connection) -> tuple[bool, str]:
    """On PostgreSQL, give the archive its RUM index in place of the GIN index when the server allows it (the
    migration that introduced it, and `newsmon db upgrade` on an archive migrated before rum was installed).
    Returns (whether the RUM index is there now, why not); on SQLite (True, "") as there is nothing to do."""
    if connection.dialect.name != "postgresql":
        return True, ""
    installable, reason = rum_installable(connection)
    if not installable:
        return False, reason
    connection.execute(text("CREATE EXTENSION IF NOT EXISTS rum"))
    connection.execute(text(
        f"CREATE INDEX IF NOT EXISTS {RANKED_INDEX} ON stories USING rum ({SEARCH_COLUMN} rum_tsvector_ops)"))
    connection.execute(text(f"DROP INDEX IF EXISTS {SEARCH_INDEX}"))  # RUM answers @@ too: one index, not two
    _RANKED.clear()
    return True, ""


_RANKED: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def has_ranked_index(session: Session) -> bool:
    """True when the archive is on PostgreSQL with the RUM index (looked up once per engine)."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if engine not in _RANKED:
        _RANKED[engine] = engine.dialect.name == "postgresql" and session.execute(
            text("SELECT 1 FROM pg_indexes WHERE tablename = 'stories' AND indexname = :name"),
            {"name": RANKED_INDEX},
        ).first() is not None
    return _RANKED[engine]


def index_story(
    session: Session, story_id: int, title: str, body: str, previous: tuple[str, str] | None = None
) -> None:
    """Put a story's words into the search index. ``previous``: the title and text it was indexed with, when its
    text changed (SQLite's contentless table takes a story's words out only when told which they were)."""
    if previous is not None and not is_postgres(session):  # PostgreSQL's UPDATE replaces the tsvector
        old_title, old_body = previous
        session.execute(
            text(f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rowid, title, text) VALUES ('delete', :id, :title, :text)"),
            {"id": story_id, "title": " ".join(fold_words(old_title)), "text": " ".join(fold_words(old_body))},
        )
    index_stories(session, [(story_id, title, body)])


def index_stories(session: Session, stories: list[tuple[int, str, str]], replace: bool = False) -> None:
    """Index many (id, title, text) at once, as the migrations that create the index and the bench fill do.

    ``replace`` drops the stories' old entries first by rowid: only on a table that keeps its content (migration
    0010 runs before 0014 makes it contentless)."""
    if not stories:
        return
    rows = [{"id": i, "title": " ".join(fold_words(t)), "text": " ".join(fold_words(b))} for i, t, b in stories]
    if session.get_bind().dialect.name == "postgresql":
        statement = (
            f"UPDATE stories SET {SEARCH_COLUMN} = setweight(to_tsvector('simple', :title), 'A') || "
            "setweight(to_tsvector('simple', :text), 'B') WHERE id = :id"
        )
        session.execute(text(statement), rows)
        return
    if replace:
        session.execute(text(f"DELETE FROM {SEARCH_TABLE} WHERE rowid = :id"), [{"id": r["id"]} for r in rows])
    session.execute(text(f"INSERT INTO {SEARCH_TABLE} (rowid, title, text) VALUES (:id, :title, :text)"), rows)


def index_archive(session: Session, which: Callable[[str, str], bool] | None = None, replace: bool = False) -> None:
    """Index every stored story (``which``: only those whose title and text it accepts), 500 at a time: what the
    migrations that create or change the index run."""
    last_id = 0
    while True:
        rows = session.execute(
            text("SELECT id, title, text FROM stories WHERE id > :last ORDER BY id LIMIT 500"), {"last": last_id}
        ).all()
        index_stories(session, [(r[0], r[1], r[2]) for r in rows if which is None or which(r[1], r[2])], replace)
        if len(rows) < 500:
            break
        last_id = rows[-1][0]
    session.flush()


@dataclass(frozen=True, slots=True)
class Filters:
    since: datetime | None = None  # published (undated: fetched) at or after
    until: datetime | None = None  # ... and before
    source: str | None = None
    language: str | None = None
    cluster_id: int | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    story: Story
    rank: float  # larger is more relevant (0.0 when sorted by date only)


def is_postgres(session: Session) -> bool:
    """Which index the archive has: PostgreSQL's tsvector (True), or SQLite's FTS5."""
    return session.get_bind().dialect.name == "postgresql"


def candidates(session: Session, expression: str, filters: Filters, sort: Sort) -> Iterator[tuple[Story, float]]:
    """Stories the index finds for ``expression`` (a tsquery on PostgreSQL, an FTS5 MATCH on SQLite), in the
    order asked, read in pages, with their rank."""
    postgres = is_postgres(session)
    ranked = postgres and has_ranked_index(session)
    # SQLite ranks in the FTS5 table itself, a page at a time, when no filter needs the stories table: a common
    # word matches a tenth of a large archive, and joining all of it before sorting costs seconds.
    paged_in_index = not postgres and sort is Sort.RELEVANCE and filters == Filters()
    offset, size = 0, _FIRST_BATCH
    while True:
        page = offset if paged_in_index else None
        statement = _statement(expression, postgres, filters, sort, page, ranked=ranked, size=size)
        if not paged_in_index:
            statement = statement.offset(offset).limit(size)
        rows = session.execute(statement).unique().all()
        if ranked and sort is Sort.RELEVANCE:
            # The RUM index orders by rank alone (a second sort key would rank every match from the table): equal
            # ranks are put in the order the other engines give them, newest first, within each round.
            rows.sort(key=_rank_then_newest)
        for story, score in rows:
            yield story, float(score or 0.0)
        if len(rows) < size:
            return
        offset, size = offset + size, _BATCH


def _rank_then_newest(row: Any) -> tuple[float, float, int]:
    story, score = row
    moment = story.published_at or story.fetched_at
    return (-float(score or 0.0), -moment.timestamp() if moment else 0.0, -story.id)


def candidate_rows(
    session: Session, expression: str, filters: Filters
) -> Iterator[tuple[datetime, str, str, str, str | None]]:
    """Every candidate for ``expression`` within the filters, newest first, as (published else fetched, title,
    text, source name, language): one streamed statement and no Story objects, for counting matches."""
    postgres = is_postgres(session)
    columns = (Story.published_at, Story.fetched_at, Story.title, Story.text, Story.source_id, Story.language)
    statement = _statement(expression, postgres, filters, Sort.NEWEST, None, columns)
    names = {source_id: name for source_id, name in session.execute(select(Source.id, Source.name))}
    for published, fetched, title, body, source_id, language, _rank in session.execute(
        statement.execution_options(yield_per=500)
    ):
        yield published or fetched, title, body, names.get(source_id, ""), language


def _statement(
    expression: str, postgres: bool, filters: Filters, sort: Sort, page: int | None,
    columns: tuple[Any, ...] | None = None, ranked: bool = False, size: int = _BATCH,
) -> Select[Any]:
    """The candidates' (Story, rank) rows, or ``columns`` and rank, matching an index expression."""
    selected = columns or (Story,)
    newest = func.coalesce(Story.published_at, Story.fetched_at).desc()
    if postgres:
        matches = text(f"{SEARCH_COLUMN} @@ to_tsquery('simple', :q)")
        if sort is Sort.NEWEST:  # by date alone: no rank is computed, so no match's tsvector is read for it
            statement: Select[Any] = select(*selected, literal_column("0.0")).where(matches)
            return _filtered(statement.params(q=expression), filters).order_by(newest, Story.id.desc())
        if ranked:
            # Ordered by the RUM index's distance alone, the index returns the best first and stops at the page:
            # a second sort key would make PostgreSQL compute the distance of every match from its tsvector.
            distance = literal_column(SEARCH_COLUMN).op("<=>", return_type=Float())(
                func.to_tsquery("simple", expression))
            statement = select(*selected, 1.0 / distance).where(matches)
            return _filtered(statement.params(q=expression), filters).order_by(distance)
        rank = func.ts_rank(text(SEARCH_COLUMN), func.to_tsquery("simple", expression))
        statement = select(*selected, rank).where(matches)
    else:
        score = literal_column(f"bm25({SEARCH_TABLE}, 2.0, 1.0)")  # a title word counts double
        matched = (
            select(literal_column("rowid").label("story_id"), score.label("score"))
            .select_from(text(SEARCH_TABLE))
            .where(text(f"{SEARCH_TABLE} MATCH :q"))
        )
        if page is not None:
            matched = matched.order_by(score).limit(size).offset(page)
        found = matched.subquery("matched")
        rank = -found.c.score  # bm25: smaller is better
        statement = select(*selected, rank).select_from(Story).join(found, found.c.story_id == Story.id)
    statement = _filtered(statement.params(q=expression), filters)
    order = (rank.desc(), newest) if sort is Sort.RELEVANCE else (newest, rank.desc())
    return statement.order_by(*order, Story.id.desc())


def _filtered(statement: Select[Any], filters: Filters) -> Select[Any]:
    published = func.coalesce(Story.published_at, Story.fetched_at)
    if filters.since is not None:
        statement = statement.where(published >= filters.since)
    if filters.until is not None:
        statement = statement.where(published < filters.until)
    if filters.source:
        statement = statement.join(Source, Story.source_id == Source.id).where(Source.name == filters.source)
    if filters.language:
        statement = statement.where(Story.language == filters.language.lower())
    if filters.cluster_id is not None:
        statement = statement.where(func.coalesce(Story.cluster_id, Story.id) == filters.cluster_id)
    return statement


def newest(
    session: Session, filters: Filters | None = None, limit: int = 20, one_per_cluster: bool = False
) -> list[Story]:
    """The newest stories (published, else fetched) that pass the filters, without a query."""
    statement = _filtered(select(Story), filters or Filters()).order_by(
        func.coalesce(Story.published_at, Story.fetched_at).desc(), Story.id.desc()
    )
    found: dict[int, Story] = {}
    offset = 0
    while len(found) < limit:
        stories = list(session.scalars(statement.offset(offset).limit(_BATCH)).unique())
        for story in stories:
            key = (story.cluster_id or story.id) if one_per_cluster else story.id
            found.setdefault(key, story)
            if len(found) == limit:
                break
        if len(stories) < _BATCH:
            break
        offset += _BATCH
    return list(found.values())


def published_moments(session: Session, filters: Filters, limit: int) -> list[datetime]:
    """When the newest ``limit`` stories that pass the filters were published (else fetched), newest first."""
    moment = func.coalesce(Story.published_at, Story.fetched_at)
    statement = _filtered(select(Story.published_at, Story.fetched_at), filters).order_by(moment.desc()).limit(limit)
    return [published or fetched for published, fetched in session.execute(statement)]
