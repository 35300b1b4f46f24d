"""The JSON API: /api/stories, /api/stories/{id}, /api/timeline, /api/sources, /api/rules.

Each answer is a JSON object or list as described in /api/openapi.json; an error is ``{"error": "one line"}``
with status 400 (a parameter to fix), 401 (no token), 404 (no such story or rule) or 503 (the archive could
not be read).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from alerts.names import lexicon_for
from db.limits import MAX_ID
from newsmon.alerts_view import alert_records
from newsmon.output import health_record
from newsmon.stories import find_stories, story_detail, timeline
from newsmon.web.requests import ArchiveSession, CurrentConfig, Search

router = APIRouter(prefix="/api", tags=["archive"])


class StoryResult(BaseModel):
    id: int
    url: str
    urls: list[str] = Field(description="Every URL the story was seen under.")
    title: str
    text: str | None = None
    embedded_posts: list[str] = Field(
        [], description="Posts the story embeds (tweets, Instagram, Telegram...): shown, never matched or searched."
    )
    source: str
    published_at: datetime = Field(description="When published; when the page gave no date, when fetched.")
    fetched_at: datetime
    language: str | None
    author: str | None
    site_name: str | None
    cluster_id: int = Field(description="The id of the first story of its cluster of copies.")
    version: int = Field(description="2 and up: the text changed since it was first stored.")
    status: str = Field("article", description="article, teaser, paywalled or not_article.")
    modified_at: datetime | None = Field(None, description="When the page says it was last updated.")
    rank: float | None = Field(description="Relevance to q, larger is better (null without q).")
    snippet: str = Field(description="About 240 characters around the first word sought.")
    highlights: list[list[int]] = Field(description="[start, end) character ranges of the words sought in snippet.")
    title_highlights: list[list[int]] = Field(description="[start, end) ranges of the words sought in title.")
    matched_as: list[str] = Field(
        [], description="The query's names it was found by in another form: \"Putin, as Путина\"."
    )
    cluster_stories: int | None = Field(None, description="How many stories its cluster holds (not with copies).")
    cluster_outlets: list[str] | None = Field(None, description="The outlets that reported it, first first.")


class StoryPage(BaseModel):
    q: str | None
    count: int
    stories: list[StoryResult]


class ClusterMember(BaseModel):
    id: int
    outlet: str
    title: str
    url: str
    fetched_at: datetime


class EarlierVersion(BaseModel):
    version: int
    title: str
    words: int
    fetched_at: datetime = Field(description="When this version was last read.")


class StoryDetail(BaseModel):
    id: int
    url: str
    urls: list[str]
    title: str
    text: str
    embedded_posts: list[str] = Field(
        [], description="Posts the story embeds (tweets, Instagram, Telegram...): shown, never matched or searched."
    )
    source: str
    published_at: datetime | None
    fetched_at: datetime
    language: str | None
    author: str | None
    site_name: str | None
    cluster_id: int
    version: int
    status: str = Field("article", description="article, teaser, paywalled or not_article.")
    modified_at: datetime | None = Field(None, description="When the page says it was last updated.")
    cluster: list[ClusterMember] = Field(description="The other stories of its cluster, in the order they came.")
    versions: list[EarlierVersion] = Field(description="Its earlier texts, oldest first.")


class TimelineDay(BaseModel):
    day: date
    stories: int


class TimelineAnswer(BaseModel):
    q: str | None
    days: list[TimelineDay]
    complete: bool = Field(description="False: counting stopped at 10,000 stories; the oldest days are short.")


class SourceStatus(BaseModel):
    source: str
    kind: str
    url: str
    status: str = Field(description="ok, failing, articles failing, silent or never crawled.")
    failures_in_a_row: int = Field(description="Crawls in a row that failed (failing) or failed every article "
                                               "(articles failing).")
    last_run: datetime | None
    last_success: datetime | None
    last_new_story: datetime | None
    usual_gap_hours: float | None = Field(description="Median time between crawls that found new stories.")
    last_error: str | None = Field(description="failing: why the listing could not be read; articles failing: "
                                         "the most common reason among the latest crawl's failed pages.")


class Rule(BaseModel):
    name: str
    query: str
    exclude: str | None
    sources: list[str] | None
    languages: list[str] | None
    digest: str | None
    followups: bool
    notify: list[str] = Field(description="The names of its channels (never their URLs).")
    feeds: dict[str, str] = Field(description="Paths of its RSS and JSON Feed of matched stories.")


class Problem(BaseModel):
    error: str


ERRORS: dict[int | str, dict[str, Any]] = {400: {"model": Problem}, 401: {"model": Problem}, 503: {"model": Problem}}


@router.get("/stories", response_model=StoryPage, responses=ERRORS)
def stories(query: Search, session: ArchiveSession, config: CurrentConfig) -> dict[str, Any]:
    """Stories matching q and the filters: by relevance with q, else newest first; one per cluster of copies
    (with how many stories and which outlets it holds) unless copies=true."""
    records = find_stories(session, query.q, query.filters, query.sort, query.limit, query.copies,
                           names=lexicon_for(config.names))
    return {"q": query.q, "count": len(records), "stories": records}


@router.get("/stories/{story_id}", response_model=StoryDetail, responses={**ERRORS, 404: {"model": Problem}})
def story(story_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: ArchiveSession) -> Any:
    """One story with its text, the other stories of its cluster, and its earlier versions."""
    record = story_detail(session, story_id)
    if record is None:
        return JSONResponse({"error": f"no story with id {story_id}"}, status_code=404)
    return record


@router.get("/timeline", response_model=TimelineAnswer, responses=ERRORS)
def stories_per_day(query: Search, session: ArchiveSession, config: CurrentConfig) -> Any:
    """How many stories match q and the filters on each day (UTC), every copy counted; the last 30 days unless
    since is given (a year at most)."""
    found = timeline(session, query.q, query.filters, names=lexicon_for(config.names))
    return {"q": query.q, "days": [{"day": d, "stories": n} for d, n in found.days], "complete": found.complete}


@router.get("/sources", response_model=list[SourceStatus], responses=ERRORS)
def sources(session: ArchiveSession, config: CurrentConfig) -> list[dict[str, Any]]:
    """Every configured source with its health: ok, failing (for how many crawls), articles failing (the listing is
    read but every article failed; for how many crawls, and the most common reason), silent, or never crawled."""
    from db.health import source_health

    health = source_health(session, [s.name for s in config.sources], datetime.now(UTC))
    listed = {s.name: s for s in config.sources}
    return [
        {"kind": listed[h.name].kind.value, "url": listed[h.name].url, **health_record(h)} for h in health
    ]


class AlertStory(BaseModel):
    id: int
    title: str
    url: str
    outlet: str


class AlertRecord(BaseModel):
    id: int = Field(description="The outbox message's id.")
    state: str = Field(description="sent, held (until the channel's quiet hours end), pending, sending or failed.")
    kind: str = Field(description="alert, followup or surge.")
    channel: str = Field(description="The channel's name (never its URL).")
    rules: list[str]
    digest: str | None = Field(description="The digest rule it waits for, if any.")
    created_at: datetime
    due_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str | None = Field(description="The last attempt's error, secrets masked.")
    story: AlertStory | None
    matched_as: list[str] = Field(description='Names found in another form: "Putin, as Путина".')
    notice: str | None = Field(description="For a notice about newsmon itself: its title.")


@router.get("/alerts", response_model=list[AlertRecord], responses=ERRORS)
def alerts(session: ArchiveSession, config: CurrentConfig,
           status: Annotated[Literal["sent", "held", "pending", "sending", "failed"] | None, Query()] = None,
           rule: Annotated[str | None, Query(max_length=200)] = None,
           channel: Annotated[str | None, Query(max_length=200)] = None,
           limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
    """Outbox messages, newest first: what was sent, held, pending or failed, per rule and channel, with the story
    and the forms its names were found in."""
    return alert_records(session, config, status, rule, channel, limit)


@router.get("/rules", response_model=list[Rule], responses=ERRORS)
def rules(config: CurrentConfig) -> list[dict[str, Any]]:
    """The alert rules of config.yaml, each also a feed of the stories it matched."""
    return [
        {
            "name": rule.name, "query": rule.query, "exclude": rule.exclude, "sources": rule.sources,
            "languages": rule.languages, "digest": rule.digest, "followups": rule.followups, "notify": rule.notify,
            "feeds": {"rss": f"/feeds/rules/{rule.name}.xml", "json": f"/feeds/rules/{rule.name}.json"},
        }
        for rule in config.rules
    ]
