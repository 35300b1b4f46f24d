"""Alert messages: HTML and plain text for email, a short text for chat, every page-supplied string escaped.

Titles and snippets come from pages nobody vetted. They must not inject mail headers (line breaks), ping a
whole chat (``@everyone``, ``<!channel>``), or carry markup (``<script>``, markdown links) into a channel.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from apprise import NotifyFormat

from alerts.query import COMBINING_MARKS, Term

MAX_TITLE = 200
SNIPPET_CHARS = 240
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]+")
_MENTION = re.compile(r"@(?=[\w\-])|<(?=[@!#])")
_MARKDOWN_LINK = re.compile(r"\]\(")


@dataclass(frozen=True, slots=True)
class StoryAlert:
    """What one alert says about one story."""

    title: str
    outlet: str
    url: str
    published_at: datetime | None
    rules: tuple[str, ...]
    snippet: str


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str
    body_format: NotifyFormat


def one_line(text: str, limit: int = MAX_TITLE) -> str:
    """No line breaks or control characters (they could start a new mail header), white space folded."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def for_chat(text: str) -> str:
    """Neutralise mentions and markdown links: a zero-width space keeps them readable but inert."""
    text = _MENTION.sub(lambda match: match.group(0) + "\u200b", text)
    return _MARKDOWN_LINK.sub("]\u200b(", text)


def snippet(text: str, terms: list[Term], width: int = SNIPPET_CHARS) -> str:
    """About ``width`` characters of ``text`` around the first occurrence of any of ``terms``."""
    folded, origin = _folded_with_origin(text)
    starts = [at for at in (folded.find(term.pattern) for term in terms) if at >= 0]
    if not starts:
        return one_line(text, width)
    at = origin[min(starts) + 1]
    begin = max(0, at - width // 3)
    end = min(len(text), begin + width)
    if begin > 0:
        space = text.rfind(" ", 0, begin + 1)
        begin = space + 1 if space >= 0 and begin - space < 30 else begin
    piece = one_line(text[begin:end], width + 2)
    return ("…" if begin > 0 else "") + piece + ("…" if end < len(text) else "")


def _folded_with_origin(text: str) -> tuple[str, list[int]]:
    """``alerts.query.fold(text)`` with, for each folded character, the index of the character it came from."""
    chars, origin = [" "], [0]
    for index, char in enumerate(text):
        folded = COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", char)).casefold()
        if folded and all(c.isalnum() or c == "_" for c in folded):
            chars.extend(folded)
            origin.extend([index] * len(folded))
        elif chars[-1] != " ":
            chars.append(" ")
            origin.append(index)
    if chars[-1] != " ":
        chars.append(" ")
        origin.append(len(text))
    return "".join(chars), origin


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "date unknown"


def render_alert(alert: StoryAlert, email: bool) -> Message:
    """One story on one channel, naming every rule it matched."""
    rules = ", ".join(alert.rules)
    title = one_line(alert.title)
    if email:
        body = (
            f"<p><b>{html.escape(title)}</b></p>"
            f"<p>{html.escape(one_line(alert.outlet))} &middot; {html.escape(_when(alert.published_at))}</p>"
            f"<blockquote>{html.escape(alert.snippet)}</blockquote>"
            f'<p><a href="{html.escape(alert.url, quote=True)}">{html.escape(alert.url)}</a></p>'
            f"<p>Matched: {html.escape(rules)}</p>"
        )
        return Message(title=f"[newsmon] {title}", body=body, body_format=NotifyFormat.HTML)
    body = (
        f"{for_chat(title)}\n{for_chat(one_line(alert.outlet))} · {_when(alert.published_at)}\n"
        f"{for_chat(alert.snippet)}\n{alert.url}\nMatched: {rules}"
    )
    return Message(title=f"newsmon: {for_chat(rules)}", body=body, body_format=NotifyFormat.TEXT)


def render_digest(rule: str, alerts: list[StoryAlert], email: bool) -> Message:
    """One message gathering a digest rule's stories."""
    count = f"{len(alerts)} {'story' if len(alerts) == 1 else 'stories'}"
    if email:
        items = "".join(
            f'<li><a href="{html.escape(a.url, quote=True)}">{html.escape(one_line(a.title))}</a> '
            f"({html.escape(one_line(a.outlet))}, {html.escape(_when(a.published_at))})<br>"
            f"{html.escape(a.snippet)}</li>"
            for a in alerts
        )
        return Message(f"[newsmon] {rule}: {count}", f"<ol>{items}</ol>", NotifyFormat.HTML)
    lines = [f"• {for_chat(one_line(a.title))} ({for_chat(one_line(a.outlet))})\n  {a.url}" for a in alerts]
    return Message(f"newsmon digest: {for_chat(rule)}, {count}", "\n".join(lines), NotifyFormat.TEXT)
