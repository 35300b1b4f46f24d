"""The web page: search with a timeline of matches per day, a story, the sources' health, the rules.

Rendered on the server with Jinja2 (autoescaped: titles and texts come from pages nobody vetted); no
script, so it works in any browser and in tests that read the HTML.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from alerts.names import lexicon_for
from alerts.query import QueryError
from db.search import Sort
from newsmon.alerts_view import STATES, alert_records
from newsmon.stories import TIMELINE_MOST, find_stories, story_detail, timeline
from newsmon.web.api import sources as source_statuses
from newsmon.web.requests import (
    ArchiveSession,
    BadRequest,
    CurrentConfig,
    build_story_query,
    parse_id,
)

router = APIRouter(include_in_schema=False)
ALERTS_SHOWN = 200  # the newest outbox messages the /alerts page lists
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
RESULTS = 50


def marked(text: str, spans: list[list[int]]) -> Markup:
    """``text`` escaped, with the ``spans`` ([start, end) ranges) in <mark>."""
    pieces, at = [], 0
    for start, end in spans:
        pieces.append(escape(text[at:start]))
        pieces.append(Markup("<mark>%s</mark>") % text[start:end])
        at = end
    pieces.append(escape(text[at:]))
    return Markup("").join(pieces)


def when(value: datetime | str | None) -> str:
    """A moment as "2026-11-24 08:30" (UTC); records carry ISO strings, cluster members datetimes."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M}"


templates.env.filters["marked"] = marked
templates.env.filters["when"] = when


@router.get("/", response_class=HTMLResponse, name="search_page")
def search_page(
    request: Request,
    session: ArchiveSession,
    config: CurrentConfig,
    q: str | None = None,
    since: str | None = None,
    until: str | None = None,
    source: str | None = None,
    language: str | None = None,
    sort: str | None = None,
    cluster: str | None = None,
    copies: bool = False,
) -> HTMLResponse:
    """Search box and filters, a chart of matching stories per day, and the results with their snippets."""
    form = {"q": q or "", "since": since or "", "until": until or "", "source": source or "",
            "language": language or "", "sort": sort or "", "cluster": cluster or "", "copies": copies}
    context: dict[str, Any] = {"form": form, "sources": [s.name for s in config.sources], "records": [],
                               "chart": None, "error": None}
    try:
        if sort and sort not in {s.value for s in Sort}:
            raise BadRequest(f"sort: {sort!r} is not relevance or newest")
        cluster_id = parse_id("cluster", cluster) if cluster else None
        query = build_story_query(q, since, until, source, language, cluster_id, Sort(sort) if sort else None,
                                  RESULTS, copies)
        names = lexicon_for(config.names)
        context["records"] = find_stories(session, query.q, query.filters, query.sort, query.limit, query.copies,
                                          with_text=False, names=names)
        context["chart"] = _chart(timeline(session, query.q, query.filters, names=names), form)
    except (BadRequest, QueryError) as exc:
        context["error"] = f"q: {exc}" if isinstance(exc, QueryError) else str(exc)
    status = 400 if context["error"] else 200
    return templates.TemplateResponse(request, "search.html", context, status_code=status)


@router.get("/stories/{story_id}", response_class=HTMLResponse, name="story_page")
def story_page(request: Request, story_id: str, session: ArchiveSession) -> HTMLResponse:
    try:
        record = story_detail(session, parse_id("story", story_id))
    except BadRequest:  # no story has such an id
        record = None
    if record is None:
        return templates.TemplateResponse(request, "missing.html", {"what": f"story {story_id}"}, status_code=404)
    paragraphs = [p.strip() for p in record["text"].split("\n") if p.strip()]
    return templates.TemplateResponse(request, "story.html", {"story": record, "paragraphs": paragraphs})


@router.get("/sources", response_class=HTMLResponse, name="sources_page")
def sources_page(request: Request, session: ArchiveSession,
                 config: CurrentConfig) -> HTMLResponse:
    rows = source_statuses(session, config)
    return templates.TemplateResponse(request, "sources.html", {"rows": rows})


@router.get("/rules", response_class=HTMLResponse, name="rules_page")
def rules_page(request: Request, config: CurrentConfig) -> HTMLResponse:
    return templates.TemplateResponse(request, "rules.html", {"rules": config.rules})


@router.get("/alerts", response_class=HTMLResponse, name="alerts_page")
def alerts_page(request: Request, session: ArchiveSession, config: CurrentConfig, status: str | None = None,
                rule: str | None = None, channel: str | None = None) -> HTMLResponse:
    """What was sent, held, pending or failed, per rule and channel, with the story and the forms that fired."""
    form = {"status": status or "", "rule": rule or "", "channel": channel or ""}
    records = alert_records(session, config, status if status in STATES else None, rule or None, channel or None,
                            limit=ALERTS_SHOWN)
    context = {"records": records, "form": form, "states": STATES, "rules": [r.name for r in config.rules],
               "channels": list(config.channels), "limit": ALERTS_SHOWN}
    return templates.TemplateResponse(request, "alerts.html", context)


def _chart(found: Any, form: dict[str, Any]) -> dict[str, Any]:
    """Bars of an inline SVG chart, one per day, each a link to that day's stories."""
    width, height = 760, 120
    most = max((count for _, count in found.days), default=0)
    step = width / max(len(found.days), 1)
    bars = []
    for index, (day, count) in enumerate(found.days):
        tall = round(height * count / most, 1) if most else 0
        after = day + timedelta(days=1) if day < date.max else None  # the calendar's last day has no after
        link = {**form, "since": day.isoformat(), "until": after.isoformat() if after else "", "sort": "newest"}
        bars.append({"x": round(index * step, 1), "y": round(height - tall, 1), "width": max(round(step - 1, 1), 1),
                     "height": tall, "day": day, "count": count,
                     "query": {k: v for k, v in link.items() if v not in ("", False)}})
    total = sum(count for _, count in found.days)
    return {"bars": bars, "width": width, "height": height, "most": most, "total": total,
            "first": found.days[0][0] if found.days else None, "last": found.days[-1][0] if found.days else None,
            "complete": found.complete, "counted_at_most": TIMELINE_MOST}
