"""The archive commands (search, show, export, db upgrade) on a real database, through click's CliRunner."""

from __future__ import annotations

import csv
import io
import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from db.session import head_revision, open_database
from db.sources import sync_sources
from db.storage import store_article
from newsmon.cli import cli
from newsmon.config import SourceConfig
from tests.conftest import run_newsmon, write_config
from tests.factories import make_article
from tests.servers import Outlet, article_page, rss

NOW = datetime.now(UTC)


@pytest.fixture
def archive(tmp_path: Path, database_url: str) -> Path:
    """A config whose archive holds three stories, one of them known under two URLs and rewritten once."""
    engine = open_database(database_url)
    with Session(engine) as session, session.begin():
        ids = sync_sources(session, [SourceConfig(name="wire", feed="https://wire.example/rss"),
                                     SourceConfig(name="paper", feed="https://paper.example/rss")], NOW)
        first = make_article(url="https://wire.example/geneva", urls=("https://wire.example/geneva",),
                             title="Geneva talks on the peace plan", published_at=NOW - timedelta(hours=2),
                             embedded=("Productive talks in Geneva today. — The White House (@WhiteHouse)",))
        store_article(session, first, ids["wire"], NOW)
        copy = make_article(url="https://paper.example/world/geneva", urls=("https://paper.example/world/geneva",),
                            title="Copy", text=first.text)
        store_article(session, copy, ids["paper"], NOW)
        rewrite = make_article(url="https://paper.example/world/geneva-update", title="Geneva: talks go on",
                               urls=("https://paper.example/world/geneva-update",), site_name="The Paper",
                               published_at=NOW - timedelta(days=1),
                               text=first.text + " The talks on the plan go on in Geneva on Tuesday.")
        store_article(session, rewrite, ids["paper"], NOW)  # a near-duplicate: the same cluster
        store_article(session, make_article(url="https://paper.example/odesa", urls=("https://paper.example/odesa",),
                                            title="Odesa: \u0443\u0434\u0430\u0440 \u043f\u043e \u043f\u043e\u0440\u0442\u0443, \"quoted\"",
                                            text="Port of Odesa struck overnight; " * 10,
                                            published_at=NOW - timedelta(days=10)), ids["paper"], NOW)
    engine.dispose()
    return write_config(tmp_path / "config.yaml", database_url, [])


def _invoke(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_search_table_and_json(archive: Path) -> None:
    table = _invoke(archive, "search", "geneva").splitlines()
    assert table[0].split() == ["id", "published_at", "source", "title", "outlets", "url"]
    assert len(table) == 3 and "2: Example News, The Paper" in table[2]  # one row for the cluster, best first
    newest = _invoke(archive, "search", "geneva", "--sort", "newest").splitlines()
    assert "Geneva talks on the peace plan" in newest[2]
    assert len(_invoke(archive, "search", "geneva", "--copies").splitlines()) == 4
    records = json.loads(_invoke(archive, "search", "--format", "json"))
    assert [r["title"] for r in records][0] == "Geneva talks on the peace plan"  # newest first
    assert set(records[0]) >= {"id", "url", "urls", "title", "text", "source", "published_at", "fetched_at", "language"}
    assert records[0]["urls"] == ["https://wire.example/geneva", "https://paper.example/world/geneva"]
    paper = json.loads(_invoke(archive, "search", "--source", "paper", "--format", "json"))
    assert [(r["source"], r["title"][:6]) for r in paper] == [("paper", "Geneva"), ("paper", "Odesa:")]
    assert json.loads(_invoke(archive, "search", "--since", "7d", "--format", "json"))[0]["source"] == "wire"
    assert len(json.loads(_invoke(archive, "search", "--since", "7d", "--format", "json"))) == 1
    cluster = json.loads(_invoke(archive, "search", "geneva", "--format", "json"))[0]
    assert cluster["cluster_stories"] == 2 and cluster["cluster_outlets"] == ["Example News", "The Paper"]
    assert cluster["rank"] > 0 and "Geneva" in cluster["snippet"]
    bad = CliRunner().invoke(cli, ["--config", str(archive), "search", '"peace plan'])
    assert bad.exit_code == 1 and "search query: unclosed quote at column 1" in str(bad.exception)
    assert len(_invoke(archive, "search", "--limit", "1", "--format", "jsonl").splitlines()) == 1


def test_search_not_not_means_the_term(archive: Path) -> None:
    assert _invoke(archive, "search", "NOT NOT geneva", "--format", "json") == _invoke(archive, "search", "geneva",
                                                                                       "--format", "json")
    both = _invoke(archive, "search", "NOT (NOT geneva OR NOT tuesday)", "--format", "json")
    assert [r["title"] for r in json.loads(both)] == ["Geneva: talks go on"]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        (" ".join(f"w{n}" for n in range(20_000))[:100_000],
         "the query is longer than 4,000 characters at column 4001"),
        (" ".join(f"w{n}" for n in range(201)), "more than 200 terms (words, phrases and prefixes) at column 891"),
        ("(" * 10_000 + "a" + ")" * 10_000, "the query is longer than 4,000 characters at column 4001"),
        ("(" * 11 + "a" + ")" * 11, "nested more than 10 deep (parentheses and NOT) at column 11"),
        ("NOT " * 10_000 + "a", "the query is longer than 4,000 characters at column 4001"),
        ("geneva " + "NOT " * 11 + "a", "nested more than 10 deep (parentheses and NOT) at column 48"),
    ],
)
def test_a_search_beyond_a_query_limit_is_one_line_naming_it(archive: Path, query: str, error: str) -> None:
    result = run_newsmon("--config", str(archive), "search", query)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", f"error: search query: {error}\n")


