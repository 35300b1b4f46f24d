"""What a request to the web app asks for: its session on the archive, the config, and the search parameters
the API, the page and the timeline share, each checked with a one-line error (``BadRequest``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from db.limits import MAX_ID
from db.search import Filters, Sort
from newsmon.config import Config
from newsmon.moments import parse_moment

MAX_LIMIT = 200


class BadRequest(ValueError):
    """A parameter the server cannot use; its message says which and what to write instead."""


def archive(request: Request) -> Iterator[Session]:
    """A session on the archive for one request (a FastAPI dependency)."""
    with request.app.state.sessions() as session:
        yield session


def config_of(request: Request) -> Config:
    config: Config = request.app.state.config
    return config


@dataclass(frozen=True, slots=True)
class StoryQuery:
    """The search parameters the API, the page and the timeline share."""

    q: str | None
    filters: Filters
    sort: Sort | None
    limit: int
    copies: bool


def story_query(
    q: Annotated[str | None, Query(description='A query in the rule language: "peace plan" AND Zelensk*.')] = None,
    since: Annotated[str | None, Query(description="Published (else fetched) since: 7d, 12h or 2026-11-20.")] = None,
    until: Annotated[str | None, Query(description="... and before: a duration back from now or a date.")] = None,
    source: Annotated[str | None, Query(description="Only stories of this source (its name in config.yaml).")] = None,
    language: Annotated[str | None, Query(description="Only stories in this language (ISO 639-1, e.g. uk).")] = None,
    cluster: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only the stories of this cluster of copies.")
    ] = None,
    sort: Annotated[Sort | None, Query(description="relevance (the default with q) or newest.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most this many results.")] = 20,
    copies: Annotated[bool, Query(description="Every matching story, not one per cluster of copies.")] = False,
) -> StoryQuery:
    """The API's search parameters (a FastAPI dependency); a bad date raises BadRequest."""
    return build_story_query(q, since, until, source, language, cluster, sort, limit, copies)


ArchiveSession = Annotated[Session, Depends(archive)]
CurrentConfig = Annotated[Config, Depends(config_of)]
Search = Annotated[StoryQuery, Depends(story_query)]


def build_story_query(
    q: str | None, since: str | None, until: str | None, source: str | None, language: str | None,
    cluster: int | None, sort: Sort | None, limit: int, copies: bool,
) -> StoryQuery:
    filters = Filters(
        since=_moment("since", since), until=_moment("until", until), source=_name("source", source),
        language=_name("language", language), cluster_id=cluster,
    )
    if filters.since is not None and filters.until is not None and filters.since >= filters.until:
        raise BadRequest(f"since: {since!r} is not before until {until!r}")
    return StoryQuery((q or "").strip() or None, filters, sort, limit, copies)


def parse_id(name: str, value: str) -> int:
    """A story or cluster id written in a URL (digits, at most MAX_ID).

    Raises:
        BadRequest: anything else, in one line.
    """
    # no id has more than 19 digits, and int() refuses more than 4,300 with an error of its own
    digits = value.isascii() and value.isdigit() and len(value) <= len(str(MAX_ID))
    if not digits or not 1 <= int(value) <= MAX_ID:
        raise BadRequest(f"{name}: {value[:40]!r} is not a {name} id")
    return int(value)


def _moment(name: str, value: str | None) -> datetime | None:
    if not value or not value.strip():
        return None
    try:
        return parse_moment(value)
    except ValueError as exc:
        raise BadRequest(f"{name}: {exc}") from None


def _name(parameter: str, value: str | None) -> str | None:
    """A name to compare with the archive's; PostgreSQL refuses a NUL in any text it is given."""
    if value and "\x00" in value:
        raise BadRequest(f"{parameter}: {value!r} holds a NUL character")
    return value or None
