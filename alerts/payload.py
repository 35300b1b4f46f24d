"""What a native JSON webhook channel (``webhook+https://...``) receives: one documented, versioned object per
message, with the fields a program needs, beside apprise's title-and-text channels.

The models are the documentation: the README's table lists their fields (a test keeps the two the same), and
``AlertPayload.model_json_schema()`` is the JSON Schema a receiver can validate against. A change that removes
or renames a field raises ``VERSION``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from alerts.render import StoryAlert

VERSION = 1


class StoryEntry(BaseModel):
    """One story of the message."""

    model_config = ConfigDict(extra="forbid")

    id: int | None = Field(description="The story's id in newsmon (`newsmon show ID`, /api/stories/ID).")
    url: str = Field(description="The story at its outlet.")
    title: str = Field(description="Its headline.")
    outlet: str = Field(description="The outlet that published it.")
    language: str | None = Field(description="ISO 639-1 code of its text, when known.")
    published: datetime | None = Field(description="When it was published (UTC), when known.")
    rules: list[str] = Field(description="The rules it matched.")
    matched_as: list[str] = Field(description='The names found in another form: "Putin, as Путина".')
    snippet: str = Field(description="About 240 characters of its text around the words that fired.")
    highlights: list[list[int]] = Field(description="[start, end) character ranges of those words in snippet.")
    cluster_id: int | None = Field(description="Its cluster of copies (the id of the cluster's first story).")
    also_at: list[str] = Field(description="The other outlets of its cluster so far, first report first.")
    page: str | None = Field(description="Its page in `newsmon serve` (when web.base_url is set).")


class AlertPayload(BaseModel):
    """The body a native JSON webhook receives (Content-Type application/json; the same key in the
    Idempotency-Key header)."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = Field(description="The payload's version: 1.")
    kind: Literal["alert", "digest", "followup", "surge", "notice"] = Field(
        description="alert: one story; digest: a digest rule's stories; followup: the other outlets of an alerted "
        "story; surge: each outlet's first story of a rule's surge; notice: about newsmon itself (a source failing)."
    )
    idempotency_key: str = Field(description="The message's identity: the same on every retry of it.")
    title: str = Field(description="The message's title, as chat channels show it.")
    text: str = Field(description="The message as text, as chat channels show it.")
    stories: list[StoryEntry] = Field(description="The stories of the message (none for a notice).")


def entry(alert: StoryAlert) -> StoryEntry:
    return StoryEntry(
        id=alert.story_id, url=alert.url, title=alert.title, outlet=alert.outlet, language=alert.language,
        published=alert.published_at, rules=list(alert.rules), matched_as=list(alert.matched_as),
        snippet=alert.snippet, highlights=[list(span) for span in alert.marks], cluster_id=alert.cluster_id,
        also_at=list(alert.also_at), page=alert.page,
    )


def payload(kind: str, identity: str, title: str, text: str, alerts: list[StoryAlert]) -> dict[str, object]:
    """The JSON-ready body of one message."""
    body = AlertPayload(version=VERSION, kind=kind, idempotency_key=identity, title=title, text=text,  # type: ignore[arg-type]
                        stories=[entry(alert) for alert in alerts])
    return body.model_dump(mode="json")
