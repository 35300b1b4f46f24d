"""The web page, read as HTML from the running server: results with marked words, escaping, the chart, errors."""

from __future__ import annotations

import re

import httpx

from tests.web.conftest import STORIES, Served


def page(served: Served, path: str, **params: object) -> httpx.Response:
    return httpx.get(served.url + path, params=params, timeout=30)


def results(html: str) -> list[str]:
    return re.findall(r'<li class="result" data-story="(\d+)">', html)


def test_a_search_lists_the_matches_with_marked_words_and_the_outlets_of_each_story(sqlite_served: Served) -> None:
    response = page(sqlite_served, "/", q='"security guarantees"')
    assert response.status_code == 200
    html = response.text
    assert results(html) == [str(sqlite_served.ids[0])]
    assert "<mark>security guarantees</mark>" in html
    assert "2 stories from 2 outlets: Wire Times, Paper Times" in html
    assert 'value="&#34;security guarantees&#34;"' in html or 'value="&quot;security guarantees&quot;"' in html


def test_page_supplied_titles_are_escaped(sqlite_served: Served) -> None:
    html = page(sqlite_served, "/", q="football").text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in html


def test_the_chart_has_a_bar_per_day_linking_to_that_days_stories(sqlite_served: Served) -> None:
    html = page(sqlite_served, "/", q="ceasefire").text
    bars = re.findall(r"<title>(\d{4}-\d{2}-\d{2}): (\d+)</title>", html)
    assert len(bars) == 30
    assert sum(int(count) for _, count in bars) == 4  # both copies, the stalled talks and the cup final
    assert re.search(r'href="[^"]*since=\d{4}-\d{2}-\d{2}&amp;until=\d{4}-\d{2}-\d{2}', html)


def test_a_bad_query_or_date_is_said_on_the_page_in_one_line(sqlite_served: Served) -> None:
    response = page(sqlite_served, "/", q='"unclosed')
    assert response.status_code == 400
    assert re.search(r'<p class="error" role="alert">q: unclosed quote at column 1</p>', response.text)
    response = page(sqlite_served, "/", since="last week")
    assert "since: &#39;last week&#39; is neither a duration" in response.text
    response = page(sqlite_served, "/", q="(" * 11 + "a" + ")" * 11)
    assert response.status_code == 400
    error = '<p class="error" role="alert">q: nested more than 10 deep (parentheses and NOT) at column 11</p>'
    assert error in response.text


def test_a_story_page_shows_its_text_and_the_other_outlets(sqlite_served: Served) -> None:
    html = page(sqlite_served, f"/stories/{sqlite_served.ids[0]}").text
    assert f"<h1>{STORIES[0][3]}</h1>" in html
    assert STORIES[0][4] in html
    assert "Also reported (1)" in html and STORIES[1][3] in html
    assert page(sqlite_served, "/stories/424242").status_code == 404


def test_sources_and_rules_pages(sqlite_served: Served) -> None:
    sources = page(sqlite_served, "/sources").text
    assert sources.count("never crawled") == 4
    rules = page(sqlite_served, "/rules").text
    assert 'href="/feeds/rules/guarantees.xml"' in rules and 'href="/feeds/rules/ceasefire.json"' in rules
    assert "hunter2" not in rules
