"""config.yaml: the pydantic models that validate it, and the loader that reports every problem at once.

Precedence, lowest first: the defaults below, config.yaml, ``NEWSMON_*`` environment variables, command-line
flags (applied by the CLI). ``${VAR}`` and ``${VAR:-default}`` in any string value are read from the
environment, so secrets stay out of the file.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from newsmon.errors import ConfigError
from newsmon.logging import hide_in_logs

DEFAULT_CONFIG_PATH = "config.yaml"
DATABASE_URL_ENV = "NEWSMON_DATABASE_URL"
REDIS_URL_ENV = "NEWSMON_REDIS_URL"
CONFIG_PATH_ENV = "NEWSMON_CONFIG"

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_HOST_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*")


class _DurationTooLong(ValueError):
    """A duration beyond what a timedelta holds (999,999,999 days)."""


def parse_moment(value: str, now: datetime | None = None) -> datetime:
    """``7d``/``12h`` (that long before ``now``) or a date/time (``2026-11-20``, ``2026-11-20T08:00+02:00``;
    UTC when no zone is given), as an aware datetime in UTC.

    Raises:
        ValueError: it is neither, or it is outside the calendar (years 1 to 9999 in UTC), said in one line.
    """
    text = str(value).strip()
    try:
        back = parse_duration(text)
    except _DurationTooLong:
        raise ValueError(f"{text!r} reaches back before the year 1") from None
    except ValueError:
        pass
    else:
        try:
            return (now or datetime.now(UTC)) - back
        except OverflowError:
            raise ValueError(f"{text!r} reaches back before the year 1") from None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is neither a duration (7d, 12h) nor a date (2026-11-20)") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        edge = "before the year 1" if parsed.year == 1 else "after the year 9999"
        raise ValueError(f"{text!r} is {edge} in UTC") from None


def parse_duration(value: object) -> timedelta:
    """Read ``90s``, ``10m``, ``1h30m``, ``2d``, ``1w`` or a number of seconds as a timedelta.

    Raises:
        ValueError: with a message that says what a duration looks like.
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("not a duration; write e.g. 30s, 10m, 1h30m or 2d")
    if isinstance(value, int | float):
        if value <= 0:
            raise ValueError("a duration must be positive")
        return _timedelta(value, value)
    text = str(value).strip().lower().replace(" ", "")
    position, seconds = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise ValueError(f"{value!r} is not a duration; write e.g. 30s, 10m, 1h30m or 2d")
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return _timedelta(seconds, value)


