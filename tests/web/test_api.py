"""The JSON API over a real archive, through a real HTTP client against the running server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import feedparser
import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.odd_queries import ODD_QUERIES
from tests.web.conftest import NOW, SECRET_CHANNEL, STORIES, Served, crawl_with_every_article_failing


def get(served: Served, path: str, **params: object) -> httpx.Response:
    return httpx.get(served.url + path, params=params, timeout=30)


def found(served: Served, **params: object) -> list[dict[str, object]]:
    response = get(served, "/api/stories", **params)
    assert response.status_code == 200, response.text
    return response.json()["stories"]


def test_a_search_finds_the_story_once_with_its_outlets_and_highlighted_snippet(served: Served) -> None:
    stories = found(served, q='"security guarantees"')
    assert len(stories) == 1  # wire and paper carry one story: one row, naming both outlets
    story = stories[0]
    assert story["cluster_stories"] == 2
    assert sorted(story["cluster_outlets"]) == ["Paper Times", "Wire Times"]
    marked = [story["snippet"][start:end] for start, end in story["highlights"]]
    assert marked == ["security guarantees"]
    assert [story["title"][s:e].lower() for s, e in story["title_highlights"]] == ["security guarantees"]
    copies = found(served, q='"security guarantees"', copies="true")
    assert {s["source"] for s in copies} == {"wire", "paper"}


def test_filters_narrow_by_date_source_and_language_and_newest_sorts_by_date(served: Served) -> None:
    assert [s["title"] for s in found(served, q="ceasefire", since="12h")] == [STORIES[0][3]]
    assert found(served, q="ceasefire", source="daily")[0]["source"] == "daily"
    assert [s["language"] for s in found(served, language="uk")] == ["uk"]
    newest = found(served, sort="newest", copies="true")
    dates = [s["published_at"] for s in newest]
    assert dates == sorted(dates, reverse=True)
    assert len(newest) == len(STORIES)
    until = (NOW - timedelta(days=2, hours=12)).isoformat()
    assert [s["source"] for s in found(served, until=until)] == ["daily"]


def test_a_search_agrees_with_the_rule_language_not_and_cyrillic(served: Served) -> None:
    titles = {s["title"] for s in found(served, q="ceasefire NOT football", copies="true")}
    assert titles == {STORIES[0][3], STORIES[1][3], STORIES[2][3]}
    assert [s["source"] for s in found(served, q="гаранті*")] == ["paper"]


def test_a_story_comes_with_its_text_and_cluster_and_an_unknown_id_is_a_one_line_404(served: Served) -> None:
    response = get(served, f"/api/stories/{served.ids[0]}")
    assert response.status_code == 200
    story = response.json()
    assert story["text"].startswith(STORIES[0][4])
    assert [member["id"] for member in story["cluster"]] == [served.ids[1]]
    missing = get(served, "/api/stories/999999")
    assert missing.status_code == 404
    assert missing.json() == {"error": "no story with id 999999"}


@pytest.mark.parametrize(("query", "error"), [*ODD_QUERIES, ("🙂", "'🙂' has no letters or digits at column 1")],
                         ids=[*(query for query, _ in ODD_QUERIES), "emoji"])
def test_odd_queries_give_results_or_a_one_line_error_never_a_traceback(
    sqlite_served: Served, query: str, error: str | None
) -> None:
    response = get(sqlite_served, "/api/stories", q=query)
    if error is None:
        assert response.status_code == 200 and response.json()["stories"] == []
    else:
        assert (response.status_code, response.json()) == (400, {"error": f"q: {error}"})


def test_not_not_is_the_term_itself(served: Served) -> None:
    assert found(served, q="NOT NOT ceasefire") == found(served, q="ceasefire")


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("NOT " * 2000 + "a", "q: the query is longer than 4,000 characters at column 4001"),
        (" ".join(f"w{n}" for n in range(600)), "q: more than 200 terms (words, phrases and prefixes) at column 891"),
        ("(" * 11 + "a" + ")" * 11, "q: nested more than 10 deep (parentheses and NOT) at column 11"),
    ],
)
def test_a_query_beyond_a_limit_is_a_one_line_400_naming_it(served: Served, query: str, error: str) -> None:
    for path in ("/api/stories", "/api/timeline"):
        response = get(served, path, q=query)
        assert (response.status_code, response.json()) == (400, {"error": error})


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"since": "yesterday"}, "since: 'yesterday' is neither a duration"),
        ({"limit": "0"}, "limit: "),
        ({"limit": "lots"}, "limit: "),
        ({"sort": "best"}, "sort: "),
        ({"cluster": "x"}, "cluster: "),
    ],
)
def test_bad_parameters_are_a_400_that_names_the_parameter(sqlite_served: Served, params: dict[str, str],
                                                           says: str) -> None:
    response = get(sqlite_served, "/api/stories", **params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith(says) and "\n" not in error


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/api/stories/99999999999999999999999", "story_id: "),
        ("/api/stories/9223372036854775808", "story_id: "),
        ("/api/stories?cluster=99999999999999999999999", "cluster: "),
        ("/api/timeline?cluster=9223372036854775808", "cluster: "),
        ("/api/stories?since=99999999999999999999d", "since: '99999999999999999999d' reaches back before the year 1"),
        ("/api/timeline?since=99999999999999999999d", "since: '99999999999999999999d' reaches back before the year 1"),
        ("/api/stories?until=0001-01-01T00:00%2B05:00", "until: '0001-01-01T00:00+05:00' is before the year 1 in UTC"),
        ("/api/timeline?until=0001-01-01&since=9999-01-01", "since: '9999-01-01' is not before until '0001-01-01'"),
        ("/api/stories?source=wire%00", "source: "),
        ("/api/timeline?language=en%00", "language: "),
    ],
)
def test_out_of_range_parameters_are_a_one_line_400(served: Served, path: str, says: str) -> None:
    response = httpx.get(served.url + path, timeout=30)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error.startswith(says) and "\n" not in error


@pytest.mark.parametrize("until", ["0001-01-01", "0001-01-29T23:00", "9999-12-31T23:59:59"])
def test_the_timeline_reaches_the_ends_of_the_calendar(served: Served, until: str) -> None:
    response = get(served, "/api/timeline", until=until)
    assert response.status_code == 200, response.text
    days = response.json()["days"]
    assert days[-1] == {"day": until[:10], "stories": 0}
    assert 1 <= len(days) <= 30


def test_the_timeline_counts_matching_stories_per_day(served: Served) -> None:
    response = get(served, "/api/timeline", q="ceasefire")
    assert response.status_code == 200
    answer = response.json()
    days = {day["day"]: day["stories"] for day in answer["days"]}
    assert len(days) == 30 and answer["complete"]
    expected: dict[str, int] = {}
    for index, (_, _, ago, title, body) in enumerate(STORIES):
        if "ceasefire" in f"{title} {body}".lower():  # every copy counts
            day = (NOW - timedelta(days=ago, minutes=index)).astimezone(UTC).date().isoformat()
            expected[day] = expected.get(day, 0) + 1
    assert {d: n for d, n in days.items() if n} == expected
    everything = get(served, "/api/timeline", since="7d").json()
    assert sum(day["stories"] for day in everything["days"]) == len(STORIES)


def test_sources_show_health_and_rules_show_feeds_but_never_channel_urls(served: Served) -> None:
    sources = get(served, "/api/sources").json()
    assert [s["source"] for s in sources] == ["wire", "paper", "daily", "idle"]
    assert {s["status"] for s in sources} == {"never crawled"}
    response = get(served, "/api/rules")
    rules = response.json()
    assert [r["name"] for r in rules] == ["guarantees", "ceasefire"]
    assert rules[0]["notify"] == ["team"]
    assert rules[0]["feeds"] == {"rss": "/feeds/rules/guarantees.xml", "json": "/feeds/rules/guarantees.json"}
    assert "hunter2" not in response.text and SECRET_CHANNEL not in response.text


def test_sources_show_a_source_whose_every_article_fails(served: Served) -> None:
    crawl_with_every_article_failing(served.config, "idle")
    idle = next(s for s in get(served, "/api/sources").json() if s["source"] == "idle")
    assert (idle["status"], idle["failures_in_a_row"]) == ("articles failing", 1)
    assert idle["last_error"] == "HTTP 500 (2 of 3 failed pages)"


def test_the_openapi_description_lists_every_endpoint(sqlite_served: Served) -> None:
    paths = get(sqlite_served, "/api/openapi.json").json()["paths"]
    assert {"/api/stories", "/api/stories/{story_id}", "/api/timeline", "/api/sources", "/api/rules",
            "/feeds/rules/{name}.xml", "/feeds/rules/{name}.json"} <= set(paths)
    parameters = {p["name"] for p in paths["/api/stories"]["get"]["parameters"]}
    assert {"q", "since", "until", "source", "language", "cluster", "sort", "limit", "copies"} <= parameters


def test_every_rule_is_an_rss_feed_of_the_stories_it_matched(served: Served) -> None:
    response = get(served, "/feeds/rules/guarantees.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/rss+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    titles = {entry.title for entry in feed.entries}
    # one entry per cluster: the wire and paper copies are one story; the Ukrainian one matched too
    assert len(feed.entries) == 2
    assert STORIES[3][3] in titles
    assert titles & {STORIES[0][3], STORIES[1][3]}
    assert all(entry.link.startswith("https://") and entry.published_parsed for entry in feed.entries)


def test_every_rule_is_a_json_feed_and_an_unknown_rule_is_a_404(served: Served) -> None:
    response = get(served, "/feeds/rules/ceasefire.json")
    assert response.headers["content-type"].startswith("application/feed+json")
    feed = response.json()
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    titles = [item["title"] for item in feed["items"]]
    assert "<script>alert('title')</script> Football cup final" not in titles  # NOT football
    assert STORIES[2][3] in titles
    assert all(datetime.fromisoformat(item["date_published"]) for item in feed["items"])
    missing = get(served, "/feeds/rules/nope.json")
    assert missing.status_code == 404
    assert missing.json()["error"] == "no rule named 'nope'; known: guarantees, ceasefire"


def test_an_archive_that_cannot_be_read_is_a_one_line_503_and_the_server_goes_on(sqlite_served: Served) -> None:
    engine = create_engine(sqlite_served.config.database.url)
    with engine.begin() as connection:  # damage the search index under the running server
        connection.execute(text("DROP TABLE stories_fts"))
    engine.dispose()
    response = get(sqlite_served, "/api/stories", q="ceasefire")
    assert response.status_code == 503
    assert response.json()["error"].startswith("the archive could not be read")
    assert get(sqlite_served, "/api/stories").status_code == 200  # what does not need the index still works
