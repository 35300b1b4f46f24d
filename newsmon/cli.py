"""The ``newsmon`` command. Commands are thin: parse, call a library function, print."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from db.limits import MAX_ID
from newsmon import __version__
from newsmon.errors import ConfigError, NewsmonError
from newsmon.logging import configure_logging
from newsmon.moments import format_duration, parse_duration, parse_moment
from newsmon.output import format_option, health_record, story_record, write_json, write_records

# Only what every command needs is imported here: `newsmon --help` must start at once, and the crawl's
# extraction workers import this module again (multiprocessing runs the main script in every child).
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from newsmon.config import Config
    from newsmon.config_load import Check

    from alerts.delivery import DeliveryReport


class Since(click.ParamType):
    """``7d``/``12h`` (that long ago) or a date/time (``2026-11-20``, ``2026-11-20T08:00+02:00``)."""

    name = "since"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_moment(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class HostPort(click.ParamType):
    """``127.0.0.1:8080`` or ``[::1]:8080`` -> (host, port)."""

    name = "host:port"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, int]:
        if isinstance(value, tuple):
            return value
        host, _, port = str(value).rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            self.fail(f"{value!r} is not HOST:PORT (e.g. 127.0.0.1:8080)", param, ctx)
        return host.strip("[]"), int(port)


class State:
    """What the group's options decided, handed to every command."""

    def __init__(self, config_path: str | None, verbose: int, log_format: str = "text") -> None:
        self.config_path = config_path
        self.verbose = verbose
        self.log_format = log_format
        self._config: Config | None = None
        self._archive_config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            from newsmon.config_load import load_config

            self._config = load_config(self.config_path, checks=config_checks())
        return self._config

    @property
    def archive_config(self) -> Config:
        """The config of a command that only reads the archive (search, show, export, clusters, sources, the
        delivery log): checked but for its channel URLs, which it never uses. apprise loads every plugin it
        has to judge one URL, half a second of each such command; `check` and every command that sends check
        them."""
        if self._config is not None:
            return self._config
        if self._archive_config is None:
            from newsmon.config_load import load_config

            self._archive_config = load_config(self.config_path, checks=config_checks(channels=False))
        return self._archive_config


pass_state = click.make_pass_decorator(State)


def config_checks(channels: bool = True) -> tuple[Check, ...]:
    """What the layers above the config check in it when it is read: that each rule's query parses (the rule
    language is alerts'), that apprise understands each channel URL (unless ``channels`` is False), that each
    added name has letters."""
    from alerts.names import name_problems
    from alerts.query import rule_problems

    if not channels:
        return (rule_problems, name_problems)
    from alerts.channels import channel_problems

    return (rule_problems, channel_problems, name_problems)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default: $NEWSMON_CONFIG, else ./config.yaml).",
)
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-v info, -vv debug).")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    envvar="NEWSMON_LOG_FORMAT",
    show_default=True,
    help="Log lines for people, or one JSON object per line for log shippers.",
)
@click.version_option(__version__, prog_name="newsmon")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: int, log_format: str) -> None:
    """newsmon watches news outlets, archives their stories once, and alerts on what you track."""
    ctx.obj = State(config_path, verbose, log_format)
    configure_logging(verbose, json_lines=log_format == "json")


@cli.command()
@format_option("table", "json")
@pass_state
def check(state: State, fmt: str) -> None:
    """Validate the config and summarise it (secrets masked)."""
    from alerts.channels import masked_channel_url
    from db.session import masked_url

    config = state.config
    summary = {
        "database": masked_url(config.database.url),
        "sources": [
            {"name": s.name, "kind": s.kind.value, "url": s.url, "every": _duration(s.every.total_seconds())}
            for s in config.sources
        ],
        "channels": [{"name": name, "url": masked_channel_url(url)} for name, url in config.channels.items()],
        "rules": [{"name": r.name, "query": r.query, "notify": r.notify} for r in config.rules],
    }
    if fmt == "json":
        write_json(summary)
        return
    kinds: dict[str, int] = {}
    for source in config.sources:
        kinds[source.kind.value] = kinds.get(source.kind.value, 0) + 1
    by_kind = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"
    click.echo(f"config OK: {len(config.sources)} sources ({by_kind}), {len(config.rules)} rules, "
               f"{len(config.channels)} channels")
    click.echo(f"database: {summary['database']}\n")
    write_records(summary["sources"], "table", ["name", "kind", "every", "url"])
    if config.rules:
        click.echo()
        write_records(summary["rules"], "table", ["name", "query", "notify"])
    if config.channels:
        click.echo()
        write_records(summary["channels"], "table", ["name", "url"])