def _timedelta(seconds: float, written: object) -> timedelta:
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise _DurationTooLong(f"{written!r} is longer than 999,999,999 days") from None


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class _Section(BaseModel):
    """Every section refuses keys it does not know: a typo must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Section):
    url: str = Field(
        default="sqlite:///newsmon.db",
        description=(
            "SQLAlchemy URL of the archive: sqlite:///PATH (a relative PATH is relative to config.yaml's folder) "
            "or postgresql+psycopg://user:pass@host/db. The environment variable NEWSMON_DATABASE_URL wins."
        ),
    )

    @field_validator("url")
    @classmethod
    def _known_backend(cls, url: str) -> str:
        if not url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("use sqlite:///PATH or postgresql+psycopg://user:pass@host/db")
        return url


class RedisConfig(_Section):
    url: str | None = Field(
        default=None,
        description=(
            "redis://[:password@]host:6379/0 of the queue that `newsmon run --role scheduler` and its `--role "
            "worker`s share (scale-out); the single-machine mode needs none. NEWSMON_REDIS_URL wins."
        ),
    )
    prefix: str = Field(
        default="newsmon", pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
        description="Prefix of every Redis key newsmon uses (two archives can share one Redis with two prefixes).",
    )
    seen_window: Duration = Field(
        default=timedelta(minutes=10),
        description="How long the shared duplicate filter remembers an article URL any worker fetched, so two "
                    "sources listing it at once fetch it once (one to two windows; expiring keys bound its "
                    "memory). A page lost with a killed worker is fetched again after it.",
    )

    @field_validator("url")
    @classmethod
    def _redis_scheme(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("use redis://host:6379/0 (rediss:// with TLS, unix:///path/to/socket)")
        if url is not None:
            try:  # the URL itself is never repeated: it may hold a password
                parts = urlsplit(url)
                parts.port  # noqa: B018 - raises on a port that is not a number
            except ValueError:
                raise ValueError("not a valid Redis URL: percent-encode a /, ?, # or @ in its password "
                                 "(e.g. %2F for /)") from None
            if url.startswith(("redis://", "rediss://")) and not parts.hostname:
                raise ValueError("the Redis URL names no host: use redis://host:6379/0 (percent-encode a /, ?, # "
                                 "or @ in its password)")
        return url


class CrawlConfig(_Section):
    user_agent: str = Field(
        default="newsmon/0.1 (+https://github.com/newsmon/newsmon)",
        min_length=1,
        description="User-Agent header sent with every request; outlets use it to contact you.",
    )
    concurrency: int = Field(default=16, ge=1, le=512, description="Requests in flight at once, all hosts together.")
    delay: float = Field(default=1.0, ge=0, le=600, description="Seconds between two requests to the same host.")
    timeout: float = Field(default=30, gt=0, le=3600, description="Seconds before one request is given up.")
    max_bytes: int = Field(
        default=20_000_000, gt=0, description="Largest response accepted, in bytes after decompression."
    )
    sitemap_window: Duration = Field(
        default=timedelta(days=2),
        description="Only sitemap entries (and sitemaps of an index) dated within this are fetched; undated ones are.",
    )
    max_links: int = Field(
        default=1000, ge=1, le=100_000, description="Most article links read from one listing (newest first)."
    )
    extraction_time_limit: float = Field(
        default=20, ge=0, le=600, description="Seconds one page's extraction may take (0: no limit); past it, it fails."
    )
    extraction_workers: int | None = Field(
        default=None, ge=0, le=256,
        description="Processes that extract pages, one page each at a time (default: one per core, none on a single "
                    "core; 0: in the crawl's own process, where the time limit cannot stop a page stuck in C code).",
    )
    obey_robots_txt: bool = Field(default=True, description="Skip URLs that the site's robots.txt disallows.")
    allow_private_networks: bool = Field(
        default=False,
        description="Allow loopback, private and link-local addresses (off: such URLs are refused).",
    )
    private_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts fetched on a private network although allow_private_networks is off (an intranet "
                    "outlet: [news.intranet.example, 10.0.0.5]); every other private address stays refused.",
    )

    @field_validator("private_hosts")
    @classmethod
    def _bare_hosts(cls, hosts: list[str]) -> list[str]:
        bare = [host.strip().strip("[]").rstrip(".").lower() for host in hosts]
        for given, host in zip(hosts, bare, strict=True):
            if not _HOST_NAME.fullmatch(host) and not _is_address(host):
                raise ValueError(f"{given!r} is not a host name or address (no scheme, port or path: "
                                 "news.intranet.example, 10.0.0.5)")
        return bare


class SourceKind(StrEnum):
    FEED = "feed"
    SITEMAP = "sitemap"
    PAGE = "page"


class SourceConfig(_Section):
    name: str = Field(pattern=_NAME, description="Unique name of the source, used on the command line and in rules.")
    feed: str | None = Field(default=None, description="URL of an RSS 2.0, RSS 1.0 or Atom feed.")
    sitemap: str | None = Field(default=None, description="URL of a news sitemap or sitemap index (gzip allowed).")
    page: str | None = Field(default=None, description="URL of a section page whose article links are followed.")
    every: Duration = Field(default=timedelta(minutes=15), description="How often to look: 30s, 10m, 1h, 2d ...")
    min_every: Duration | None = Field(
        default=None, description="`newsmon run` polls a busy source down to this (default: every / 4, at least 1m)."
    )
    max_every: Duration | None = Field(
        default=None, description="`newsmon run` polls a quiet source up to this (default: every x 4)."
    )
    language: str | None = Field(
        default=None, pattern=r"^[a-z]{2,3}$", description="Language hint (ISO 639-1) for pages that declare none."
    )
    follow: str | None = Field(
        default=None,
        description="For a page source: a regular expression; only same-site links whose URL it finds are followed.",
    )

    @field_validator("follow")
    @classmethod
    def _regex(cls, follow: str | None) -> str | None:
        if follow is not None:
            try:
                re.compile(follow)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from exc
        return follow

    @field_validator("feed", "sitemap", "page")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https?://[^/\s]+", url):
            raise ValueError("must be an http:// or https:// URL")
        return url

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> SourceConfig:
        given = [kind.value for kind in SourceKind if getattr(self, kind.value) is not None]
        if len(given) != 1:
            found = " and ".join(given) if given else "none"
            raise ValueError(f"give exactly one of feed, sitemap or page (found {found})")
        if self.min_every is not None and self.min_every > self.every:
            raise ValueError("min_every must not be longer than every")
        if self.max_every is not None and self.max_every < self.every:
            raise ValueError("max_every must not be shorter than every")
        return self

    @property
    def poll_bounds(self) -> tuple[timedelta, timedelta]:
        """The shortest and longest interval adaptive polling may use for this source."""
        shortest = self.min_every or min(self.every, max(self.every / 4, timedelta(minutes=1)))
        return shortest, self.max_every or self.every * 4

    @property
    def kind(self) -> SourceKind:
        return next(kind for kind in SourceKind if getattr(self, kind.value) is not None)

    @property
    def url(self) -> str:
        return str(getattr(self, self.kind.value))


class RuleConfig(_Section):
    name: str = Field(pattern=_NAME, description="Unique name of the rule, shown in every alert it sends.")
    query: str = Field(
        min_length=1,
        description='What to match: terms, "phrases", AND, OR, NOT, ( ), prefix*, title: and text: scopes.',
    )
    notify: list[str] = Field(default_factory=list, description="Names of the channels that receive its alerts.")
    exclude: str | None = Field(default=None, description="A query that vetoes a match (same language as query).")
    sources: list[str] | None = Field(default=None, description="Only stories of these sources (default: all).")
    languages: list[str] | None = Field(
        default=None, description="Only stories in these languages, ISO 639-1 codes (default: all)."
    )
    digest: str | None = Field(
        default=None,
        description='Cron schedule ("0 8 * * *", UTC): gather the rule\'s stories into one message at those times.',
    )
    followups: bool = Field(
        default=False,
        description="After alerting on a story, send one follow-up naming the other outlets that reported it.",
    )

    @field_validator("query", "exclude")
    @classmethod
    def _parses(cls, query: str | None) -> str | None:
        from alerts.query import parse_query  # the rule language lives with the alerts

        if query is not None:
            parse_query(query)  # QueryError is a ValueError: "unclosed quote at column 14"
        return query

    @field_validator("digest")
    @classmethod
    def _cron(cls, digest: str | None) -> str | None:
        if digest is not None:
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(digest, timezone="UTC")
            except ValueError as exc:
                raise ValueError(f"not a cron schedule (minute hour day month weekday): {exc}") from exc
        return digest


class ClustersConfig(_Section):
    similarity: float = Field(
        default=0.5,
        ge=0.05,
        le=1.0,
        description="A new story joins the cluster of a stored one when this share of the shorter text's 3-word "
        "phrases is in the other (copies, rewrites and updates score 0.57 and up, different stories 0.35 at most).",
    )
    window: Duration = Field(
        default=timedelta(days=7), description="How long after its first story a cluster may still gain copies."
    )
    followup_after: Duration = Field(
        default=timedelta(hours=1),
        description="For rules with followups: true, when after the alert the one follow-up names the other outlets.",
    )


class ServiceConfig(_Section):
    processes: int = Field(default=2, ge=1, le=64, description="Crawl processes `newsmon run` keeps going at once.")
    batch_size: int = Field(
        default=500, ge=1, le=5000, description="Most sources one crawl process takes (due sources are batched)."
    )
    crawl_time_limit: Duration = Field(
        default=timedelta(minutes=15), description="A crawl process still running after this is stopped and recorded."
    )
    deliver_every: Duration = Field(default=timedelta(seconds=10), description="How often the outbox is sent.")
    stop_grace: Duration = Field(
        default=timedelta(seconds=30), description="On SIGTERM, how long in-flight crawls may take to finish."
    )
    jitter: float = Field(
        default=0.1, ge=0, le=0.5, description="Random spread of each poll, as a fraction of the interval (at most 5m)."
    )
    adaptive: bool = Field(
        default=True, description="Poll sources that rarely change less often, and overflowing ones more often."
    )
    health_channel: str | None = Field(
        default=None,
        description="Channel told when a source turns failing, articles failing or silent, and when it recovers.",
    )


class WebConfig(_Section):
    host: str = Field(
        default="127.0.0.1", description="Address `newsmon serve` listens on; beyond loopback it needs a token."
    )
    port: int = Field(default=8000, ge=0, le=65535, description="Port of `newsmon serve` (0: any free port).")
    token: SecretStr | None = Field(
        default=None,
        description="When set, every request must carry it (Authorization: Bearer, ?token=, or the cookie the page "
        "then sets). Write ${NEWSMON_WEB_TOKEN} to keep it out of the file.",
    )


class Config(_Section):
    database: DatabaseConfig = Field(default_factory=DatabaseConfig, description="Where the archive is stored.")
    crawl: CrawlConfig = Field(default_factory=CrawlConfig, description="How pages are fetched.")
    service: ServiceConfig = Field(default_factory=ServiceConfig, description="How `newsmon run` schedules work.")
    clusters: ClustersConfig = Field(
        default_factory=ClustersConfig, description="When stories count as one (copies, rewrites, updates)."
    )
    sources: list[SourceConfig] = Field(default_factory=list, description="The outlets to watch.")
    channels: dict[str, str] = Field(
        default_factory=dict, description="Channel name -> apprise URL (mailtos://, json://, slack:// ...)."
    )
    rules: list[RuleConfig] = Field(default_factory=list, description="What to alert on, and where to send it.")
    web: WebConfig = Field(default_factory=WebConfig, description="The archive's web page and JSON API.")
    redis: RedisConfig = Field(
        default_factory=RedisConfig, description="The shared queue of a scale-out (`newsmon run --role`)."
    )

    @model_validator(mode="after")
    def _names_are_unique_and_known(self) -> Config:
        problems = _cross_check(self.model_dump())
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        raise ConfigError([f"no source named {name!r}; known: {', '.join(s.name for s in self.sources) or 'none'}"])


def _cross_check(data: Mapping[str, Any]) -> list[str]:
    """Checks across entries, run on the raw data too so they are reported even when a field is also wrong."""
    sources = [s for s in data.get("sources") or [] if isinstance(s, dict)]
    rules = [r for r in data.get("rules") or [] if isinstance(r, dict)]
    channels = data.get("channels") if isinstance(data.get("channels"), dict) else {}
    problems = []
    for index, source in enumerate(sources):
        given = [kind.value for kind in SourceKind if source.get(kind.value) is not None]
        if len(given) != 1:
            found = " and ".join(given) if given else "none"
            problems.append(f"sources[{index}]: give exactly one of feed, sitemap or page (found {found})")
    problems += _duplicates("sources", [s.get("name") for s in sources])
    problems += _duplicates("rules", [r.get("name") for r in rules])
    source_names = {s.get("name") for s in sources}
    for index, rule in enumerate(rules):
        notify = rule.get("notify") or []
        for channel in notify if isinstance(notify, list) else []:
            if isinstance(channel, str) and channel not in channels:
                problems.append(f"rules[{index}].notify: channel {channel!r} is not defined under channels")
        only = rule.get("sources") or []
        for name in only if isinstance(only, list) else []:
            if isinstance(name, str) and name not in source_names:
                problems.append(f"rules[{index}].sources: no source named {name!r}")
    service = data.get("service") if isinstance(data.get("service"), dict) else {}
    health_channel = service.get("health_channel")
    if isinstance(health_channel, str) and health_channel not in channels:
        problems.append(f"service.health_channel: channel {health_channel!r} is not defined under channels")
    for name, url in channels.items():
        if isinstance(url, str) and "${" not in url and not _is_apprise_url(url):
            scheme = url.split("://", 1)[0] if "://" in url else "no scheme"
            problems.append(f"channels.{name}: not a notification URL apprise understands ({scheme}://...)")
    return problems


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_apprise_url(url: str) -> bool:
    from alerts.channels import is_channel_url

    return is_channel_url(url)


def _duplicates(section: str, names: list[object]) -> list[str]:
    seen: dict[str, int] = {}
    problems = []
    for index, name in enumerate(names):
        if not isinstance(name, str):
            continue
        if name in seen:
            problems.append(f"{section}[{index}].name: {name!r} is already used by {section}[{seen[name]}]")
        else:
            seen[name] = index
    return problems


def expand_environment(data: Any, environ: Mapping[str, str], path: str = "") -> tuple[Any, list[str]]:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in every string of ``data``; returns (data, problems)."""
    problems: list[str] = []
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            out[key], sub = expand_environment(value, environ, f"{path}.{key}" if path else str(key))
            problems += sub
        return out, problems
    if isinstance(data, list):
        items = []
        for index, value in enumerate(data):
            item, sub = expand_environment(value, environ, f"{path}[{index}]")
            items.append(item)
            problems += sub
        return items, problems
    if isinstance(data, str):

        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in environ:
                return environ[name]
            if default is not None:
                return default
            problems.append(f"{path}: environment variable {name} is not set (referenced as ${{{name}}})")
            return match.group(0)

        return _ENV_REFERENCE.sub(replace, data), problems
    return data, problems


