"""Alert precision and recall on real pages: rules built from the ground truth, matched end to end.

The 181 pages of ``../shared/corpus/articles/aeb`` come with their human-annotated article body. We build
rules from the words of those bodies (seeded: rare pairs, topic words, phrases, OR groups, prefixes with
NOT), and the truth is which pages each rule matches on the page title plus the annotated body, less the
posts the page embeds (tweets and the like, found by their platforms' embed code: AEB's annotators kept them
in the body, but they are the post's author's words, which rules leave alone). Then:

- **crawled**: the pages are served on loopback from a feed and crawled by the real ``newsmon crawl`` with
  the rules in its config; the matches are the ``rule_matches`` rows the crawl wrote. This is what newsmon
  alerts on: the story as trafilatura cleaned it.
- **raw page**: the same rules on the page's whole visible text (scripts and styles removed), what page
  monitors match: navigation, "most read" boxes, related links and footers included.

Precision and recall are over (rule, page) pairs. Run::

    .venv/bin/python -m bench.alert_quality [--rules 200] [--seed 7] [--format json]

``tests/alerts/test_aeb_alerting.py`` runs the same measure and asserts 0.95 or better for the crawl.
"""

from __future__ import annotations

import argparse
import html
import csv
import json
import random
import sqlite3
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html

from alerts.matching import RuleSet, RuleSpec, StoryText
from crawler.embeds import take_embedded_posts, without_posts
from newsmon.words import fold_words
from tests.conftest import run_newsmon, write_config
from tests.servers import CORPUS, Outlet, Webhook, aeb_pages, filler, rfc822, rss, serve_aeb

ARTICLES = CORPUS / "articles"
AEB = ARTICLES / "aeb"

Pair = tuple[str, str]  # (rule name, page id)


@dataclass(frozen=True, slots=True)
class Page:
    key: str
    title: str  # the page's <title>, as listed in the corpus index
    body: str  # the annotated article body
    html: bytes


@dataclass(frozen=True, slots=True)
class Score:
    precision: float
    recall: float
    true_positives: int
    false_positives: int
    false_negatives: int


def score(found: set[Pair], expected: set[Pair]) -> Score:
    hits = len(found & expected)
    return Score(
        precision=hits / len(found) if found else 1.0,
        recall=hits / len(expected) if expected else 1.0,
        true_positives=hits,
        false_positives=len(found - expected),
        false_negatives=len(expected - found),
    )


def load_pages() -> dict[str, Page]:
    """The AEB pages with their ground truth (read by ``tests.servers.aeb_pages``) and their index titles."""
    with (ARTICLES / "index.csv").open(encoding="utf-8", newline="") as index:
        titles = {Path(row["file"]).name.removesuffix(".html.gz"): row["title"] for row in csv.DictReader(index)}
    return {
        key: Page(key, titles.get(key, ""), own_text(truth["articleBody"], html), html)
        for key, (html, truth) in sorted(aeb_pages().items())
    }


def own_text(body: str, page: bytes) -> str:
    """The annotated body without the lines that are a post the page embeds."""
    return without_posts(body, take_embedded_posts(lxml.html.fromstring(page)))


def build_rules(pages: dict[str, Page], count: int, seed: int) -> list[RuleSpec]:
    """``count`` rules of the shapes users write, from the words of the annotated bodies.

    Document frequency steers each shape: a pair of rare words finds one story, a word in 3-15 bodies is a
    topic, a phrase is two words in a row of one body, an OR joins words of two bodies, and a prefix with a
    NOT exercises both operators.
    """
    rng = random.Random(seed)
    words = {key: fold_words(page.body) for key, page in pages.items()}
    frequency = Counter(word for page_words in words.values() for word in set(page_words))
    keys = sorted(pages)

    def word(key: str, low: int, high: int) -> str | None:
        candidates = sorted(
            w for w in set(words[key]) if low <= frequency[w] <= high and len(w) > 3 and not w.isdigit()
        )
        return rng.choice(candidates) if candidates else None

    rules: list[RuleSpec] = []
    attempt = 0
    while len(rules) < count:
        key, shape = rng.choice(keys), attempt % 5
        attempt += 1
        if shape == 0:
            parts = [word(key, 1, 3), word(key, 1, 3)]
            query = " ".join(parts) if all(parts) else None
        elif shape == 1:
            query = word(key, 3, 15)
        elif shape == 2:
            body = words[key]
            at = rng.randrange(len(body) - 1) if len(body) > 1 else None
            query = f'"{body[at]} {body[at + 1]}"' if at is not None else None
        elif shape == 3:
            parts = [word(key, 2, 8), word(rng.choice(keys), 2, 8)]
            query = " OR ".join(parts) if all(parts) else None
        else:
            stem, veto = word(key, 2, 10), word(key, 5, 30)
            query = f"{stem[: max(4, len(stem) - 2)]}* NOT {veto}" if stem and veto else None
        if query:
            rules.append(RuleSpec(f"rule{len(rules) + 1:04d}", query))
    return rules