@cli.command()
@click.argument("sources", nargs=-1)
@click.option("--deliver/--no-deliver", default=True, show_default=True,
              help="Send the alerts it queued before exiting (`newsmon run` crawls with --no-deliver).")
@format_option("table", "json")
@pass_state
def crawl(state: State, sources: tuple[str, ...], deliver: bool, fmt: str) -> None:
    """Crawl all sources, or the named SOURCES, once now.

    Exits 0 when the crawl ran, even if some sources failed; the summary says which and why. Exits 1, in one
    line, when the database cannot be written (another process holding SQLite's write lock).
    """
    from dataclasses import asdict

    from crawler.workers import start_fork_server
    from db.records import CrawlFigures, SourceTally

    config = state.config
    if config.sources:
        start_fork_server(config.crawl.extraction_workers)  # its imports overlap this process's own
    from crawler.runner import run_crawl

    on_terminal = sys.stderr.isatty()

    def progress(tally: SourceTally) -> None:
        if on_terminal:
            click.echo(_progress_line(tally), err=True)

    report = run_crawl(config, list(sources), on_source_done=progress, verbosity=state.verbose)
    # The next steps, each of its own: match what the crawl stored, then send what that queued.
    matched, delivery = _match_and_deliver(config, deliver)
    rows = [
        {**asdict(CrawlFigures.from_tally(t)), "problems": [{"url": url, "reason": reason} for url, reason in t.problems]}
        for t in report.tallies.values()
    ]
    totals = report.totals()
    alerts = {
        "matched_stories": matched,
        "sent": delivery.sent if delivery else 0,
        "retrying": delivery.retrying if delivery else 0,
        "failed": delivery.failed if delivery else 0,
        "errors": delivery.errors if delivery else [],
    }
    if fmt == "json":
        write_json({"sources": rows, "totals": totals, "alerts": alerts})
        return
    write_records(rows, "table", ["source", "status", "links", "new", "duplicate", "known", "failed", "error"])
    click.echo(
        f"\n{totals['new']} new, {totals['duplicate']} duplicate, {totals['known']} already stored, "
        f"{totals['failed']} pages failed; {totals['sources_failed']} of {len(rows)} sources failed"
    )
    click.echo(
        f"alerts: {alerts['matched_stories']} stories matched; {alerts['sent']} sent, {alerts['retrying']} to retry, "
        f"{alerts['failed']} failed"
    )
    for error in alerts["errors"][:10]:
        click.echo(f"  {error}", err=True)


@cli.command()
@click.option("--http", type=HostPort(), metavar="HOST:PORT",
              help="Serve /healthz and Prometheus /metrics there, e.g. 127.0.0.1:8080.")
@click.option("--role", type=click.Choice(["all", "scheduler", "worker"]), default="all", show_default=True,
              envvar="NEWSMON_ROLE", show_envvar=True,
              help="all: one machine does everything. scheduler: queue due sources in Redis and deliver alerts "
                   "(one per database). worker: crawl what the scheduler queues (any number, on any machine).")