def _location(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _describe(error: Mapping[str, Any]) -> list[str]:
    loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
    path = _location(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return [f"{path}: unknown key{hint}"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "missing":
        message = "required"
    lines = message.split("\n")
    if kind == "value_error" and not path:
        # Whole-config checks already carry their own paths.
        return lines
    return [f"{path}: {line}" if path else line for line in lines]


def _allowed_keys(loc: tuple[int | str, ...]) -> list[str]:
    model: type[BaseModel] = Config
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))
        candidates = [t for t in inner if isinstance(t, type) and issubclass(t, BaseModel)]
        if not candidates:
            return []
        model = candidates[0]
    return list(model.model_fields)


def validate_config(data: Any, environ: Mapping[str, str] | None = None, base_dir: Path | None = None) -> Config:
    """Validate already-parsed YAML data; raises ConfigError listing every problem by its path."""
    environ = os.environ if environ is None else environ
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(["the top level must be a mapping (database, crawl, sources, channels, rules)"])
    data, problems = expand_environment(data, environ)
    # Before anything logs a URL of this config (apprise does, when a channel URL is checked).
    hide_in_logs(_secrets_in(data, environ))
    config: Config | None = None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            problems.extend(_describe(error))
        problems.extend(_cross_check(data))
    if problems or config is None:
        raise ConfigError(list(dict.fromkeys(problems)))
    return _apply_environment(config, environ, base_dir)


def _secrets_in(data: Mapping[str, Any], environ: Mapping[str, str]) -> list[str]:
    """Every value of the (raw) config that may be secret: channel URLs' passwords and tokens, the database's
    and Redis's passwords, the web token."""
    from alerts.channels import url_secrets

    def section(name: str) -> Mapping[str, Any]:
        value = data.get(name)
        return value if isinstance(value, Mapping) else {}

    channels = section("channels")
    found = [secret for url in channels.values() if isinstance(url, str) for secret in url_secrets(url)]
    for url in (section("database").get("url"), environ.get(DATABASE_URL_ENV)):
        if isinstance(url, str):
            try:
                found.append(make_url(url).password or "")
            except ArgumentError:
                pass
    for url in (section("redis").get("url"), environ.get(REDIS_URL_ENV)):
        if isinstance(url, str):
            try:
                password = urlsplit(url).password or ""
            except ValueError:
                continue
            found += [password, unquote(password)]
    token = section("web").get("token")
    if isinstance(token, str):
        found.append(token)
    return found


def _apply_environment(config: Config, environ: Mapping[str, str], base_dir: Path | None) -> Config:
    url = environ.get(DATABASE_URL_ENV) or _relative_to(config.database.url, base_dir)
    if url != config.database.url:
        try:
            database = DatabaseConfig(url=url)
        except ValidationError as exc:
            raise ConfigError([f"{DATABASE_URL_ENV}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}"]) from exc
        config = config.model_copy(update={"database": database})
    if redis_url := environ.get(REDIS_URL_ENV):
        try:
            redis = RedisConfig(**{**config.redis.model_dump(), "url": redis_url})
        except ValidationError as exc:
            raise ConfigError([f"{REDIS_URL_ENV}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}"]) from exc
        config = config.model_copy(update={"redis": redis})
    return config


def _relative_to(url: str, base_dir: Path | None) -> str:
    """Anchor a relative SQLite path at the config file's folder, so the archive does not depend on the cwd."""
    prefix = "sqlite:///"
    if base_dir is None or not url.startswith(prefix):
        return url
    path = url[len(prefix) :]
    if not path or path.startswith("/") or path == ":memory:" or path.startswith("file:"):
        return url
    return prefix + str((base_dir / path).resolve())


def find_config_path(path: str | os.PathLike[str] | None, environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(path or environ.get(CONFIG_PATH_ENV) or DEFAULT_CONFIG_PATH)


def load_config(path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate config.yaml (``--config``, else ``$NEWSMON_CONFIG``, else ./config.yaml).

    Raises:
        ConfigError: the file is missing, is not YAML, or fails validation (every problem listed).
    """
    config_path = find_config_path(path, environ)
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError([f"{config_path} not found; pass --config PATH or set {CONFIG_PATH_ENV}"]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"cannot read {config_path}: {exc}"]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([f"not valid YAML{where}: {problem}"], path=str(config_path)) from exc
    try:
        return validate_config(data, environ, base_dir=config_path.resolve().parent)
    except ConfigError as exc:
        raise ConfigError(exc.problems, path=str(config_path)) from None
