"""The web application: one FastAPI app over the archive, read-only, with an optional token.

Handlers are synchronous (FastAPI runs them in its thread pool) and each gets its own SQLAlchemy session; the
archive is only read here, so the service and crawlers keep writing while people search.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from alerts.query import QueryError
from db.models import MAX_ID
from db.search import Filters, Sort
from newsmon import __version__
from newsmon.config import Config, parse_moment

log = logging.getLogger(__name__)

TOKEN_COOKIE = "newsmon_token"
MAX_LIMIT = 200


class BadRequest(ValueError):
    """A parameter the server cannot use; its message says which and what to write instead."""


def create_app(config: Config, token: str | None = None) -> FastAPI:
    """The app over ``config``'s archive (migrated when behind); with ``token``, every request must carry it."""
    from db.session import open_database, session_factory
    from newsmon.web import api, feeds, pages

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    engine = open_database(config.database.url)
    app = FastAPI(
        title="newsmon",
        version=__version__,
        summary="The news archive newsmon keeps: search it, read a story, see the sources' health and the rules.",
        description="Read-only. Queries use the rule language of alerts: words, \"phrases\", AND, OR, NOT, ( ), "
        "prefix*, title: and text:. Dates: a duration back from now (7d, 12h) or an ISO date (2026-11-20).",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.sessions = session_factory(engine)
    if token:
        app.middleware("http")(_TokenCheck(token))
    app.middleware("http")(_access_log)  # added last, so it is outermost and logs refusals too
    app.add_exception_handler(BadRequest, _bad_request)
    app.add_exception_handler(QueryError, _bad_request)
    app.add_exception_handler(RequestValidationError, _invalid_parameter)
    app.add_exception_handler(OperationalError, _archive_unavailable)
    app.include_router(api.router)
    app.include_router(feeds.router)
    app.include_router(pages.router)
    return app


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


async def _bad_request(request: Request, exc: Exception) -> Response:
    prefix = "q: " if isinstance(exc, QueryError) else ""
    return JSONResponse({"error": f"{prefix}{exc}"}, status_code=400)


async def _invalid_parameter(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    if not request.url.path.startswith(("/api/", "/feeds/")):  # a page: text, as the token check answers
        return PlainTextResponse("; ".join(problems) + "\n", status_code=400)
    return JSONResponse({"error": "; ".join(problems)}, status_code=400)


async def _archive_unavailable(request: Request, exc: Exception) -> Response:
    log.warning("archive unavailable for %s: %s", request.url.path, str(exc).splitlines()[0][:200])
    return JSONResponse({"error": "the archive could not be read (busy, unreachable or damaged); try again shortly, "
                                  "and see the server's log if it persists"}, status_code=503)


async def _access_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """One line per request, the path without its query string (which may hold the token)."""
    started = time.perf_counter()
    response = await call_next(request)
    log.info("%s %s %d %.0f ms", request.method, request.url.path, response.status_code,
             (time.perf_counter() - started) * 1000)
    return response


class _TokenCheck:
    """Every request carries the token: ``Authorization: Bearer``, ``?token=`` (for feed readers and a first
    visit; the page then keeps it in a cookie) or that cookie."""

    def __init__(self, token: str) -> None:
        self.token = token.encode()

    async def __call__(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        header = request.headers.get("authorization", "")
        given = header[7:].strip() if header[:7].lower() == "bearer " else None
        in_query = request.query_params.get("token")
        given = given or in_query or request.cookies.get(TOKEN_COOKIE)
        if not given or not hmac.compare_digest(given.encode(), self.token):
            message = "this newsmon needs its token: send Authorization: Bearer TOKEN, or add ?token=TOKEN to the URL"
            if request.url.path.startswith(("/api/", "/feeds/")):
                return JSONResponse({"error": message}, status_code=401)
            return PlainTextResponse(message + "\n", status_code=401)
        response = await call_next(request)
        if in_query:
            response.set_cookie(TOKEN_COOKIE, in_query, httponly=True, samesite="strict")
        return response
