"""The web application: one FastAPI app over the archive, read-only, with an optional token.

Handlers are synchronous (FastAPI runs them in its thread pool) and each gets its own SQLAlchemy session; the
archive is only read here, so the service and crawlers keep writing while people search.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy.exc import OperationalError

from alerts.query import QueryError
from newsmon import __version__
from newsmon.config import Config
from newsmon.web import api, feeds, pages
from newsmon.web.requests import BadRequest

log = logging.getLogger(__name__)

TOKEN_COOKIE = "newsmon_token"


def create_app(config: Config, token: str | None = None) -> FastAPI:
    """The app over ``config``'s archive (migrated when behind); with ``token``, every request must carry it."""
    from db.session import open_database, session_factory

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
