"""Names across languages and scripts: precision and recall of rules and of search, beside the literal word.

The question of issue 19: does a rule that names a person, place or organisation in English (``Putin``,
``Moscow``, ``NATO``, ``"European Union"``) find the stories that name it in other languages and scripts
(Путина, Moskwie, ЄС, ٹرمپ, 美国), and only those (not Ukrainian, russisch, North America)?

Material, read by path from ``../shared/corpus`` by ``bench/names_corpus.py``: the items (title and text) of
the corpus's feeds not in English (Ukrainian, Russian, German, French, Italian, Portuguese, Urdu...) and its
article pages (the AEB bodies in every language; the readability, goose3 and trafilatura-eval pages not in
English). Truth: ``bench/names_labels.json``, which items name which of 25 entities, made and reviewed with
``bench/names_truth.py`` (what counts as naming an entity is written there: inflected forms and other
scripts do, adjectives and demonyms do not). Each entity is ``dev`` (tune on it) or ``held-out`` (measure only).

Three ways to find an entity's items, each scored over (entity, item) pairs:

- **rule**: the entity's query as an English-speaking analyst writes it (``Putin``, ``"United States"``),
  through ``alerts.matching.RuleSet``, on the item's title and text;
- **search**: the same query through ``alerts.search.search`` (what ``newsmon search`` runs) over a real
  archive, a SQLite file (or ``--database-url``, emptied first) filled with the items by
  ``db.storage.store_article``;
- **literal**: the query in lower case (``putin``) through ``RuleSet``: the literal word, which is what a
  rule term meant before names matched across languages.

Printed: per entity, per language and overall (micro-averaged over pairs), dev and held-out apart; then per
entity a few items each way got wrong, with the words the truth expected or the words that matched. Target:
precision and recall of rule and search both >= 0.97. Prints figures, never asserts them. From the
repository root (about half a minute)::

    python -m bench.names [--examples 3] [--database-url postgresql+psycopg://...] [--format table|json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from tabulate import tabulate

from alerts.matching import RuleSet, RuleSpec, StoryText
from alerts.search import search
from bench.archives import archive_url
from bench.names_corpus import CORPUS, Item, load_items
from db.records import Article, content_hash
from db.search import Filters, Sort
from db.session import open_database, session_factory
from db.sources import sync_sources
from db.storage import store_article
from newsmon.config import SourceConfig

LABELS = Path(__file__).with_name("names_labels.json")
TARGET = 0.97
METHODS = ("rule", "search", "literal")
SPLITS = ("dev", "held-out")
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
MAX_WINDOW = 3  # words: the longest span tried when finding which words of a story a rule matched
Pair = tuple[str, str]  # (entity id, item key)


def progress(message: str) -> None:
    """On a terminal only, like bench/pipeline.py: quiet when the output goes to a program."""
    if sys.stderr.isatty():
        print(message, file=sys.stderr, flush=True)


# The truth, joined with the items as read now -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entity:
    id: str
    query: str
    kind: str
    split: str
    decision: str  # what counts as naming it


@dataclass(frozen=True, slots=True)
class Truth:
    entities: list[Entity]
    items: list[Item]  # the labelled items whose title and text read as they did when labelled
    named: dict[str, dict[str, list[str]]]  # item key -> entity id -> the words that name it
    changed: list[str]  # labelled, but read differently now (a parser or the corpus changed): left out
    unlabelled: list[str]  # read now, unknown to the labels: left out
    missing: list[str]  # labelled, not in the corpus now

    def expected(self) -> set[Pair]:
        return {(entity, item.key) for item in self.items for entity in self.named[item.key]}


def load_truth(items: list[Item], path: Path = LABELS) -> Truth:
    labels = json.loads(path.read_text(encoding="utf-8"))
    entities = [Entity(**entity) for entity in labels["entities"]]
    labelled = {row["key"]: row for row in labels["items"]}
    current = {item.key: item for item in items}
    # The language as labelled, so that a new language model does not move items between the summaries.
    kept = [replace(item, language=labelled[item.key]["language"]) for item in items
            if item.key in labelled and labelled[item.key]["digest"] == item.digest]
    return Truth(
        entities=entities,
        items=kept,
        named={item.key: labelled[item.key]["entities"] for item in kept},
        changed=sorted(key for key, item in current.items()
                       if key in labelled and labelled[key]["digest"] != item.digest),
        unlabelled=sorted(key for key in current if key not in labelled),
        missing=sorted(key for key in labelled if key not in current),
    )


# The three ways to find an entity's items ---------------------------------------------------------------


def story(item: Item) -> StoryText:
    return StoryText(item.title, item.text, item.source, item.language)


def literal_query(query: str) -> str:
    """The query's words in lower case: the entity queries are single names and phrases, never operators."""
    return query.lower()


