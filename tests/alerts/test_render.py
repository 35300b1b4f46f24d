"""Alert messages: page-supplied strings cannot inject headers, ping a chat or carry markup; snippets show the
match; email and chat carry the same facts; digests count and list their stories."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest
from apprise import NotifyFormat as AppriseFormat

from alerts.matching import positive_terms
from alerts.query import Term, parse_query
from alerts.render import (
    MAX_TITLE,
    SNIPPET_CHARS,
    Message,
    StoryAlert,
    chat_url,
    for_chat,
    highlights,
    one_line,
    render_alert,
    render_digest,
    render_followup,
    snippet,
)
from tests.markup import parsed

PUBLISHED = datetime(2026, 11, 24, 8, 5, tzinfo=UTC)
FILLER = "Negotiators met again on Tuesday to discuss the proposed exchange of prisoners, officials said. "


def _terms(query: str) -> list[Term]:
    return positive_terms(parse_query(query))


def _alert(**overrides: object) -> StoryAlert:
    values: dict[str, object] = {
        "title": "Ceasefire talks resume in Geneva",
        "outlet": "Example News",
        "url": "https://news.example.org/world/2026/11/24/talks?id=7&lang=en",
        "published_at": PUBLISHED,
        "rules": ("ceasefire", "geneva-talks"),
        "snippet": "…delegations met in Geneva to discuss the ceasefire…",
    }
    values.update(overrides)
    return StoryAlert(**values)  # type: ignore[arg-type]


# one_line: no header injection


@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x00", "\t"])
def test_line_breaks_and_control_characters_become_one_space(breaker: str) -> None:
    assert one_line(f"Ceasefire{breaker}Bcc: victim@example.org") == "Ceasefire Bcc: victim@example.org"


def test_white_space_is_folded_and_trimmed() -> None:
    assert one_line("  Peace \r\n\r\n  talks\u200b ") == "Peace talks"


def test_a_long_title_is_cut_with_an_ellipsis_within_the_limit() -> None:
    cut = one_line("word " * 100)
    assert len(cut) <= MAX_TITLE
    assert cut.endswith("word…")
    assert one_line("x" * 300) == "x" * (MAX_TITLE - 1) + "…"


def test_a_title_at_the_limit_is_kept_whole() -> None:
    assert one_line("x" * MAX_TITLE) == "x" * MAX_TITLE


@pytest.mark.parametrize(
    "title", ["Breaking\r\nBcc: victim@example.org", "Breaking\nX-Spam: no", "Breaking\u2028To: x"]
)
def test_an_email_subject_is_one_line(title: str) -> None:
    message = render_alert(_alert(title=title), email=True)
    assert message.title.startswith("[newsmon] ceasefire, geneva-talks: Breaking ")
    assert not any(char in message.title for char in "\r\n\u2028\u2029\x85")


def test_an_email_subject_carries_a_long_title_cut_with_an_ellipsis() -> None:
    message = render_alert(_alert(title="Ceasefire " * 60), email=True)
    assert message.title.endswith("…")
    assert len(message.title) <= len("[newsmon] ") + MAX_TITLE


# for_chat: no mentions, no links


@pytest.mark.parametrize("raw", ["@everyone", "@here", "@channel", "<!channel>", "<!here>", "<@U123>", "<#C42>",
                                 "<!subteam^S1>", "[click me](http://evil.example)"])
def test_chat_mentions_and_markdown_links_are_neutralised_but_readable(raw: str) -> None:
    text = f"Breaking {raw} now"
    safe = for_chat(text)
    assert raw not in safe
    assert safe.replace("\u200b", "") == text


def test_chat_text_without_mentions_is_unchanged() -> None:
    assert for_chat("Zelenskyy meets Rubio (in Geneva) [update]") == "Zelenskyy meets Rubio (in Geneva) [update]"


def test_a_chat_alert_pings_nobody_and_links_nowhere() -> None:
    alert = _alert(
        title="@everyone <!channel> ceasefire",
        outlet="<@U123> News",
        snippet="read [this](http://evil.example) @here",
    )
    message = render_alert(alert, email=False)
    for raw in ("@everyone", "<!channel>", "<@U123>", "@here", "](http://evil.example)"):
        assert raw not in message.title + message.body
    assert message.body_format == AppriseFormat.TEXT


def test_a_chat_digest_pings_nobody() -> None:
    message = render_digest("kyiv", [_alert(title="@everyone Kyiv", outlet="<!here>")], email=False)
    assert "@everyone" not in message.body
    assert "<!here>" not in message.body


# Email: escaped HTML carrying every fact


def test_an_email_body_escapes_page_text() -> None:
    alert = _alert(
        title="<script>alert(1)</script> Talks",
        outlet="Smith & Sons <b>News</b>",
        snippet='<img src=x onerror="alert(2)"> ceasefire',
        url='https://news.example.org/a?x=1&y="><script>',
    )
    message = render_alert(alert, email=True)
    assert message.body_format == AppriseFormat.HTML
    for raw in ("<script>", "<b>News", "<img", '"><script>', "Smith & Sons"):
        assert raw not in message.body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Talks" in message.body
    assert "Smith &amp; Sons &lt;b&gt;News&lt;/b&gt;" in message.body


def test_an_email_body_carries_title_outlet_time_url_snippet_and_every_rule() -> None:
    alert = _alert()
    body = render_alert(alert, email=True).body
    assert "Ceasefire talks resume in Geneva" in body
    assert "Example News" in body
    assert "2026-11-24 08:05 UTC" in body
    assert html.escape(alert.url, quote=True) in body
    assert "delegations met in Geneva to discuss the ceasefire" in body
    assert "ceasefire" in body.split("Matched:", 1)[1]
    assert "geneva-talks" in body.split("Matched:", 1)[1]


def test_an_unknown_publication_time_is_said_so() -> None:
    assert "date unknown" in render_alert(_alert(published_at=None), email=True).body
    assert "date unknown" in render_alert(_alert(published_at=None), email=False).body


def test_a_chat_body_carries_the_same_facts_as_plain_text() -> None:
    alert = _alert(outlet="Smith & Sons")
    body = render_alert(alert, email=False).body
    for fact in ("Ceasefire talks resume in Geneva", "Smith & Sons", "2026-11-24 08:05 UTC", alert.url,
                 alert.snippet, "ceasefire", "geneva-talks"):
        assert fact in body
    assert "&amp;" not in body
    assert "<" not in body


def test_a_chat_title_names_the_rules() -> None:
    assert render_alert(_alert(), email=False).title == "newsmon: ceasefire, geneva-talks: Ceasefire talks resume in Geneva"


# Snippets


def test_a_snippet_is_centred_on_the_match_with_ellipses_at_the_cuts() -> None:
    text = FILLER * 5 + "The ceasefire holds." + " " + FILLER * 5
    piece = snippet(text, _terms("ceasefire"))
    assert piece.startswith("…")
    assert piece.endswith("…")
    at = piece.index("ceasefire")
    assert 40 <= at <= SNIPPET_CHARS // 2
    assert len(piece) <= SNIPPET_CHARS + 4


def test_a_snippet_shows_the_first_match_of_any_term() -> None:
    text = FILLER * 3 + "Rubio spoke first. " + FILLER * 6 + "Putin answered later. " + FILLER * 3
    piece = snippet(text, _terms("Putin OR Rubio"))
    assert "Rubio spoke first" in piece
    assert "Putin" not in piece


def test_a_snippet_ignores_negated_terms() -> None:
    text = "A rumour spread. " + FILLER * 4 + "The ceasefire holds. " + FILLER * 4
    piece = snippet(text, _terms("ceasefire NOT rumour"))
    assert "ceasefire" in piece
    assert "rumour" not in piece


def test_a_snippet_finds_a_phrase_and_a_prefix_across_punctuation() -> None:
    text = FILLER * 4 + "They discussed the peace-plan with Zelenskyy's team. " + FILLER * 4
    assert "peace-plan" in snippet(text, _terms('"peace plan"'))
    assert "Zelenskyy's" in snippet(text, _terms("Zelensk*"))


def test_a_snippet_finds_an_accented_word_and_keeps_its_accents() -> None:
    text = FILLER * 4 + "Les négociateurs se sont retrouvés à l'Élysée mardi. " + FILLER * 4
    piece = snippet(text, _terms("elysee"))
    assert "l'Élysée mardi" in piece
    assert piece.startswith("…")


def test_a_snippet_finds_a_cyrillic_word_in_another_case() -> None:
    text = FILLER * 4 + "ВИБУХИ У КИЄВІ: Зеленського повідомили вночі. " + FILLER * 4
    assert "Зеленського повідомили" in snippet(text, _terms("Зеленськ*"))


def test_a_snippet_finds_a_term_written_with_decomposed_accents() -> None:
    # Matching folds "E\u0301lyse\u0301e" (NFD) to "elysee", so the snippet should show it too.
    text = FILLER * 4 + "Les négociateurs à l'E\u0301lyse\u0301e mardi. " + FILLER * 4
    assert "E\u0301lyse\u0301e mardi" in snippet(text, _terms("elysee"))


def test_a_snippet_does_not_find_a_word_inside_another() -> None:
    text = "Kyivstar restored service. " + FILLER * 4 + "In Kyiv, the mayor said. " + FILLER * 4
    assert "In Kyiv, the mayor" in snippet(text, _terms("Kyiv"))


def test_without_a_match_a_snippet_is_the_beginning_of_the_text() -> None:
    text = "First words of the story. " + FILLER * 6
    piece = snippet(text, _terms("ceasefire"))
    assert piece.startswith("First words of the story.")
    assert piece.endswith("…")
    assert len(piece) <= SNIPPET_CHARS


def test_a_short_text_is_its_own_snippet_without_ellipses() -> None:
    assert snippet("The ceasefire\nholds.", _terms("ceasefire")) == "The ceasefire holds."


def test_a_match_near_the_start_is_shown_from_the_start() -> None:
    text = "Ceasefire holds, officials said. " + FILLER * 6
    piece = snippet(text, _terms("ceasefire"))
    assert piece.startswith("Ceasefire holds")
    assert piece.endswith("…")


def test_a_snippet_is_one_line() -> None:
    text = (FILLER.replace(". ", ".\r\n") * 5) + "The\nceasefire\u2028holds.\n" + FILLER * 5
    piece = snippet(text, _terms("ceasefire"))
    assert "ceasefire" in piece
    assert not any(char in piece for char in "\r\n\u2028")


@pytest.mark.parametrize("offset", range(0, 400, 37))
def test_a_snippet_stays_about_its_width_wherever_the_match_is(offset: int) -> None:
    words = " ".join(f"w{i}" * (1 + i % 7) for i in range(300))
    text = words[:offset] + " ceasefire " + words[offset:]
    piece = snippet(text, _terms("ceasefire"))
    assert "ceasefire" in piece
    assert SNIPPET_CHARS // 2 <= len(piece) <= SNIPPET_CHARS + 4


def test_a_cut_end_carries_one_ellipsis() -> None:
    # The start moves back to a word boundary, which makes the piece longer than the width: it must still end
    # in a single "…", not in one_line's "…" followed by the cut's "…".
    piece = snippet(FILLER * 2 + "The ceasefire holds. " + FILLER * 6, _terms("ceasefire"))
    assert "ceasefire" in piece
    assert piece.endswith("…")
    assert not piece.endswith("……")


# Digests


@pytest.mark.parametrize(("count", "words"), [(1, "1 story"), (3, "3 stories")])
def test_a_digest_title_counts_its_stories(count: int, words: str) -> None:
    alerts = [_alert(title=f"Story {i}", url=f"https://news.example.org/{i}") for i in range(count)]
    assert render_digest("kyiv", alerts, email=True).title == f"[newsmon] kyiv: {words}"
    assert render_digest("kyiv", alerts, email=False).title == f"newsmon digest: kyiv, {words}"


def _digest_alerts() -> list[StoryAlert]:
    return [
        _alert(title="Kyiv talks\r\nBcc: x", url="https://a.example.org/1?a=1&b=2", published_at=None),
        _alert(title="<script>Odesa</script> port", outlet="Smith & Sons", url="https://b.example.org/2"),
        _alert(title="Zelenskyy in Geneva", url="https://c.example.org/3"),
    ]


def test_an_email_digest_lists_every_story_escaped() -> None:
    message = render_digest("kyiv", _digest_alerts(), email=True)
    assert message.body_format == AppriseFormat.HTML
    body = message.body
    assert body.count("<li>") == 3
    for title in ("Kyiv talks Bcc: x", "&lt;script&gt;Odesa&lt;/script&gt; port", "Zelenskyy in Geneva"):
        assert title in body
    for url in ("https://a.example.org/1?a=1&amp;b=2", "https://b.example.org/2", "https://c.example.org/3"):
        assert f'href="{url}"' in body
    assert "<script>" not in body
    assert "Smith &amp; Sons" in body
    assert "date unknown" in body
    assert "2026-11-24 08:05 UTC" in body


def test_a_chat_digest_lists_every_story_as_plain_text() -> None:
    message = render_digest("kyiv", _digest_alerts(), email=False)
    assert message.body_format == AppriseFormat.TEXT
    for fact in ("Kyiv talks Bcc: x", "<script>Odesa</script> port", "Smith & Sons", "Zelenskyy in Geneva",
                 "https://a.example.org/1?a=1&b=2", "https://b.example.org/2", "https://c.example.org/3"):
        assert fact in message.body
    assert "\r" not in message.body
    assert "Bcc: x\n" not in message.body


# The story URL in chat


def test_a_chat_url_pings_nobody_and_leads_to_the_same_page() -> None:
    url = "https://news.example.org/@everyone/story?by=<!channel>#@here"
    safe = chat_url(url)
    assert "@" not in safe and "<" not in safe
    assert safe == "https://news.example.org/%40everyone/story?by=%3C!channel%3E#%40here"
    message = render_alert(_alert(url=url), email=False)
    assert "@everyone" not in message.body and safe in message.body


def test_a_chat_url_keeps_an_ordinary_url_as_it_is() -> None:
    url = "https://news.example.org/world/2026/11/24/talks?id=7&lang=en"
    assert chat_url(url) == url


def test_a_publication_time_in_another_zone_is_shown_in_utc() -> None:
    from datetime import timedelta, timezone

    kyiv = datetime(2026, 11, 24, 10, 5, tzinfo=timezone(timedelta(hours=2)))
    assert "2026-11-24 08:05 UTC" in render_alert(_alert(published_at=kyiv), email=True).body


def test_highlights_cover_words_phrases_across_punctuation_and_whole_prefixed_words() -> None:
    text = "Zelenskyy said the Peace-plan was ready; the CAFÉ closed in Kyiv. A peaceful plan, peace plans."
    found = [text[start:end] for start, end in highlights(text, _terms('"peace plan" OR Zelensk* OR cafe'))]
    assert found == ["Zelenskyy", "Peace-plan", "CAFÉ"]


def test_highlights_skip_negated_terms_and_find_every_occurrence_in_any_script() -> None:
    text = "Зеленський говорив. Потім зеленського спитали про Київ."
    found = [text[start:end] for start, end in highlights(text, _terms("зеленськ* NOT київ"))]
    assert found == ["Зеленський", "зеленського"]


def test_highlights_keep_a_decomposed_accent_with_its_word_and_merge_overlaps() -> None:
    text = "Le cafe\u0301 de la paix"  # é written as e + combining acute
    assert [text[s:e] for s, e in highlights(text, _terms("café"))] == ["cafe\u0301"]
    assert highlights("peace talks", _terms('"peace talks" OR talks')) == [(0, 11)]


# Hostile page text in every message: email shows it as text and carries no element of it, chat carries it inert

HOSTILE = [
    '"><img src=x onerror=alert(1)> ceasefire',
    '<b>Ceasefire</b> <img src=x onerror=alert(2)> & <a href="https://evil.example/">more</a>',
    "<https://evil.example/|Official ceasefire notice> <!channel> <mailto:desk@evil.example|write>",
]


def _every_message(text: str, email: bool) -> list[Message]:
    alert = _alert(title=text, outlet=text, snippet=text)
    other = _alert(title=text, outlet="Other " + text, url="https://other.example.org/1")
    return [render_alert(alert, email), render_digest("r", [alert, other], email), render_followup(alert, [other], email)]


@pytest.mark.parametrize("text", HOSTILE)
def test_an_email_shows_page_text_and_no_element_of_it(text: str) -> None:
    plain = _every_message("Ceasefire talks", email=True)
    for message, ordinary in zip(_every_message(text, email=True), plain, strict=True):
        body, expected = parsed(message.body), parsed(ordinary.body)
        assert (body.tags, body.attributes) == (expected.tags, expected.attributes)  # the message's own, no more
        assert text in body.text


@pytest.mark.parametrize("text", HOSTILE)
def test_a_chat_message_carries_page_text_inert(text: str) -> None:
    for message in _every_message(text, email=False):
        for control in ("<https://", "<mailto:", "<!channel>", "](http"):
            assert control not in message.title + message.body
        assert text in message.body.replace("\u200b", "")
