"""Alert messages: HTML and plain text for email, a short text for chat, every page-supplied string escaped.

Titles and snippets come from pages nobody vetted. They must not inject mail headers (line breaks), ping a
whole chat (``@everyone``, ``<!channel>``), or carry markup (``<script>``, markdown links) into a channel.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from alerts.query import Term
from newsmon.words import fold_chars, is_unspaced, is_word

MAX_TITLE = 200
SNIPPET_CHARS = 240
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]+")
# @name, and Slack's control sequences: <@user>, <!channel>, <#channel>, and links <https://...|shown text>
_MENTION = re.compile(r"@(?=[\w\-])|<(?=[@!#]|[a-z][a-z0-9+.\-]*:)", re.IGNORECASE)
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
    matched_as: tuple[str, ...] = ()  # names found in another form: "Putin, as Путина"
    marks: tuple[tuple[int, int], ...] = ()  # where the words that fired are in the snippet
    story_id: int | None = None
    language: str | None = None
    cluster_id: int | None = None
    also_at: tuple[str, ...] = ()  # the other outlets of its cluster, first report first
    page: str | None = None  # the story's page in `newsmon serve` (web.base_url)


class NotifyFormat(StrEnum):
    """apprise's body formats, by the values its ``notify(body_format=...)`` accepts. Defined here rather than
    imported: search and the web page render highlights, and importing apprise would cost them 0.2 s to start."""

    TEXT = "text"
    HTML = "html"


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str
    body_format: NotifyFormat
    payload: dict[str, Any] | None = None  # what a native JSON webhook posts (alerts.payload)


# How a chat channel emphasises the words that fired, by its URL's scheme; any other channel gets «guillemets».
_EMPHASIS = {"slack": ("*", "*"), "mmost": ("*", "*"), "mmosts": ("*", "*"), "discord": ("**", "**"),
             "rocket": ("*", "*"), "rockets": ("*", "*"), "msteams": ("**", "**")}
PLAIN_EMPHASIS = ("«", "»")


def emphasis_for(url: str) -> tuple[str, str]:
    return _EMPHASIS.get(urlsplit(url).scheme.lower(), PLAIN_EMPHASIS)


def marked(text: str, spans: tuple[tuple[int, int], ...], mark: Callable[[str], str], plain: Callable[[str], str]) -> str:
    """``text`` with each span passed through ``mark`` and the rest through ``plain`` (each escapes its own)."""
    pieces, last = [], 0
    for start, end in spans:
        pieces += [plain(text[last:start]), mark(text[start:end])]
        last = end
    return "".join(pieces) + plain(text[last:])


def one_line(text: str, limit: int = MAX_TITLE) -> str:
    """No line breaks or control characters (they could start a new mail header), white space folded."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def for_chat(text: str) -> str:
    """Neutralise mentions and links (Slack's <url|text>, markdown's [text](url)): a zero-width space keeps them
    readable but inert."""
    text = _MENTION.sub(lambda match: match.group(0) + "\u200b", text)
    return _MARKDOWN_LINK.sub("]\u200b(", text)


def chat_url(url: str) -> str:
    """The story URL as a chat may show it: ``@`` and ``<`` percent-encoded after the host, so that a path
    such as ``/@everyone`` pings nobody while the link still leads to the same page."""
    parts = urlsplit(url)
    safe = {ord("@"): "%40", ord("<"): "%3C", ord(">"): "%3E"}
    return urlunsplit(parts._replace(path=parts.path.translate(safe), query=parts.query.translate(safe),
                                     fragment=parts.fragment.translate(safe)))