@pass_state
def run(state: State, http: tuple[str, int] | None, role: str) -> None:
    """Run the service: poll every source on schedule, deliver alerts, until SIGTERM or Ctrl-C.

    One `newsmon run` per database; a second one refuses to start. Logs one line per crawl and per
    delivery run on stderr (use --log-format json for log shippers). To spread the crawling over several
    machines, run one `--role scheduler` and any number of `--role worker`s with the same config.yaml, a
    shared PostgreSQL and redis.url.
    """
    from newsmon.config_load import find_config_path
    from scheduler.service import Service

    config = state.config
    if role != "all" and config.redis.url is None:
        raise ConfigError([(f"--role {role} needs redis.url in the config (or NEWSMON_REDIS_URL): the scheduler "
                            "and its workers share a Redis queue")])
    # A service's log is its only voice: one line per crawl at INFO, shown without -v.
    configure_logging(max(state.verbose, 1), json_lines=state.log_format == "json")
    if role == "worker":
        if http:
            raise click.UsageError("--http is served by the scheduler (or --role all), not by workers")
        from crawler.sharedcrawl import run_worker

        run_worker(config, state.verbose)
        return
    Service(config, find_config_path(state.config_path).resolve(), state.verbose, state.log_format, http,
            role=role).run()


@cli.command()
@click.option("--host", help="Address to listen on (default: web.host of config.yaml, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: web.port, 8000; 0: any free port).")
@pass_state
def serve(state: State, host: str | None, port: int | None) -> None:
    """Serve the archive read-only: a web page (search, timeline, stories, sources, rules), a JSON API with
    its OpenAPI description at /api/docs, and every rule as RSS and JSON Feed. Beyond loopback, set a token
    (web.token or NEWSMON_WEB_TOKEN)."""
    import os

    from newsmon.web.app import create_app
    from newsmon.web.serve import is_loopback, listening_socket, serve

    web = state.config.web
    host = host or web.host
    port = web.port if port is None else port
    token = os.environ.get("NEWSMON_WEB_TOKEN") or (web.token.get_secret_value() if web.token else None)
    if not token and not is_loopback(host):
        raise NewsmonError(
            f"serving on {host} lets other machines read the archive: set a token (NEWSMON_WEB_TOKEN, or "
            "web.token: ${NEWSMON_WEB_TOKEN} in config.yaml), or serve on 127.0.0.1"
        )
    try:
        sock = listening_socket(host, port)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise NewsmonError(f"cannot listen on {host}:{port}: {reason}; choose another --port") from None
    app = create_app(state.config, token)
    serve(app, sock, lambda url: click.echo(f"newsmon: serving the archive on {url} (API: {url}api/docs)"
                                            + (", token required" if token else ""), err=True))


