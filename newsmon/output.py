"""Printing listings for people (tables) and programs (json, jsonl, csv)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click

if TYPE_CHECKING:  # a record is written from them; `newsmon --help` must not wait for SQLAlchemy
    from db.health import SourceHealth
    from db.models import Story

FORMATS = ("table", "json", "jsonl", "csv")
F = TypeVar("F", bound=Callable[..., Any])


def format_option(*choices: str, default: str = "table") -> Callable[[F], F]:
    """The shared ``--format`` option of every listing."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices or FORMATS),
        default=default,
        show_default=True,
        help="Output format: a table for people, json/jsonl/csv for programs.",
    )


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def story_record(story: Story, with_text: bool = True) -> dict[str, Any]:
    """A story as the documented JSON object (id, url, urls, title, text, source, dates, language...)."""
    record: dict[str, Any] = {
        "id": story.id,
        "url": story.url,
        "urls": [u.url for u in story.urls],
        "title": story.title,
        "source": story.source.name,
        "published_at": iso(story.published_at),
        "modified_at": iso(story.modified_at),  # when the page says it was last updated
        "fetched_at": iso(story.fetched_at),
        "status": story.status,  # article | teaser | paywalled | not_article
        "language": story.language,
        "author": story.author,
        "site_name": story.site_name,
        "cluster_id": story.cluster_id or story.id,  # the id of the first story of its near-duplicate cluster
        "version": story.version,  # 2 and up: the text changed since it was first stored
    }
    if with_text:
        record["text"] = story.text
        # Posts the story embeds (tweets...), one string each: shown, never matched by rules or search.
        record["embedded_posts"] = story.embedded.splitlines() if story.embedded else []
    return record


def health_record(health: SourceHealth, **extra: Any) -> dict[str, Any]:
    """A source's health as `newsmon sources` and /api/sources show it; ``extra`` fields go before last_error."""
    gap = health.usual_gap
    return {
        "source": health.name,
        "status": health.status,
        "failures_in_a_row": health.consecutive_failures,
        "last_run": health.last_run,
        "last_success": health.last_success,
        "last_new_story": health.last_new_story,
        "usual_gap_hours": round(gap.total_seconds() / 3600, 1) if gap else None,
        **extra,
        "last_error": health.last_error,
    }


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def write_json(value: object, out: TextIO | None = None) -> None:
    """One JSON document (a summary, a single story) for programs."""
    (out or sys.stdout).write(json.dumps(value, ensure_ascii=False, indent=2, default=_json_default) + "\n")


def write_records(
    records: Iterable[Mapping[str, Any]],
    fmt: str,
    columns: list[str],
    headers: list[str] | None = None,
    out: TextIO | None = None,
) -> int:
    """Write records in ``fmt``; ``columns`` (and their ``headers``) are what a table and csv show.

    Returns the number of records written. jsonl and csv stream; table and json hold the list.
    """
    out = out or sys.stdout
    count = 0
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False, default=_json_default) + "\n")
            count += 1
        return count
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(columns)
        for record in records:
            writer.writerow([_cell(record.get(c), csv_cell=True) for c in columns])
            count += 1
        return count
    rows = list(records)
    if fmt == "json":
        write_json(rows, out)
        return len(rows)
    table = [[_cell(row.get(c)) for c in columns] for row in rows]
    from tabulate import tabulate  # imports importlib.metadata: a third of `newsmon --help`'s start

    out.write(tabulate(table, headers=headers or columns, tablefmt="simple", disable_numparse=True) + "\n")
    return len(rows)


def _cell(value: object, csv_cell: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        # URLs side by side; texts (embedded posts) one per line, so that their own spaces part nothing.
        items = [str(v) for v in value]
        return ("\n" if any(any(c.isspace() for c in item) for item in items) else " ").join(items)
    if isinstance(value, str) and not csv_cell and len(value) > 80:
        return value[:77] + "..."
    return str(value)
