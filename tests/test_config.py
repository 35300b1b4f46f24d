"""config.yaml: the shipped default, validation that reports every problem by its path, environment values."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from alerts.matching import RuleSet, RuleSpec, StoryText
from newsmon.config import Config, ConfigError
from newsmon.config_load import load_config, validate_config
from newsmon.moments import parse_duration
from tests.conftest import REPO, run_newsmon


def test_the_shipped_config_is_valid_and_real() -> None:
    config = load_config(REPO / "config.yaml", environ={})
    assert len(config.sources) >= 15
    assert {s.kind.value for s in config.sources} == {"feed", "sitemap", "page"}
    assert any(s.language == "uk" for s in config.sources)
    rules = RuleSet(RuleSpec(r.name, r.query, r.exclude, r.sources, r.languages) for r in config.rules)
    headlines = {  # real ways outlets write the names the default rules follow, inflected forms included
        "Zelenskyy meets Rubio in Geneva": {"zelensky", "rubio-diplomacy"},
        "Зеленського запросили до Женеви": {"zelensky"},
        "Selenskyj: Gespräche in Genf": {"zelensky"},
        "Путіна попередили перед переговорами з Trump": {"putin-on-talks"},
        "Удар по Одесі: пошкоджено порт": {"odesa"},
        "Ukraine and Russia agree a ceasefire": {"ukraine-ceasefire"},
        "Росія та Україна погодили перемир'я": {"ukraine-ceasefire"},
        "Уиткофф и Кушнер прилетели в Москву": {"us-envoys"},
        "Рубио обсудил с Лавровым ситуацию на Украине": {"rubio-diplomacy"},
        "Kyivstar restores service": set(),
        "Ukrainian exports grow": set(),
    }
    for headline, expected in headlines.items():
        assert set(rules.match(StoryText(headline, "", "any", "en"))) == expected, headline
    assert config.database.url == f"sqlite:///{REPO / 'newsmon.db'}"  # relative to the config's folder


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    data = {
        "sources": [
            {"name": "a", "feed": "https://a.example/rss", "page": "https://a.example/", "every": "10 minutes"},
            {"name": "a", "sitemap": "ftp://a.example/sitemap.xml"},
            {"name": "c"},
        ],
        "channels": {"desk": "mailtos://${SMTP_USER}:${SMTP_PASSWORD}@smtp.example.org"},
        "rules": [{"name": "r", "query": "ceasefire", "notify": ["team"]}],
        "crawl": {"delay": -1, "concurency": 4},
        "databse": {},
    }
    with pytest.raises(ConfigError) as caught:
        validate_config(data, environ={"SMTP_USER": "u"})
    problems = caught.value.problems
    assert set(problems) == {
        "channels.desk: environment variable SMTP_PASSWORD is not set (referenced as ${SMTP_PASSWORD})",
        "crawl.delay: Input should be greater than or equal to 0",
        "crawl.concurency: unknown key (allowed: user_agent, concurrency, delay, timeout, max_bytes, "
        "sitemap_window, max_links, extraction_time_limit, extraction_workers, obey_robots_txt, "
        "allow_private_networks, private_hosts)",
        "databse: unknown key (allowed: database, crawl, service, clusters, sources, channels, rules, alerts, quiet_hours, names, web, redis)",
        "sources[0].every: '10 minutes' is not a duration; write e.g. 30s, 10m, 1h30m or 2d",
        "sources[0]: give exactly one of feed, sitemap or page (found feed and page)",
        "sources[1].sitemap: must be an http:// or https:// URL",
        "sources[1].name: 'a' is already used by sources[0]",
        "sources[2]: give exactly one of feed, sitemap or page (found none)",
        "rules[0].notify: channel 'team' is not defined under channels",
    }
    assert str(caught.value).startswith("10 problems in the config:")


def test_environment_values_fill_secrets_and_the_database_url_wins(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "database": {"url": "sqlite:///data/archive.db"},
        "channels": {"desk": "json://${HOOK_HOST:-127.0.0.1}/${HOOK_PATH}"},
    }))
    config = load_config(path, environ={"HOOK_PATH": "alerts"})
    assert config.channels["desk"] == "json://127.0.0.1/alerts"
    assert config.database.url == f"sqlite:///{tmp_path / 'data' / 'archive.db'}"
    config = load_config(path, environ={"HOOK_PATH": "x", "NEWSMON_DATABASE_URL": "postgresql+psycopg://u:p@db/n"})
    assert config.database.url == "postgresql+psycopg://u:p@db/n"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://cache:6379/0", "use redis://host:6379/0"),
        ("redis://:s3cr#t@cache:6379/0", "percent-encode a /, ?, # or @ in its password"),
        ("redis://:s3cr/t@cache:6379/0", "percent-encode a /, ?, # or @ in its password"),
        ("redis:///0", "the Redis URL names no host"),
    ],
)
def test_a_redis_url_that_cannot_work_is_refused_without_repeating_it(tmp_path: Path, url: str, problem: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"redis": {"url": url}}))
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert problem in str(caught.value) and "s3cr" not in str(caught.value)
    path.write_text(yaml.safe_dump({"redis": {"prefix": "desk"}}))
    with pytest.raises(ConfigError) as caught:  # the same through the environment
        load_config(path, environ={"NEWSMON_REDIS_URL": url})
    assert "NEWSMON_REDIS_URL" in str(caught.value) and problem in str(caught.value)
    assert "s3cr" not in str(caught.value)
    encoded = load_config(path, environ={"NEWSMON_REDIS_URL": "redis://:s3cr%23t@cache:6379/0"})
    assert encoded.redis.url == "redis://:s3cr%23t@cache:6379/0"


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("10m", 600), ("1h30m", 5400), ("2d", 172800), ("1w", 604800), (90, 90)]
)
def test_durations(text: object, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "10", "m", "10x", "-5m", "0s", "1h 30", True, "99999999999999999999d", 10**30])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_bad_yaml_and_missing_file_are_one_clear_line(tmp_path: Path) -> None:
    broken = tmp_path / "config.yaml"
    broken.write_text("sources:\n  - name: a\n   feed: x\n")
    with pytest.raises(ConfigError, match=r"not valid YAML at line 3, column 4"):
        load_config(broken, environ={})
    with pytest.raises(ConfigError, match="not found; pass --config PATH or set NEWSMON_CONFIG"):
        load_config(tmp_path / "nope.yaml", environ={})


def test_check_exits_2_on_a_bad_config_and_never_prints_secrets(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "database": {"url": "postgresql+psycopg://newsmon:db-s3cret@127.0.0.1/newsmon"},
        "channels": {"desk": "mailtos://user:mail-s3cret@smtp.example.org?to=desk@example.org"},
        "rules": [{"name": "r", "query": "ceasefire", "notify": ["desk"]}],
    }))
    good = run_newsmon("--config", str(path), "check")
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("config OK: 0 sources (none), 1 rules, 1 channels")
    for output in (good, run_newsmon("--config", str(path), "check", "--format", "json")):
        assert "s3cret" not in output.stdout + output.stderr
    path.write_text(yaml.safe_dump({"sources": [{"name": "x", "feed": "https://x/", "every": "soon"}]}))
    bad = run_newsmon("--config", str(path), "check")
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert "sources[0].every: 'soon' is not a duration" in bad.stderr
    assert "Traceback" not in bad.stderr


def _model_fields(model: type, prefix: str = "") -> list[str]:
    """Dotted paths of every field, as the README writes them (``sources[].every``)."""
    names = []
    for name, field in model.model_fields.items():  # type: ignore[attr-defined]
        names.append(prefix + name)
        is_list = getattr(field.annotation, "__origin__", None) is list
        inner = [t for t in getattr(field.annotation, "__args__", (field.annotation,)) if isinstance(t, type)]
        for candidate in inner:
            if hasattr(candidate, "model_fields"):
                names += _model_fields(candidate, prefix + name + ("[]." if is_list else "."))
    return names


def test_every_config_field_is_described_and_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    reference = readme.split("## Config reference", 1)[1].split("\n## ", 1)[0]
    for path in _model_fields(Config):
        assert re.search(rf"^\| `{re.escape(path)}` \|", reference, re.MULTILINE), f"{path} is not in the README"

    def described(model: type) -> None:
        for name, field in model.model_fields.items():  # type: ignore[attr-defined]
            assert field.description, f"{model.__name__}.{name} has no description"
            for candidate in getattr(field.annotation, "__args__", (field.annotation,)):
                if isinstance(candidate, type) and hasattr(candidate, "model_fields"):
                    described(candidate)

    described(Config)


def test_a_follow_pattern_must_be_a_regular_expression() -> None:
    with pytest.raises(ConfigError) as caught:
        validate_config({"sources": [{"name": "p", "page": "https://example.org/world/", "follow": "/news/("}]})
    assert caught.value.problems == [
        "sources[0].follow: not a regular expression: missing ), unterminated subpattern at position 6"
    ]