def test_show_text_and_json(archive: Path) -> None:
    story_id = json.loads(_invoke(archive, "search", "geneva", "--sort", "newest", "--format", "json"))[0]["id"]
    text = _invoke(archive, "show", str(story_id))
    assert text.splitlines()[0] == "Geneva talks on the peace plan"
    assert "also at:   https://paper.example/world/geneva" in text
    assert "cluster:   2 stories; the others:" in text
    assert "The Paper: Geneva: talks go on <https://paper.example/world/geneva-update>" in text
    assert "Embedded posts (not matched by rules or search): 1\n> Productive talks in Geneva today." in text
    shown = json.loads(_invoke(archive, "show", str(story_id), "--format", "json"))
    assert shown["id"] == story_id
    assert shown["embedded_posts"] == ["Productive talks in Geneva today. — The White House (@WhiteHouse)"]
    missing = CliRunner().invoke(cli, ["--config", str(archive), "show", "999999"])
    assert missing.exit_code == 1 and "no story with id 999999" in str(missing.exception)


def test_clusters_lists_stories_that_are_one_story(archive: Path) -> None:
    records = json.loads(_invoke(archive, "clusters", "--format", "json"))
    assert [(r["stories"], r["outlets"], r["title"]) for r in records] == [
        (2, ["Example News", "The Paper"], "Geneva talks on the peace plan")
    ]
    assert len(json.loads(_invoke(archive, "clusters", "--min-stories", "1", "--since", "30d", "--format", "json"))) == 2
    table = _invoke(archive, "clusters").splitlines()
    assert table[0].split() == ["cluster_id", "stories", "outlets", "last_at", "title"]
    assert "2: Example News, The Paper" in table[2]


def test_export_jsonl_and_csv_round_trip(archive: Path) -> None:
    lines = [json.loads(line) for line in _invoke(archive, "export").splitlines()]
    assert len(lines) == 3
    assert lines[2]["title"].startswith("Odesa: удар по порту")
    assert lines[1]["cluster_id"] == lines[0]["id"] and lines[2]["cluster_id"] == lines[2]["id"]
    rows = list(csv.DictReader(io.StringIO(_invoke(archive, "export", "--format", "csv"))))
    assert [r["title"] for r in rows] == [line["title"] for line in lines]
    assert rows[2]["text"] == lines[2]["text"]
    assert len(_invoke(archive, "export", "--since", "2d").splitlines()) == 2