def visible_text(html: bytes) -> tuple[str, str]:
    """A page's <title> and all its visible text: what a page monitor sees."""
    document = lxml.html.fromstring(html)
    for invisible in document.xpath("//script|//style|//noscript|//template"):
        invisible.drop_tree()
    return document.findtext(".//title") or "", document.text_content()


def matches(rules: RuleSet, texts: dict[str, tuple[str, str]]) -> set[Pair]:
    return {
        (rule, key)
        for key, (title, text) in texts.items()
        for rule in rules.match(StoryText(title, text, "aeb", "en"))
    }


def crawled_matches(rules: Iterable[RuleSpec], workdir: Path) -> tuple[set[Pair], int]:
    """Serve the pages from a feed, run ``newsmon crawl`` with the rules, read back what it matched."""
    database = workdir / "aeb.db"
    config_rules = [{"name": rule.name, "query": rule.query, "notify": []} for rule in rules]
    with Outlet("127.0.0.1") as outlet:
        feed_url, _truth = serve_aeb(outlet)
        config = write_config(
            workdir / "config.yaml", f"sqlite:///{database}", [{"name": "aeb", "feed": feed_url}], rules=config_rules
        )
        crawl = run_newsmon("--config", str(config), "crawl", "--format", "json")
    if crawl.returncode != 0:
        raise RuntimeError(f"newsmon crawl failed: {crawl.stderr.strip()}")
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT rule_matches.rule, stories.url FROM rule_matches JOIN stories ON stories.id = rule_matches.story_id"
        ).fetchall()
        stored = connection.execute("SELECT count(*) FROM stories").fetchone()[0]
    return {(rule, url.rsplit("/", 1)[1].removesuffix(".html")) for rule, url in rows}, stored


def backlog_alerts(rules: Iterable[RuleSpec], workdir: Path) -> dict[str, int]:
    """The AEB pages as a first crawl's backlog (their own dates, years old), crawled with the rules notifying a
    real webhook under the default ``alerts.max_age``: how many stories were stored, dated, matched, and how many
    messages went out, for stories older than max_age (target 0) and for undated ones."""
    database = workdir / "backlog.db"
    config_rules = [{"name": rule.name, "query": rule.query, "notify": ["hook"]} for rule in rules]
    with Outlet("127.0.0.1") as outlet, Webhook() as hook:
        feed_url, _truth = serve_aeb(outlet)
        config = write_config(workdir / "backlog.yaml", f"sqlite:///{database}", [{"name": "aeb", "feed": feed_url}],
                              rules=config_rules, channels={"hook": hook.url}, alerts={})  # the default max_age
        crawl = run_newsmon("--config", str(config), "crawl", "--format", "json")
        received = len(hook.received)
    if crawl.returncode != 0:
        raise RuntimeError(f"newsmon crawl failed: {crawl.stderr.strip()}")
    with sqlite3.connect(database) as connection:
        def count(sql: str) -> int:
            return int(connection.execute(sql).fetchone()[0])

        old = "stories.published_at < datetime(stories.matched_at, '-2 days')"
        return {
            "stored": count("SELECT count(*) FROM stories"),
            "dated": count("SELECT count(*) FROM stories WHERE published_at IS NOT NULL"),
            "older_than_max_age": count(f"SELECT count(*) FROM stories WHERE {old}"),
            "matched": count("SELECT count(DISTINCT story_id) FROM rule_matches"),
            "messages": received,
            "messages_for_old_stories": count(f"SELECT count(*) FROM outbox JOIN stories ON stories.id = outbox.story_id "
                                              f"WHERE {old}"),
            "messages_for_undated_stories": count("SELECT count(*) FROM outbox JOIN stories ON stories.id = "
                                                  "outbox.story_id WHERE stories.published_at IS NULL"),
        }


# The corpus's real cross-outlet duplicate groups (../shared/corpus/duplicates), each with a rule as an analyst
# would write it in English; names find the Russian and German groups (Украина, Грузию, НАТО).
SURGE_RULES = {1: '"New Delhi" AND heat', 2: 'Israel AND "War Cabinet"', 8: 'Ukraine AND "зимнее время"',
               9: "NATO AND Georgia", 10: "Spain AND Argentin*", 11: '"British Airways"'}


