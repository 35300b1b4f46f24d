"""The web page, read as HTML from the running server: results with marked words, escaping, the chart, errors."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.web.conftest import STORIES, Served, crawl_with_every_article_failing


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


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"cluster": "99999999999999999999999"}, "cluster: &#39;99999999999999999999999&#39; is not a cluster id"),
        ({"since": "99999999999999999999d"}, "since: &#39;99999999999999999999d&#39; reaches back before the year 1"),
        ({"since": "9999-01-01", "until": "0001-01-01"},
         "since: &#39;9999-01-01&#39; is not before until &#39;0001-01-01&#39;"),
        ({"source": "wire\x00"}, "source: "),
        ({"cluster": "9" * 5000}, f"cluster: &#39;{'9' * 40}&#39; is not a cluster id"),
    ],
)
def test_an_out_of_range_filter_is_said_on_the_page_in_one_line(served: Served, params: dict[str, str],
                                                               says: str) -> None:
    response = page(served, "/", **params)
    assert response.status_code == 400
    assert re.search(f'<p class="error" role="alert">{re.escape(says)}[^<\n]*</p>', response.text), response.text


@pytest.mark.parametrize("until", ["0001-01-01", "9999-12-31", "9999-12-31T23:00-05:00"])
def test_the_chart_reaches_the_ends_of_the_calendar(served: Served, until: str) -> None:
    response = page(served, "/", until=until)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:  # a moment that UTC cannot hold
        assert "until: &#39;9999-12-31T23:00-05:00&#39; is after the year 9999 in UTC" in response.text
    else:
        assert re.findall(r"<title>(\d{4}-\d{2}-\d{2}): \d+</title>", response.text)[-1] == until


@pytest.mark.parametrize(
    "path", ["/stories/9223372036854775808", "/stories/99999999999999999999999", "/stories/" + "9" * 5000, "/stories/x"]
)
def test_a_story_id_beyond_any_story_is_the_pages_own_404(sqlite_served: Served, path: str) -> None:
    response = page(sqlite_served, path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "There is no story" in response.text


def test_a_parameter_of_the_wrong_type_is_one_line_of_text_on_a_page(sqlite_served: Served) -> None:
    response = page(sqlite_served, "/", copies="maybe")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("copies: ") and response.text.count("\n") == 1


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


def test_the_sources_page_shows_a_source_whose_every_article_fails(sqlite_served: Served) -> None:
    crawl_with_every_article_failing(sqlite_served.config, "idle")
    html = page(sqlite_served, "/sources").text
    row = next(r for r in html.split("<tr>") if ">idle</a>" in r)
    assert '<td class="status-articles-failing">articles failing (1 in a row)</td>' in row
    assert "HTTP 500 (2 of 3 failed pages)" in row


def test_a_name_finds_its_other_scripts_and_says_which_form_it_found(sqlite_served: Served) -> None:
    html = page(sqlite_served, "/", q="Zelensky").text
    assert results(html) == [str(sqlite_served.ids[3])]
    assert "<mark>Зеленський</mark>" in html
    assert "found as: Zelensky, as Зеленський" in html
    assert results(page(sqlite_served, "/", q="=Zelensky").text) == []  # the literal word only
    api = httpx.get(sqlite_served.url + "/api/stories", params={"q": "Zelensky"}, timeout=30).json()
    assert [story["matched_as"] for story in api["stories"]] == [["Zelensky, as Зеленський"]]