def rules_for(entities: Iterable[Entity], literal: bool) -> RuleSet:
    return RuleSet([RuleSpec(e.id, literal_query(e.query) if literal else e.query) for e in entities])


def rule_matches(entities: list[Entity], items: list[Item], literal: bool) -> set[Pair]:
    rules = rules_for(entities, literal)
    return {(entity, item.key) for item in items for entity in rules.match(story(item))}


def fill_archive(url: str, items: list[Item]) -> tuple[Engine, dict[int, list[str]]]:
    """Store every item as a story of its feed or article set, as the crawl stores an article; returns the
    engine and, per story id, the keys of the items stored as it (two items with one text are one story)."""
    engine = open_database(url)
    stories: dict[int, list[str]] = {}
    with session_factory(engine).begin() as session:
        names = sorted({item.source for item in items})
        configs = [SourceConfig(name=name, feed=f"https://names.bench.example/{name}/feed") for name in names]
        source_ids = sync_sources(session, configs, NOW)
        for number, item in enumerate(items):
            link = f"https://names.bench.example/{item.source}/{number}"
            article = Article(
                url=link, urls=(link,), source=item.source, title=item.title, text=item.text, author=None,
                site_name=None, language=item.language, published_at=NOW,
                content_hash=content_hash(f"{item.title}\n{item.text}"),
            )
            _outcome, story_id = store_article(session, article, source_ids[item.source], NOW)
            stories.setdefault(story_id, []).append(item.key)
    return engine, stories


def search_matches(entities: list[Entity], engine: Engine, stories: dict[int, list[str]]) -> set[Pair]:
    found: set[Pair] = set()
    every = sum(len(keys) for keys in stories.values())
    with Session(engine) as session:
        for entity in entities:
            for hit in search(session, entity.query, Filters(), Sort.RELEVANCE, limit=every):
                found.update((entity.id, key) for key in stories[hit.story.id])
    return found


# Scores -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Score:
    expected: int
    found: int
    true_positives: int

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.found if self.found else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.expected if self.expected else None

    def as_dict(self) -> dict[str, Any]:
        return {"expected": self.expected, "found": self.found, "true_positives": self.true_positives,
                "false_positives": self.found - self.true_positives,
                "false_negatives": self.expected - self.true_positives,
                "precision": self.precision, "recall": self.recall}


def score(found: set[Pair], expected: set[Pair], keep: Iterable[Pair] | None = None) -> Score:
    if keep is not None:
        kept = set(keep)
        found, expected = found & kept, expected & kept
    return Score(len(expected), len(found), len(found & expected))


def summarise(truth: Truth, found: dict[str, set[Pair]], examples: int) -> dict[str, Any]:
    expected = truth.expected()
    languages = {item.key: item.language or "?" for item in truth.items}
    entities = []
    for entity in truth.entities:
        pairs = {(entity.id, item.key) for item in truth.items}
        named = Counter(languages[key] for (e, key) in expected if e == entity.id)
        entities.append({
            "id": entity.id, "query": entity.query, "kind": entity.kind, "split": entity.split,
            "decision": entity.decision,
            "items": sum(named.values()), "languages": dict(named.most_common()),
            **{method: score(found[method], expected, pairs).as_dict() for method in METHODS},
            "examples": examples_of(entity, truth, found, examples),
        })
    splits = {}
    for split in SPLITS:
        ids = {e.id for e in truth.entities if e.split == split}
        pairs = {(e, item.key) for e in ids for item in truth.items}
        by_language = {}
        for language in sorted(set(languages.values())):
            in_language = {(e, key) for (e, key) in pairs if languages[key] == language}
            by_language[language] = {
                "items": sum(1 for item in truth.items if (item.language or "?") == language),
                **{method: score(found[method], expected, in_language).as_dict() for method in METHODS},
            }
        splits[split] = {
            "entities": sorted(ids),
            **{method: score(found[method], expected, pairs).as_dict() for method in METHODS},
            "languages": dict(sorted(by_language.items(), key=lambda kv: (-kv[1]["rule"]["expected"], kv[0]))),
        }
    return {
        "benchmark": "names",
        "items": len(truth.items),
        "items_by_language": dict(Counter(languages.values()).most_common()),
        "left_out": {"changed": truth.changed, "unlabelled": truth.unlabelled, "missing": truth.missing},
        "target": TARGET,
        "splits": splits,
        "entities": entities,
    }