def _check_duration(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


@cli.command()
@click.argument("url")
@click.option("--name", help="Name of the new source (default: from the host, e.g. www.bbc.co.uk -> bbc).")
@click.option("--every", default="15m", show_default=True, callback=_check_duration,
              help="How often to look: 30s, 10m, 1h, 2d ...")
@click.option("--language", help="Language hint, ISO 639-1 (default: the page's <html lang>, if any).")
@click.option("--dry-run", is_flag=True, help="Show what would be added; write nothing.")
@format_option("table", "json")
@pass_state
def add(state: State, url: str, name: str | None, every: str, language: str | None, dry_run: bool, fmt: str) -> None:
    """Find the feed (else a sitemap, else the section page) of the site at URL and add it as a source.

    Tries the URL itself, the page's rel=alternate feeds, common feed paths, then the sitemaps of robots.txt,
    and appends the best to the config file's sources, keeping its comments. Exits 1 when nothing is found.
    """
    from dataclasses import replace

    from crawler.discover import Candidate, entry_line, find_source, progress_line
    from newsmon.config_file import write_source
    from newsmon.config_load import find_config_path

    def progress(candidate: Candidate) -> None:
        if sys.stderr.isatty():
            click.echo(progress_line(candidate), err=True)

    config_path = find_config_path(state.config_path)
    addition = find_source(state.config, config_path, url, name=name, every=every, language=language,
                           verbosity=state.verbose, on_candidate=progress)
    if not dry_run:
        write_source(config_path, addition.entry, checks=config_checks())
        addition = replace(addition, written=True)
    if fmt == "json":
        write_json(addition.as_record())
        return
    write_records([c.as_record() for c in addition.discovery.candidates], "table",
                  ["url", "via", "found", "links", "rejected"])
    done = f"added to {config_path}" if addition.written else f"would add to {config_path} (dry run, nothing written)"
    click.echo(f"\n{done}: {entry_line(addition.entry)}")


def _progress_line(tally: Any) -> str:
    if tally.error:
        return f"{tally.name}: failed: {tally.error}"
    return (f"{tally.name}: {tally.links} links, {tally.new} new, {tally.duplicate} duplicate, "
            f"{tally.known} known, {tally.failed} failed")


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


STORY_COLUMNS = ["id", "published_at", "source", "title", "url"]


@cli.command()
@format_option()
@pass_state
def sources(state: State, fmt: str) -> None:
    """Health of every source: ok, failing (and for how many crawls), articles failing (the listing is read but
    every article fails), silent, or never crawled; and its polling."""
    from db.health import poll_schedule, source_health

    names = [source.name for source in state.archive_config.sources]
    with _archive(state) as session:
        health = source_health(session, names, datetime.now(UTC))
        schedule = poll_schedule(session, names)
    rows = [
        health_record(
            h,
            # what `newsmon run` decided: the adaptive interval now in force, and the next poll
            poll_every_s=round(schedule[h.name][0]) if schedule.get(h.name, (None,))[0] else None,
            next_poll=schedule[h.name][1] if h.name in schedule else None,
        )
        for h in health
    ]
    if fmt == "table":
        for row in rows:
            for key in ("last_run", "last_success", "last_new_story", "next_poll"):
                row[key] = f"{row[key]:%Y-%m-%d %H:%M}" if row[key] else ""
    write_records(rows, fmt, list(rows[0]) if rows else ["source", "status"])


@cli.command()
@click.argument("text", required=False)
@click.option("--since", type=Since(), help="Only stories since then: 7d, 12h, or a date such as 2026-11-20.")
@click.option("--source", help="Only stories of this source.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most this many.")
@click.option("--until", type=Since(), help="Only stories before then (a duration back from now, or a date).")
@click.option("--language", help="Only stories in this language (ISO 639-1, e.g. uk).")
@click.option("--cluster", "cluster_id", type=click.IntRange(1, MAX_ID),
              help="Only the stories of this cluster (see `newsmon clusters`).")
@click.option("--sort", type=click.Choice(["relevance", "newest"]), help="Default: relevance with a query, else newest.")
@click.option("--copies", is_flag=True, help="Every matching story, not one per cluster of copies.")
@format_option()
@pass_state
def search(
    state: State, text: str | None, since: datetime | None, source: str | None, limit: int, until: datetime | None,
    language: str | None, cluster_id: int | None, sort: str | None, copies: bool, fmt: str,
) -> None:
    """Stories matching TEXT, a query in the rule language ("peace plan" OR ceasefire, Zelensk*, title:...):
    ranked by relevance, one row per cluster of copies with the outlets that reported it (--copies: every
    story). Without TEXT, the newest stories."""
    from alerts.names import lexicon_for
    from alerts.query import QueryError
    from db.search import Filters, Sort
    from newsmon.stories import find_stories

    filters = Filters(since=since, until=until, source=source, language=language, cluster_id=cluster_id)
    with _archive(state) as session:
        try:
            records = find_stories(session, text, filters, Sort(sort) if sort else None, limit, copies,
                                   with_text=fmt != "table", names=lexicon_for(state.archive_config.names))
        except QueryError as exc:
            raise NewsmonError(f"search query: {exc}") from None
    if fmt == "table" and not records:
        click.echo("no stories found", err=True)
        return
    if fmt == "table" and not copies:
        for record in records:
            record["outlets"] = _outlets_cell(record["cluster_outlets"])
        write_records(records, fmt, [*STORY_COLUMNS[:-1], "outlets", "url"])
        return
    extra = ["rank", "snippet", "highlights", "title_highlights", "matched_as"] + ([] if copies else ["cluster_stories", "cluster_outlets"])
    write_records(records, fmt, STORY_COLUMNS if fmt == "table" else [*_export_columns(), *extra])


def _outlets_cell(outlets: list[str], shown: int = 3) -> str:
    """"3: Wire, Paper, Daily" or "5: Wire, Paper, Daily +2" for a table."""
    more = f" +{len(outlets) - shown}" if len(outlets) > shown else ""
    return f"{len(outlets)}: {', '.join(outlets[:shown])}{more}"


@cli.command()
@click.option("--since", type=Since(), default="7d", show_default=True,
              help="Clusters with a story fetched since then: 7d, 12h, or a date such as 2026-11-20.")
@click.option("--min-stories", type=click.IntRange(min=1), default=2, show_default=True,
              help="Only clusters of at least this many stories (1: every story).")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="At most this many.")