def test_db_upgrade_reports_the_revision(archive: Path) -> None:
    assert f"already at revision {head_revision()}" in _invoke(archive, "db", "upgrade")


@pytest.mark.parametrize("args", [["search", "--cluster", "99999999999999999999"], ["show", "9223372036854775808"],
                                  ["show", "0"]])
def test_an_id_no_story_can_have_is_a_usage_error(archive: Path, args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["--config", str(archive), *args])
    assert result.exit_code == 2
    assert "is not in the range 1<=x<=9223372036854775807" in result.output


@pytest.mark.parametrize(
    ("since", "says"),
    [("last tuesday", "neither a duration (7d, 12h) nor a date"),
     ("99999999999999999999d", "'99999999999999999999d' reaches back before the year 1"),
     ("0001-01-01T00:00+05:00", "'0001-01-01T00:00+05:00' is before the year 1 in UTC")],
)
def test_bad_since_is_a_usage_error(archive: Path, since: str, says: str) -> None:
    result = CliRunner().invoke(cli, ["--config", str(archive), "search", "--since", since])
    assert result.exit_code == 2
    assert says in result.output


def test_log_format_json_writes_one_object_per_line(tmp_path: Path, outlet: Outlet) -> None:
    page = outlet.add("/world/1.html", article_page("Talks resume", ["Negotiators met again in Geneva on Sunday to go "
                                                                      "through the revised draft line by line."] * 3))
    feed = outlet.add("/rss.xml", rss([{"title": "Talks resume", "link": page},
                                       {"title": "Gone", "link": outlet.url("/world/gone.html")}]),
                      content_type="application/rss+xml")
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'n.db'}", [{"name": "wire", "feed": feed}])
    result = run_newsmon("--log-format", "json", "-v", "--config", str(config), "crawl")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "-v logs at least the crawl's own lines"
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    assert any(entry["logger"].startswith(("crawler", "alerts", "newsmon")) for entry in entries)


@pytest.mark.parametrize("role", ["scheduler", "worker"])
def test_a_scale_out_role_without_redis_says_what_to_set(tmp_path: Path, role: str) -> None:
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'n.db'}", [])
    result = run_newsmon("--config", str(config), "run", "--role", role, timeout=60)
    assert result.returncode == 2, result.stderr
    assert f"--role {role} needs redis.url in the config (or NEWSMON_REDIS_URL)" in result.stderr


@pytest.mark.parametrize("role", ["scheduler", "worker"])
def test_a_role_that_cannot_reach_redis_exits_in_one_line_without_the_password(tmp_path: Path, role: str) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'n.db'}", [],
                          redis={"url": f"redis://:s3cret-pw@127.0.0.1:{port}/0"})
    result = run_newsmon("--config", str(config), "run", "--role", role, timeout=60)
    assert result.returncode == 1, result.stderr  # not 0: a supervisor starts it again
    assert f"error: cannot reach Redis at 127.0.0.1:{port}/0" in result.stderr
    assert "Traceback" not in result.stderr
    assert "s3cret-pw" not in result.stderr + result.stdout


def test_commands_that_read_the_archive_leave_channel_urls_to_those_that_send(tmp_path: Path) -> None:
    """A channel URL apprise does not understand stops `check`, `crawl` and the alert commands (exit 2), not a
    search of the archive: reading never sends, and judging a URL loads every apprise plugin."""
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'n.db'}",
                          [{"name": "wire", "feed": "https://wire.example/rss"}],
                          channels={"team": "nosuchscheme://hook"},
                          rules=[{"name": "talks", "query": "ceasefire", "notify": ["team"]}])
    searched = run_newsmon("--config", str(config), "search", "ceasefire")
    assert searched.returncode == 0, searched.stderr
    assert "no stories found" in searched.stdout + searched.stderr
    for command in (["check"], ["alerts", "deliver"]):
        checked = run_newsmon("--config", str(config), *command)
        assert checked.returncode == 2, (command, checked.stdout, checked.stderr)
        assert "channels.team: not a notification URL apprise understands" in checked.stderr