def surge_messages(workdir: Path) -> dict[str, int]:
    """Each real cross-outlet group served as the pages of its outlets (title, the item's summary, filler),
    published minutes apart, crawled with one rule per group with ``surge: {outlets: 2, within: 2h}`` notifying
    a real webhook: how many surge messages each group's rule sent (target exactly 1)."""
    groups = json.loads((CORPUS / "duplicates" / "feed-duplicate-groups.json").read_text(encoding="utf-8"))
    now = datetime.now(UTC).replace(microsecond=0)
    database = workdir / "surges.db"
    with Outlet("127.0.0.1") as outlet, Webhook() as hook:
        items = []
        for number in SURGE_RULES:
            for index, item in enumerate(groups[number]["items"]):
                published = now - timedelta(minutes=30 - 10 * index)
                host = urlsplit(item["link"]).hostname or "outlet.example"
                body = "".join(f"<p>{html.escape(p)}</p>" for p in (item["summary"] or item["title"], filler(item["link"])))
                page = (f'<html lang="en"><head><meta charset="utf-8"><title>{html.escape(item["title"])}</title>'
                        f'<meta property="og:site_name" content="{html.escape(host)}">'
                        f'<meta property="article:published_time" content="{published.isoformat()}"></head><body>'
                        f"<article><h1>{html.escape(item['title'])}</h1>{body}</article></body></html>")
                items.append({"title": item["title"], "pubDate": rfc822(published),
                              "link": outlet.add(f"/dup/{number}/{index}.html", page, content_type="text/html")})
        feed = outlet.add("/dup/feed.xml", rss(items, "duplicates"), content_type="application/rss+xml")
        rules = [{"name": f"group-{number}", "query": query, "notify": ["hook"],
                  "surge": {"outlets": 2, "within": "2h"}} for number, query in SURGE_RULES.items()]
        config = write_config(workdir / "surges.yaml", f"sqlite:///{database}", [{"name": "dup", "feed": feed}],
                              rules=rules, channels={"hook": hook.url}, alerts={})
        crawl = run_newsmon("--config", str(config), "crawl", "--format", "json")
        titles = [str(message.get("title")) for message in hook.received]
    if crawl.returncode != 0:
        raise RuntimeError(f"newsmon crawl failed: {crawl.stderr.strip()}")
    return {f"group-{n}": sum(1 for t in titles if t.startswith(f"newsmon surge: group-{n}:")) for n in SURGE_RULES}


def measure(rule_count: int, seed: int, workdir: Path) -> dict[str, object]:
    pages = load_pages()
    specs = build_rules(pages, rule_count, seed)
    rules = RuleSet(specs)
    queries = {spec.name: spec.query for spec in specs}
    expected = matches(rules, {key: (page.title, page.body) for key, page in pages.items()})
    crawled, stored = crawled_matches(specs, workdir)
    raw = matches(rules, {key: visible_text(page.html) for key, page in pages.items()})
    return {
        "pages": len(pages),
        "stored": stored,
        "rules": len(specs),
        "seed": seed,
        "expected_pairs": len(expected),
        "crawled": asdict(score(crawled, expected)),
        # Each wrong (rule, page) pair of the crawl, with the rule's query: what a reader of extraction looks at.
        "crawled_false_alerts": [[rule, queries[rule], key] for rule, key in sorted(crawled - expected)],
        "crawled_missed": [[rule, queries[rule], key] for rule, key in sorted(expected - crawled)],
        "raw_page": asdict(score(raw, expected)),
        "backlog": backlog_alerts(specs, workdir),
        "surges": surge_messages(workdir),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rules", type=int, default=200, help="how many rules to build (default 200)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the rule builder (default 7)")
    parser.add_argument("--format", choices=["table", "json"], default="table")
    parser.add_argument("--misses", action="store_true", help="list the crawl's false alerts and missed pairs")
    args = parser.parse_args(argv)
    if not AEB.is_dir():
        print(f"error: {AEB} is missing: the benchmark needs ../shared/corpus beside the project", file=sys.stderr)
        return 2
    print(f"crawling {AEB} with {args.rules} rules...", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="newsmon-alert-quality-") as workdir:
        figures = measure(args.rules, args.seed, Path(workdir))
    if args.format == "json":
        print(json.dumps(figures, indent=2))
        return 0
    print(
        f"{figures['pages']} pages ({figures['stored']} stored), {figures['rules']} rules (seed {figures['seed']}), "
        f"{figures['expected_pairs']} expected (rule, page) matches"
    )
    print(f"{'matched on':<34} {'precision':>9} {'recall':>7} {'false +':>8} {'missed':>7}")
    for label, key in (("the crawled story (newsmon)", "crawled"), ("the raw page's visible text", "raw_page")):
        row = figures[key]
        assert isinstance(row, dict)
        print(
            f"{label:<34} {row['precision']:>9.3f} {row['recall']:>7.3f} "
            f"{row['false_positives']:>8} {row['false_negatives']:>7}"
        )
    backlog = figures["backlog"]
    assert isinstance(backlog, dict)
    print(
        f"as a first crawl's backlog, the default alerts.max_age (2d): {backlog['stored']} stories stored, "
        f"{backlog['dated']} dated, {backlog['older_than_max_age']} older than 2 days, {backlog['matched']} matched; "
        f"{backlog['messages']} messages sent: {backlog['messages_for_old_stories']} for old stories (target 0), "
        f"{backlog['messages_for_undated_stories']} for undated ones"
    )
    if args.misses:
        for label, key in (("false alert", "crawled_false_alerts"), ("missed", "crawled_missed")):
            for rule, query, page in figures[key]:  # type: ignore[union-attr]
                print(f"{label}: {rule} {query!r} on {page}", file=sys.stderr)
    surges = figures["surges"]
    assert isinstance(surges, dict)
    print(f"surges built from the corpus's {len(surges)} real cross-outlet duplicate groups (2 outlets each, rule "
          f"surge: {{outlets: 2, within: 2h}}): surge messages per group {sorted(surges.values())} (target 1 each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