@format_option()
@pass_state
def clusters(state: State, since: datetime, min_stories: int, limit: int, fmt: str) -> None:
    """Stories that are one story (copies, rewrites, updates), latest first, with the outlets that reported
    them. `newsmon show ID` lists a cluster's stories."""
    from db.clusters import list_clusters

    with _archive(state) as session:
        found = list_clusters(session, since, min_stories, limit)
    records = [
        {"cluster_id": c.cluster_id, "stories": c.stories, "outlets": list(c.outlets), "title": c.title,
         "first_at": c.first_at, "last_at": c.last_at}
        for c in found
    ]
    if fmt == "table":
        if not records:
            click.echo(f"no clusters of {min_stories} or more stories since {since:%Y-%m-%d %H:%M} UTC", err=True)
            return
        for record in records:
            record["outlets"] = _outlets_cell(record["outlets"])
            record["last_at"] = f"{record['last_at']:%Y-%m-%d %H:%M}"
        write_records(records, fmt, ["cluster_id", "stories", "outlets", "last_at", "title"])
        return
    write_records(records, fmt, list(records[0]) if records else ["cluster_id", "stories", "outlets", "title"])


@cli.command()
@click.argument("story_id", type=click.IntRange(1, MAX_ID))
@format_option("text", "json", default="text")
@pass_state
def show(state: State, story_id: int, fmt: str) -> None:
    """Show one stored story with its text, the other stories of its cluster and its earlier versions."""
    from newsmon.stories import story_detail

    with _archive(state) as session:
        record = story_detail(session, story_id)
    if record is None:
        raise NewsmonError(f"no story with id {story_id}; find ids with `newsmon search`")
    if fmt == "json":
        write_json(record)
        return
    click.echo(record["title"])
    click.echo("=" * min(len(record["title"]), 100))
    meta = [
        ("source", record["source"]),
        ("published", record["published_at"] or "unknown"),
        ("fetched", record["fetched_at"]),
        ("author", record["author"]),
        ("language", record["language"]),
        ("url", record["url"]),
    ]
    meta += [("also at", url) for url in record["urls"] if url != record["url"]]
    if record["cluster"]:
        meta.append(("cluster", f"{len(record['cluster']) + 1} stories; the others:"))
        meta += [("", f"#{c['id']} {c['outlet']}: {c['title']} <{c['url']}>") for c in record["cluster"]]
    if record["versions"]:
        meta.append(("version", f"{record['version']} ({len(record['text'].split())} words); earlier:"))
        meta += [
            ("", f"v{v['version']} read {v['fetched_at']:%Y-%m-%d %H:%M}: {v['title']} ({v['words']} words)")
            for v in record["versions"]
        ]
    for key, value in meta:
        if value:
            click.echo(f"{key + ':' if key else '':<11}{value}")
    click.echo()
    click.echo(record["text"])
    if record["embedded_posts"]:
        click.echo(f"\nEmbedded posts (not matched by rules or search): {len(record['embedded_posts'])}")
        for post in record["embedded_posts"]:
            click.echo(f"> {post}")


def _export_columns() -> list[str]:
    return ["id", "url", "urls", "title", "text", "embedded_posts", "source", "published_at", "fetched_at",
            "language", "author", "site_name", "cluster_id", "version", "status", "modified_at"]


