"""What `newsmon search`, `newsmon show` and the web API say about stories: the same records for all three.

A search result is a story record (newsmon.output.story_record) with its rank, a snippet around the words
sought, where those words are in the snippet and the title (``highlights``, ``title_highlights``), and, one
row per cluster, how many stories and which outlets reported it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy.orm import Session

from alerts.matching import RuleSet, RuleSpec, positive_terms
from alerts.names import Lexicon, matched_names, widen
from alerts.query import Term, parse_query
from alerts.render import highlights, snippet
from alerts.search import candidate_texts, search
from db.clusters import cluster_copies, story_versions, summarise
from db.reading import get_story
from db.search import Filters, Sort, newest, published_moments
from newsmon.output import story_record

TIMELINE_DAYS = 30  # the chart's span when no --since is given
TIMELINE_MOST = 10_000  # matches counted for the chart before it says "at least"
TIMELINE_MOST_DAYS = 366  # a longer span shows its latest year


def find_stories(
    session: Session,
    query: str | None,
    filters: Filters,
    sort: Sort | None = None,
    limit: int = 20,
    copies: bool = False,
    with_text: bool = True,
    names: Lexicon | None = None,
) -> list[dict[str, Any]]:
    """Stories matching ``query`` (rule language; None or "": the newest) and the filters, as records; each
    names the other forms of the query's names that it was found by (``matched_as``: "Putin, as Путина").

    Raises:
        alerts.query.QueryError: the query does not parse (one line, with the column).
    """
    if query:
        names = names or Lexicon.shipped()
        hits = search(session, query, filters, sort or Sort.RELEVANCE, limit, one_per_cluster=not copies,
                      names=names)
        stories, ranks = [hit.story for hit in hits], [hit.rank for hit in hits]
        sought = positive_terms(widen(parse_query(query), names))
    else:
        stories = newest(session, filters, limit, one_per_cluster=not copies)
        ranks, sought = [None] * len(stories), []
    records = []
    for story, rank in zip(stories, ranks, strict=True):
        record = story_record(story, with_text=with_text)
        record["published_at"] = record["published_at"] or record["fetched_at"]
        record["rank"] = rank
        record.update(snippet_record(story.text, sought))
        record["title_highlights"] = [list(span) for span in highlights(story.title, sought)]
        record["matched_as"] = matched_names(sought, story.title, story.text)
        records.append(record)
    if not copies:
        clusters = {c.cluster_id: c for c in summarise(session, [r["cluster_id"] for r in records])}
        for record in records:
            cluster = clusters[record["cluster_id"]]
            record["cluster_stories"] = cluster.stories
            record["cluster_outlets"] = list(cluster.outlets)
    return records


def snippet_record(text: str, sought: list[Term]) -> dict[str, Any]:
    """``snippet`` (about 240 characters around the first word sought) and ``highlights``: [start, end) ranges
    of the words sought within it."""
    piece = snippet(text, sought)
    return {"snippet": piece, "highlights": [list(span) for span in highlights(piece, sought)]}


def story_detail(session: Session, story_id: int) -> dict[str, Any] | None:
    """One story with its text, the other stories of its cluster and its earlier versions (None: no such id)."""
    story = get_story(session, story_id)
    if story is None:
        return None
    record = story_record(story)
    record["cluster"] = [
        {"id": s.id, "outlet": s.site_name or s.source.name, "title": s.title, "url": s.url,
         "fetched_at": s.fetched_at}
        for s in cluster_copies(session, story)
    ]
    record["versions"] = [
        {"version": v.version, "title": v.title, "words": len(v.text.split()), "fetched_at": v.fetched_at}
        for v in story_versions(session, story.id)
    ]
    return record


@dataclass(frozen=True, slots=True)
class Timeline:
    """Matching stories per day (published, else fetched; UTC), every day of the span listed."""

    days: list[tuple[date, int]]
    complete: bool  # False: counting stopped at TIMELINE_MOST matches, the oldest days are short


def timeline(
    session: Session, query: str | None, filters: Filters, now: datetime | None = None, names: Lexicon | None = None
) -> Timeline:
    """How many stories match ``query`` and the filters on each day; without ``filters.since``, over the last
    TIMELINE_DAYS days (never more than TIMELINE_MOST_DAYS). Every copy counts: a story that five outlets
    reported is five stories that day.

    Raises:
        alerts.query.QueryError: the query does not parse.
    """
    until = filters.until or now or datetime.now(UTC)
    start_of_day = until.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    since = max(filters.since or _days_before(start_of_day, TIMELINE_DAYS - 1),
                _days_before(start_of_day, TIMELINE_MOST_DAYS - 1))
    window = Filters(since, until, filters.source, filters.language, filters.cluster_id)
    if query:
        names = names or Lexicon.shipped()
        matcher = RuleSet([RuleSpec("search", query)], names)
        node = widen(parse_query(query), names)
        moments = (moment for moment, story in candidate_texts(session, node, window) if matcher.match(story))
    else:
        moments = iter(published_moments(session, window, TIMELINE_MOST + 1))
    counted = list(islice(moments, TIMELINE_MOST + 1))
    per_day = Counter(moment.astimezone(UTC).date() for moment in counted[:TIMELINE_MOST])
    first = since.astimezone(UTC).date()
    days = [first + timedelta(days=n) for n in range((until.astimezone(UTC).date() - first).days + 1)]
    return Timeline([(day, per_day[day]) for day in days], complete=len(counted) <= TIMELINE_MOST)


def _days_before(moment: datetime, days: int) -> datetime:
    """``days`` before ``moment``, or the calendar's first moment when that is earlier (until=0001-01-05)."""
    try:
        return moment - timedelta(days=days)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)