# What went wrong, item by item --------------------------------------------------------------------------


def examples_of(
    entity: Entity, truth: Truth, found: dict[str, set[Pair]], count: int
) -> dict[str, list[dict[str, Any]]]:
    """A few items the rule missed (with the words the truth expected) or wrongly matched (with the words that
    matched), one language after another; for search, only what it did unlike the rule (search checks its
    candidates with the rule, so the rule's mistakes are its own too). The literal baseline's are not shown."""
    by_key = {item.key: item for item in truth.items}
    expected = {key for (e, key) in truth.expected() if e == entity.id}
    rule, searched = ({key for (e, key) in found[method] if e == entity.id} for method in ("rule", "search"))
    mistakes = {
        "rule_missed": expected - rule,
        "rule_wrong": rule - expected,
        "search_missed": (expected - searched) & rule,
        "search_wrong": (searched - expected) - rule,
    }
    matcher = rules_for([entity], literal=False)
    result: dict[str, list[dict[str, Any]]] = {}
    for kind, keys in mistakes.items():
        chosen = by_language([by_key[key] for key in sorted(keys)], count)
        if kind.endswith("missed"):
            result[kind] = [{"item": item.key, "language": item.language, "expected": truth.named[item.key][entity.id]}
                            for item in chosen]
        else:
            result[kind] = [{"item": item.key, "language": item.language, "matched": matched_words(matcher, item)}
                            for item in chosen]
    return result


def by_language(items: list[Item], count: int) -> list[Item]:
    """``count`` of ``items``, taking one of each language in turn: the examples show every script that fails."""
    queues: dict[str, list[Item]] = {}
    for item in items:
        queues.setdefault(item.language or "?", []).append(item)
    chosen: list[Item] = []
    while len(chosen) < count and any(queues.values()):
        for queue in queues.values():
            if queue and len(chosen) < count:
                chosen.append(queue.pop(0))
    return chosen


def matched_words(rules: RuleSet, item: Item, limit: int = 3) -> list[str]:
    """The shortest runs of words (up to MAX_WINDOW) of the item's lines that the rule matches alone: which words
    a rule took for the name, whatever the engine does inside."""
    def holds(text: str) -> bool:
        return bool(rules.match(StoryText(text, text, item.source, item.language)))

    for line in [item.title, *item.text.splitlines()]:
        if not holds(line):
            continue
        words = line.split()
        for size in range(1, MAX_WINDOW + 1):
            runs = [" ".join(words[at:at + size]) for at in range(len(words) - size + 1)]
            matched = list(dict.fromkeys(run for run in runs if holds(run)))
            if matched:
                return matched[:limit]
        return [line[:80]]
    return ["(no single line matches)"]


# Output -------------------------------------------------------------------------------------------------


def figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def method_cells(row: dict[str, Any]) -> list[str]:
    return [cell for method in METHODS for cell in (figure(row[method]["precision"]), figure(row[method]["recall"]))]


METHOD_HEADERS = ["rule P", "rule R", "search P", "search R", "literal P", "literal R"]


