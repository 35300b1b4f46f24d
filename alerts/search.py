"""Searching the archive in the rule language: the same query, the same answer as an alert rule.

A query is parsed as a rule (``alerts.query``). The archive's full-text index (``db.search``) answers the
query without its NOT parts (a superset, ranked by bm25 or ts_rank); the alert matcher then checks each
candidate exactly, so a search and a rule agree on every story. Index expressions are built from folded
words (letters, digits, marks), never from the user's text.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy.orm import Session

from alerts.matching import RuleSet, RuleSpec, StoryText
from alerts.names import Lexicon, widen
from alerts.query import And, Field, Node, Not, Or, Term, parse_query
from db.models import Story
from db.search import Filters, Hit, Sort, candidate_rows, candidates, is_postgres


def search(
    session: Session,
    query: str,
    filters: Filters | None = None,
    sort: Sort = Sort.RELEVANCE,
    limit: int = 20,
    one_per_cluster: bool = False,
    names: Lexicon | None = None,
) -> list[Hit]:
    """The stories that match ``query`` (rule language) and the filters, best or newest first; with
    ``one_per_cluster``, only the first of each near-duplicate cluster. Names are widened to their other forms
    by ``names`` (default: the shipped names), as a rule's are.

    Raises:
        alerts.query.QueryError: the query does not parse (one line, with the column).
    """
    names = names or Lexicon.shipped()
    node = widen(parse_query(query), names)
    matcher = RuleSet([RuleSpec("search", query)], names)
    filters = filters or Filters()
    hits: list[Hit] = []
    clusters: set[int] = set()
    for story, rank in query_candidates(session, node, filters, sort):
        cluster = story.cluster_id or story.id
        if one_per_cluster and cluster in clusters:
            continue
        if matcher.match(StoryText(story.title, story.text, story.source.name, story.language)):
            hits.append(Hit(story, rank))
            clusters.add(cluster)
            if len(hits) >= limit:
                break
    return hits


def query_candidates(session: Session, node: Node, filters: Filters, sort: Sort) -> Iterator[tuple[Story, float]]:
    """Stories the index finds for a parsed query's positive part (a superset of its matches: check each)."""
    return candidates(session, index_expression(session, node), filters, sort)


def candidate_texts(session: Session, node: Node, filters: Filters) -> Iterator[tuple[datetime, StoryText]]:
    """Every candidate for a parsed query within the filters, newest first, as (published else fetched, what the
    matcher reads), for counting matches (the page's chart)."""
    for moment, title, body, source, language in candidate_rows(session, index_expression(session, node), filters):
        yield moment, StoryText(title, body, source, language)


def index_expression(session: Session, node: Node) -> str:
    """What the archive's index is asked for a parsed query: a tsquery on PostgreSQL, an FTS5 MATCH on SQLite."""
    positive = _positive(node)
    assert positive is not None  # parse_query refuses a query that holds without any of its terms
    return _tsquery(positive) if is_postgres(session) else _fts5(positive)


def _positive(node: Node, negated: bool = False) -> Node | None:
    """What the index can look up: the terms that must be present for ``node`` (or, ``negated``, for NOT
    ``node``) to hold, a superset of its matches (None: nothing to look for). A negated term asks for nothing;
    under a NOT, AND and OR trade places (NOT (NOT a OR NOT b) needs a and b)."""
    if isinstance(node, Term):
        return None if negated else node
    if isinstance(node, Not):
        return _positive(node.child, not negated)
    children = [child for child in (_positive(c, negated) for c in node.children) if child is not None]
    if isinstance(node, Or) != negated:  # either child may hold: each must be looked up
        return Or(tuple(children)) if len(children) == len(node.children) else None
    return And(tuple(children)) if children else None


def _fts5(node: Node) -> str:
    """An FTS5 MATCH expression: phrases in double quotes (folded words hold no quote), prefixes with *."""
    if isinstance(node, Term):
        phrase = '"' + " ".join(node.words) + '"' + ("*" if node.prefix else "")
        return f"{node.field.value} : {phrase}" if node.field is not Field.ANY else phrase
    joiner = " AND " if isinstance(node, And) else " OR "
    return "(" + joiner.join(_fts5(child) for child in node.children) + ")"  # type: ignore[union-attr]


def _tsquery(node: Node) -> str:
    """A PostgreSQL tsquery: phrases with <->, prefixes with :*, title and text as weights A and B."""
    if isinstance(node, Term):
        weight = {Field.ANY: "", Field.TITLE: "A", Field.TEXT: "B"}[node.field]
        lexemes = []
        for index, word in enumerate(node.words):
            last = index == len(node.words) - 1
            suffix = ("*" if node.prefix and last else "") + weight
            lexemes.append(f"{word}:{suffix}" if suffix else word)
        return "(" + " <-> ".join(lexemes) + ")"
    joiner = " & " if isinstance(node, And) else " | "
    return "(" + joiner.join(_tsquery(child) for child in node.children) + ")"  # type: ignore[union-attr]
