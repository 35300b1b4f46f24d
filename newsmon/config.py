"""config.yaml's shape: the pydantic models that validate it (every field described), and the checks across
entries. Reading the file, the environment and the overrides is ``newsmon.config_load``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from newsmon.errors import ConfigError
from newsmon.moments import QuietWindow, parse_duration

DEFAULT_CONFIG_PATH = "config.yaml"
DATABASE_URL_ENV = "NEWSMON_DATABASE_URL"
REDIS_URL_ENV = "NEWSMON_REDIS_URL"
CONFIG_PATH_ENV = "NEWSMON_CONFIG"

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_HOST_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
QuietHours = Annotated[str, AfterValidator(lambda text: QuietWindow.parse(text).text)]


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


class SurgeConfig(_Section):
    outlets: int = Field(ge=2, description="Alert once when this many distinct outlets published matching stories...")
    within: Duration = Field(default=timedelta(hours=2), description="... within this long.")
    languages: int = Field(default=1, ge=1, description="... in at least this many languages.")


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
    max_age: Duration | None = Field(
        default=None,
        description="Only stories published within this long alert (default: alerts.max_age); older ones are "
        "matched and kept, never sent.",
    )
    urgent: bool = Field(default=False, description="Its alerts break through a channel's quiet hours.")
    surge: SurgeConfig | None = Field(
        default=None,
        description="Also one alert when many outlets report matching stories at once, listing each: "
        "{outlets: 5, within: 2h, languages: 2}.",
    )

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


class AlertsConfig(_Section):
    max_age: Duration = Field(
        default=timedelta(days=2),
        description="Only news alerts: a story whose own date and listing date are both older than this when it is "
        "matched is stored, searchable and matched, never sent (a first crawl's years-old backlog sends nothing).",
    )


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
    base_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/]+",
        description="Where users reach `newsmon serve` (https://newsmon.example.org): alerts then link to the "
        "story's page there.",
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
    alerts: AlertsConfig = Field(default_factory=AlertsConfig, description="What every rule's alerts share.")
    quiet_hours: dict[str, QuietHours] = Field(
        default_factory=dict,
        description='Channel name -> hours its alerts are held ("22:00-07:00 Europe/Kyiv"), then sent as one '
        "digest when they end; a rule with urgent: true breaks through.",
    )
    names: dict[str, list[str]] = Field(
        default_factory=dict,
        description="A name -> its other forms, for names newsmon does not know (Witkoff: [Віткофф, Уиткофф]): a "
        "rule or search naming any of them finds them all.",
    )
    web: WebConfig = Field(default_factory=WebConfig, description="The archive's web page and JSON API.")
    redis: RedisConfig = Field(
        default_factory=RedisConfig, description="The shared queue of a scale-out (`newsmon run --role`)."
    )

    @model_validator(mode="after")
    def _names_are_unique_and_known(self) -> Config:
        problems = cross_check(self.model_dump())
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        raise ConfigError([f"no source named {name!r}; known: {', '.join(s.name for s in self.sources) or 'none'}"])


def cross_check(data: Mapping[str, Any]) -> list[str]:
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
    quiet = data.get("quiet_hours") if isinstance(data.get("quiet_hours"), dict) else {}
    for channel in quiet:
        if channel not in channels:
            problems.append(f"quiet_hours.{channel}: channel {channel!r} is not defined under channels")
    health_channel = service.get("health_channel")
    if isinstance(health_channel, str) and health_channel not in channels:
        problems.append(f"service.health_channel: channel {health_channel!r} is not defined under channels")
    return problems


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


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