def print_table(summary: dict[str, Any], examples: int) -> None:
    languages = ", ".join(f"{lang} {n}" for lang, n in summary["items_by_language"].items())
    print(f"{summary['items']} items ({languages}); {len(summary['entities'])} entities; truth: {LABELS.name}")
    left_out = summary["left_out"]
    if any(left_out.values()):
        print(f"left out: {len(left_out['changed'])} items read differently since they were labelled, "
              f"{len(left_out['unlabelled'])} unlabelled, {len(left_out['missing'])} labelled but not in the corpus "
              "(python -m bench.names_truth --review, then --write, to label them again)")
    print()
    rows = [[e["id"], e["split"], e["query"], e["items"], ", ".join(f"{k} {v}" for k, v in e["languages"].items()),
             *method_cells(e)] for e in summary["entities"]]
    print(tabulate(rows, headers=["entity", "split", "query", "items", "languages", *METHOD_HEADERS],
                   disable_numparse=True, colalign=("left", "left", "left", "right", "left")))
    print("items: how many name the entity (by language); P: precision, R: recall over the items; rule: the query "
          "through RuleSet; search: alerts.search over the archive; literal: the query in lower case")
    for split in SPLITS:
        block = summary["splits"][split]
        print()
        print(f"{split} entities ({len(block['entities'])}), by language (pairs: named (entity, item) pairs):")
        rows = [[lang, row["items"], row["rule"]["expected"], *method_cells(row)]
                for lang, row in block["languages"].items()]
        rows.append(["all", summary["items"], block["rule"]["expected"], *method_cells(block)])
        print(tabulate(rows, headers=["language", "items", "pairs", *METHOD_HEADERS], disable_numparse=True,
                       colalign=("left", "right", "right")))
    print()
    for split in SPLITS:
        block = summary["splits"][split]
        parts = [f"{method} P {figure(block[method]['precision'])} R {figure(block[method]['recall'])}"
                 for method in METHODS]
        print(f"overall, {split} ({block['rule']['expected']} named pairs): " + "; ".join(parts))
    short = [
        f"{method} {measure} {split} {figure(summary['splits'][split][method][measure])}"
        for split in SPLITS for method in ("rule", "search") for measure in ("precision", "recall")
        if (summary["splits"][split][method][measure] or 0.0) < TARGET
    ]
    verdict = "met" if not short else "not met: " + ", ".join(short)
    print(f"target: precision and recall >= {TARGET} for rule and search, dev and held-out: {verdict}")
    if examples:
        print()
        print_examples(summary)


def print_examples(summary: dict[str, Any]) -> None:
    print("what went wrong (item: its language, then the words the truth expected, or the words that matched):")
    for entity in summary["entities"]:
        lines = []
        for kind, examples in entity["examples"].items():
            method, what = kind.split("_")
            label = {"missed": "missed", "wrong": "wrongly matched"}[what]
            if method == "search":
                label += " (the rule did not)" if what == "missed" else " (the rule did not match it)"
            for example in examples:
                words = example.get("expected") or example.get("matched")
                lines.append(f"    {method} {label}: {short_key(example['item'])} [{example['language']}] "
                             f"{', '.join(words)}")
        if lines:
            print(f"  {entity['id']} ({entity['query']}):")
            print("\n".join(lines))


def short_key(key: str) -> str:
    """``feeds/news/data-import__unian.xml#3`` -> ``data-import__unian.xml#3``; article paths by their file."""
    name = key.rsplit("/", 1)[-1]
    if key.startswith("articles/readability/"):
        name = key.split("/")[2]
    return name if len(name) <= 48 else name[:45] + "..."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Precision and recall of names across languages: rules, search, "
                                                 "and the literal word.")
    parser.add_argument("--examples", type=int, default=3, help="items shown per entity and mistake (default 3)")
    parser.add_argument("--database-url", help="search a PostgreSQL archive (emptied first) instead of SQLite")
    parser.add_argument("--format", dest="fmt", choices=("table", "json"), default="table")
    args = parser.parse_args(argv)
    if args.examples < 0:
        parser.error("--examples must be 0 or more")
    if not CORPUS.is_dir():
        message = f"skipped: the corpus is not at {CORPUS}"
        print(json.dumps({"benchmark": "names", "skipped": message}) if args.fmt == "json" else message)
        return 0
    progress("reading the items ...")
    truth = load_truth(load_items())
    progress(f"matching {len(truth.items)} items with {len(truth.entities)} rules ...")
    found = {
        "rule": rule_matches(truth.entities, truth.items, literal=False),
        "literal": rule_matches(truth.entities, truth.items, literal=True),
    }
    with tempfile.TemporaryDirectory(prefix="newsmon-names-") as folder:
        progress("filling the archive and searching ...")
        engine, stories = fill_archive(archive_url(args.database_url, folder, "names.db"), truth.items)
        try:
            found["search"] = search_matches(truth.entities, engine, stories)
        finally:
            engine.dispose()
    summary = summarise(truth, found, args.examples)
    if args.fmt == "json":
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print_table(summary, args.examples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