def snippet(text: str, terms: list[Term], width: int = SNIPPET_CHARS) -> str:
    """About ``width`` characters of ``text`` around the first occurrence of any of ``terms``, cut at words."""
    found = highlights(text, terms)  # where the story writes them (a name's added forms as names are written)
    at = found[0][0] if found else 0
    begin = max(0, at - width // 3)
    end = min(len(text), begin + width)
    if begin > 0:  # start at the next word, unless the word is very long
        space = text.find(" ", begin - 1, at)
        begin = space + 1 if space >= 0 else begin
    if end < len(text):  # end at the last whole word
        space = text.rfind(" ", max(at, begin), end + 1)
        end = space if space > begin else end
    piece = one_line(text[begin:end], limit=len(text))
    return ("…" if begin > 0 else "") + piece + ("…" if end < len(text) else "")


def highlights(text: str, terms: list[Term]) -> list[tuple[int, int]]:
    """Where ``terms`` occur in ``text``, as sorted, non-overlapping (start, end) character ranges: whole words,
    phrases across the punctuation between their words, and a prefix up to the end of its word."""
    folded, origin = _folded_with_origin(text)
    found: list[tuple[int, int]] = []
    for term in terms:
        pattern = term.pattern  # " word " (whole words) or " word" (a prefix)
        at = folded.find(pattern)
        while at >= 0:
            last = at + len(pattern.rstrip()) - 1  # the folded index of the term's last character
            while term.prefix and last + 1 < len(folded) and folded[last + 1] != " ":
                last += 1
            end = origin[last] + 1
            while end < len(text) and unicodedata.combining(text[end]):  # a decomposed accent ends the word
                end += 1
            if term.accepts(text[origin[at + 1] : end]):
                found.append((origin[at + 1], end))
            at = folded.find(pattern, at + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _folded_with_origin(text: str) -> tuple[str, list[int]]:
    """``newsmon.words.fold(text)`` with, for each folded character, the index of the character it came from
    (unspaced scripts as their overlapping pairs of letters, as ``newsmon.words`` reads them)."""
    chars, origin = [" "], [0]
    run: list[tuple[str, int]] = []  # the unspaced-script letters (with their marks) read so far, folded

    def flush() -> None:
        if not run:
            return
        letters = _graphemes(run)
        spans = [letters] if len(letters) < 2 else [letters[i : i + 2] for i in range(len(letters) - 1)]
        for span in spans:
            for letter in span:
                for piece, index in letter:
                    chars.append(piece)
                    origin.append(index)
            chars.append(" ")
            origin.append(span[-1][-1][1])
        run.clear()

    for index, char in enumerate(text):
        # A mark dropped in folding (a decomposed accent) folds to nothing: it is not a word break.
        for piece in fold_chars(char):
            if is_unspaced(piece) or (run and unicodedata.category(piece).startswith("M")):
                run.append((piece, index))
                continue
            flush()
            if is_word(piece):
                chars.append(piece)
                origin.append(index)
            elif chars[-1] != " ":
                chars.append(" ")
                origin.append(index)
    flush()
    if chars[-1] != " ":
        chars.append(" ")
        origin.append(len(text))
    return "".join(chars), origin


def _graphemes(run: list[tuple[str, int]]) -> list[list[tuple[str, int]]]:
    """The folded letters of a run grouped with the marks that follow each."""
    letters: list[list[tuple[str, int]]] = []
    for piece, index in run:
        if letters and unicodedata.category(piece).startswith("M"):
            letters[-1].append((piece, index))
        else:
            letters.append([(piece, index)])
    return letters


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "date unknown"


def _about(alert: StoryAlert) -> str:
    """Outlet, language, publication time and the cluster: "Kyiv Post · uk · 2026-12-07 09:12 UTC · also at 3
    outlets (Reuters, BBC, Le Monde)"."""
    parts = [one_line(alert.outlet)] + ([alert.language] if alert.language else []) + [_when(alert.published_at)]
    if alert.also_at:
        shown = ", ".join(one_line(o, limit=60) for o in alert.also_at[:5]) + (" ..." if len(alert.also_at) > 5 else "")
        parts.append(f"also at {len(alert.also_at)} outlet{'' if len(alert.also_at) == 1 else 's'} ({shown})")
    return " · ".join(parts)


def render_alert(alert: StoryAlert, email: bool, emphasis: tuple[str, str] = PLAIN_EMPHASIS) -> Message:
    """One story on one channel: the rules and the headline in the subject, the words that fired marked in the
    snippet (``<mark>`` in email, the chat's own ``emphasis``), outlet, language, time, the cluster's other
    outlets, the forms its names were found in, and its page in `newsmon serve` when web.base_url is set."""
    rules = ", ".join(alert.rules)
    forms = f" ({'; '.join(alert.matched_as)})" if alert.matched_as else ""
    title = one_line(alert.title)
    subject = one_line(f"{rules}: {title}")
    if email:
        quoted = marked(alert.snippet, alert.marks, lambda w: f"<mark>{html.escape(w)}</mark>", html.escape)
        page = (f'<p>In newsmon: <a href="{html.escape(alert.page, quote=True)}">{html.escape(alert.page)}</a></p>'
                if alert.page else "")
        body = (
            f"<p><b>{html.escape(title)}</b></p>"
            f"<p>{html.escape(_about(alert))}</p>"
            f"<blockquote>{quoted}</blockquote>"
            f'<p><a href="{html.escape(alert.url, quote=True)}">{html.escape(alert.url)}</a></p>{page}'
            f"<p>Matched: {html.escape(rules + forms)}</p>"
        )
        return Message(title=f"[newsmon] {subject}", body=body, body_format=NotifyFormat.HTML)
    opening, closing = emphasis
    quoted = marked(alert.snippet, alert.marks, lambda w: opening + for_chat(w) + closing, for_chat)
    page = f"\nIn newsmon: {chat_url(alert.page)}" if alert.page else ""
    body = (
        f"{for_chat(title)}\n{for_chat(_about(alert))}\n"
        f"{quoted}\n{chat_url(alert.url)}{page}\nMatched: {for_chat(rules + forms)}"
    )
    return Message(title=f"newsmon: {for_chat(subject)}", body=body, body_format=NotifyFormat.TEXT)


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
    lines = [f"• {for_chat(one_line(a.title))} ({for_chat(one_line(a.outlet))})\n  {chat_url(a.url)}" for a in alerts]
    return Message(f"newsmon digest: {for_chat(rule)}, {count}", "\n".join(lines), NotifyFormat.TEXT)


def render_surge(rule: str, reports: list[StoryAlert], within: str, email: bool) -> Message:
    """A rule's surge: every outlet that reported its stories within the window, with its first story (headline,
    link, language, time), first report first."""
    languages = sorted({a.language for a in reports if a.language})
    spread = f"{len(reports)} outlets in {len(languages)} language{'' if len(languages) == 1 else 's'}"
    title = f"surge: {rule}: {spread} within {within}"
    if email:
        items = "".join(
            f"<li>{html.escape(_when(a.published_at))} <b>{html.escape(one_line(a.outlet))}</b>"
            f"{' (' + html.escape(a.language) + ')' if a.language else ''}: "
            f'<a href="{html.escape(a.url, quote=True)}">{html.escape(one_line(a.title))}</a></li>'
            for a in reports
        )
        return Message(f"[newsmon] {title}", f"<p>{html.escape(spread)} ({html.escape(', '.join(languages))})"
                       f"</p><ol>{items}</ol>", NotifyFormat.HTML)
    lines = [f"• {_when(a.published_at)} {for_chat(one_line(a.outlet))}{' (' + a.language + ')' if a.language else ''}: "
             f"{for_chat(one_line(a.title))}\n  {chat_url(a.url)}" for a in reports]
    return Message(f"newsmon {for_chat(title)}", "\n".join(lines), NotifyFormat.TEXT)


def render_followup(alert: StoryAlert, others: list[StoryAlert], email: bool) -> Message:
    """The one follow-up of an alerted story: the other outlets that reported it since (copies, rewrites)."""
    outlets = sorted({one_line(other.outlet) for other in others} - {one_line(alert.outlet)})
    count = f"{len(outlets)} other outlet{'' if len(outlets) == 1 else 's'}" if outlets else "its own outlet again"
    title = one_line(alert.title)
    if email:
        items = "".join(
            f'<li>{html.escape(one_line(o.outlet))}: <a href="{html.escape(o.url, quote=True)}">'
            f"{html.escape(one_line(o.title))}</a> ({html.escape(_when(o.published_at))})</li>"
            for o in others
        )
        body = (
            f'<p>Also reported by {count}: <b><a href="{html.escape(alert.url, quote=True)}">{html.escape(title)}</a>'
            f"</b> ({html.escape(one_line(alert.outlet))})</p><ul>{items}</ul>"
            f"<p>Matched: {html.escape(', '.join(alert.rules))}</p>"
        )
        return Message(f"[newsmon] Also reported by {count}: {title}", body, NotifyFormat.HTML)
    lines = [f"• {for_chat(one_line(o.outlet))}: {for_chat(one_line(o.title))}\n  {chat_url(o.url)}" for o in others]
    body = f"{for_chat(title)} ({for_chat(one_line(alert.outlet))})\n{chat_url(alert.url)}\nAlso reported by:\n" + "\n".join(lines)
    return Message(f"newsmon: also reported by {count}", body, NotifyFormat.TEXT)


def render_notice(notice: str) -> Message:
    """A notice about the service (a source turned failing): its first line is the title, plain text everywhere.

    Its text quotes errors that may carry what a remote server said, so it is escaped like a story's.
    """
    title, _, body = notice.partition("\n")
    lines = [for_chat(one_line(line, limit=1000)) for line in body.strip().splitlines()]
    return Message(title=for_chat(one_line(title)), body="\n".join(lines) or for_chat(one_line(title)),
                   body_format=NotifyFormat.TEXT)