@cli.command()
@click.option("--since", type=Since(), help="Only stories since then: 7d, 12h, or a date such as 2026-11-20.")
@format_option("jsonl", "csv", default="jsonl")
@pass_state
def export(state: State, since: datetime | None, fmt: str) -> None:
    """Every stored story with its metadata and text, streamed (jsonl or csv)."""
    from db.reading import iter_stories

    with _archive(state) as session:
        count = write_records((story_record(s) for s in iter_stories(session, since)), fmt, _export_columns())
    if sys.stderr.isatty():
        click.echo(f"exported {count} stories", err=True)


@cli.group()
def alerts() -> None:
    """Backtest rules, deliver the outbox, and read the delivery log."""


@alerts.command("test")
@click.argument("rule")
@click.option("--since", type=Since(), default="30d", show_default=True,
              help="Stories published (undated ones: fetched) since then.")
@format_option()
@pass_state
def alerts_test(state: State, rule: str, since: datetime, fmt: str) -> None:
    """Show what RULE would have done with each story in the archive its query matches, and why: sent, digest,
    too old, already alerted for its cluster, excluded. The same decisions as alerting; sends nothing."""
    from alerts.outbox import AlertPlan, Verdict, backtest
    from alerts.render import snippet

    config = state.config
    if rule not in {r.name for r in config.rules}:
        known = ", ".join(r.name for r in config.rules) or "none"
        raise NewsmonError(f"no rule named {rule!r} (known: {known})")
    plan = AlertPlan.from_config(config)
    channels = list(plan.notify[rule]) or None
    with _archive(state) as session:
        records = []
        for story, verdict in backtest(session, plan, rule, since):
            record = story_record(story, with_text=fmt not in ("table", "csv"))
            record["published_at"] = record["published_at"] or record["fetched_at"]
            record["verdict"] = verdict.value
            record["snippet"] = snippet(story.text, plan.shown_terms[rule])
            record["channels"] = channels  # where it would have gone (None: the rule notifies nobody)
            records.append(record)
    if fmt == "table":
        counts = Counter(record["verdict"] for record in records)
        sent = counts[Verdict.SENT.value] + counts[Verdict.DIGEST.value]
        reasons = ", ".join(f"{counts[v.value]} {v.value}" for v in Verdict if counts[v.value] and v is not Verdict.SENT)
        click.echo(
            f"{rule}: {len(records)} {'story' if len(records) == 1 else 'stories'} matched since "
            f"{since:%Y-%m-%d %H:%M} UTC; {sent} would have alerted {', '.join(channels) if channels else 'no channel'}"
            f"{'; ' + reasons if reasons else ''} (max_age {format_duration(plan.max_age[rule])}; nothing sent)",
            err=True,
        )
        if not records:
            return
    columns = ["id", "published_at", "verdict", "source", "title", "snippet", "url"]
    write_records(records, fmt, columns if fmt in ("table", "csv") else list(records[0]) if records else columns)


@alerts.command("log")
@click.option("--since", type=Since(), default="7d", show_default=True, help="Alerts queued since then.")
@click.option("--status", type=click.Choice(["pending", "sending", "sent", "failed"]), help="Only this status.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@format_option()
@pass_state
def alerts_log(state: State, since: datetime, status: str | None, limit: int, fmt: str) -> None:
    """Deliveries and failures, newest first (channel URLs are never shown)."""
    from db.reading import outbox_log

    with _archive(state) as session:
        rows = [
            {
                "id": m.id,
                "created_at": m.created_at.isoformat(),
                "channel": m.channel,
                "rules": m.rules.split(","),
                "digest": m.digest or None,
                "status": m.status,
                "attempts": m.attempts,
                "sent_at": m.sent_at.isoformat() if m.sent_at else None,
                "due_at": m.due_at.isoformat(),
                "last_error": m.last_error,
                "story_id": m.story_id,
                "title": m.story.title if m.story else (m.notice or "").split("\n", 1)[0],
            }
            for m in outbox_log(session, since, status, limit)
        ]
    if fmt == "table" and not rows:
        click.echo("no alerts in that period", err=True)
        return
    columns = ["id", "created_at", "channel", "rules", "status", "attempts", "sent_at", "last_error", "title"]
    write_records(rows, fmt, columns if fmt in ("table", "csv") else list(rows[0]) if rows else columns)


@alerts.command("deliver")
@format_option("table", "json")
@pass_state
def alerts_deliver(state: State, fmt: str) -> None:
    """Match stories not matched yet and send every due alert now."""
    matched, report = _match_and_deliver(state.config, deliver=True)
    assert report is not None
    summary = {"matched_stories": matched, "sent": report.sent, "retrying": report.retrying,
               "failed": report.failed, "errors": report.errors}
    if fmt == "json":
        write_json(summary)
        return
    click.echo(f"{report.sent} sent, {report.retrying} to retry, {report.failed} failed")
    for error in report.errors:
        click.echo(f"  {error}", err=True)


def _match_and_deliver(config: Config, deliver: bool) -> tuple[int, DeliveryReport | None]:
    """Match the stories stored but not matched yet, then (``deliver``) send every due alert; returns how many
    stories matched a rule, and what the delivery did."""
    from alerts.delivery import deliver_pending
    from alerts.outbox import AlertPlan, match_unmatched
    from db.session import open_database, session_factory, storage_errors

    plan = AlertPlan.from_config(config)
    engine = open_database(config.database.url)
    try:
        sessions = session_factory(engine)
        with storage_errors("match and send alerts"):
            matched = match_unmatched(sessions, plan, datetime.now(UTC))
            return matched, deliver_pending(sessions, config.channels, plan) if deliver else None
    finally:
        engine.dispose()


@cli.group()
def db() -> None:
    """Manage the database schema."""


@db.command()
@pass_state
def upgrade(state: State) -> None:
    """Apply pending migrations (every command also does this on start), give PostgreSQL's search its RUM index
    if the rum extension was installed since, then place the stories stored before near-duplicate clustering
    existed into clusters."""
    from db.clusters import cluster_policy, place_unclustered
    from db.search import ensure_ranked_index
    from db.session import head_revision, make_engine, masked_url, session_factory, storage_errors
    from db.session import upgrade as upgrade_schema

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            click.echo(f"clustered {done:,} of {total:,} stories", err=True)

    engine = make_engine(state.config.database.url)
    try:
        changed = upgrade_schema(engine)
        with storage_errors("give search its ranked index"), engine.begin() as connection:
            ranked, why_not = ensure_ranked_index(connection)
        with storage_errors("place the stored stories in clusters"):
            placed = place_unclustered(session_factory(engine), cluster_policy(state.config), progress)
    finally:
        engine.dispose()
    what = "migrated to" if changed else "already at"
    click.echo(f"{masked_url(state.config.database.url)}: {what} revision {head_revision()}")
    if not ranked:
        click.echo(f"search ranks without the RUM index (slower on common words): {why_not}")
    if placed:
        click.echo(f"{placed:,} stories placed in near-duplicate clusters")


@contextmanager
def _archive(state: State) -> Iterator[Session]:
    """A session on the archive (migrated when behind) for one command."""
    from db.session import open_database, session_factory

    engine = open_database(state.archive_config.database.url)
    try:
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: domain errors become one line on stderr (exit 1; config errors exit 2)."""
    try:
        cli.main(args=argv, prog_name="newsmon", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except NewsmonError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except BrokenPipeError:
        sys.exit(0)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        # The last boundary: a database error no command translated is still one line, never SQLAlchemy's
        # message with the statement and its parameters (story text, URLs). Anything else is a bug: its traceback.
        from sqlalchemy.exc import SQLAlchemyError  # imported already, if that is what was raised

        if not isinstance(exc, SQLAlchemyError):
            raise
        from db.session import storage_error

        click.echo(f"error: {storage_error(exc, 'use the database')}", err=True)
        sys.exit(1)

