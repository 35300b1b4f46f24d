"""Stories per second of the alert matcher (``alerts.matching.RuleSet``) beside a loop of regular expressions.

``RuleSet`` compiles every term of every rule into one Aho-Corasick automaton over the folded story, so one
pass over a story finds the terms of all rules; then it evaluates each rule's boolean tree on the terms found.
The baseline is what a naive implementation does: one compiled ``re`` pattern per term (word boundaries,
case-insensitive) searched in the folded story, rule after rule, so its cost grows with the number of rules.
Both engines fold a story once (``alerts.query.fold``, title and text apart), inside the clock.

Material, all read by path from ``../shared/corpus`` (never copied into the project):

- stories: ``--stories`` (10,000) built with a seeded ``random.Random`` from the paragraphs of the 181
  ground-truth article bodies of ``articles/aeb`` and the item summaries of ``feeds/news`` (parsed by
  feedparser): a run of one article's paragraphs topped up with paragraphs from anywhere, to a log-uniform
  length of 200 to 3,000 words; the title is a feed item's title or the opening words of the article;
- rules: ``--rules`` (1,000) of realistic shapes drawn from the corpus vocabulary at rare, medium and common
  paragraph frequencies, so that some rules match a few stories and some thousands: single terms, terms
  AND-ed, OR groups of names, two-word phrases taken from the text, prefixes (``negotia*``), ``title:`` and
  ``text:`` scopes, NOT terms, ``exclude`` queries; words as printed, in lower case, in capitals or without
  their accents.

Each rule is generated twice over: as the query text ``RuleSet`` parses, and as the tree that text means,
built without the parser; the baseline compiles that tree. Both engines must find exactly the same
(rule, story) pairs on the stories both ran, in every round: the run fails (exit 1) with examples if not.

What is timed, in one process: building (parsing and compiling the rules) and matching, story by story. A
pass covers every story, or as many as fit the engine's budget of rule-story pairs (``RULESET_BUDGET``,
``REGEX_BUDGET``): the first of one seeded order, so the regex loop's stories are always the first of
RuleSet's, and RuleSet's recorded time per story gives its time on exactly the regex loop's stories (the
speed-up is measured on the same stories). The engines alternate, and swap order every pass, for ``--rounds``
rounds at ``--rules`` rules (medians) and ``SCALE_ROUNDS`` round at the other numbers of the scaling table
(10, 100, 1,000, 5,000 rules: the first N of one generated list). Also reported: folding alone (work both
engines do) and peak RSS.

The comparison runs RuleSet on the words as written (``names=None``), which is what the regex loop does. Then
RuleSet as newsmon runs it, each name (a capitalised term) widened to its forms in every language from the
shipped names (``alerts.names``), is timed on the same stories, as many rounds, and set beside it.

Prints figures, never asserts them. From the repository root (about four minutes on two cores)::

    python -m bench.matching [--stories 10000] [--rules 1000] [--rounds 3] [--seed 1] [--format table|json]
"""

from __future__ import annotations

import argparse
import gc
import html
import json
import math
import platform
import random
import re
import resource
import statistics
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import regex

from alerts.matching import RuleSet, RuleSpec, StoryText
from alerts.query import And, Field, Node, Not, Or, Term
from newsmon.words import fold, fold_words

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
ARTICLES = Path("articles") / "aeb" / "ground-truth.json"
FEEDS = Path("feeds") / "news"
SCALES = (10, 100, 1000, 5000)
# Rule-story pairs one timed pass may cover; beyond it the pass runs on a seeded subset of the stories. Chosen
# so that the defaults finish in about four minutes on two cores: RuleSet matches all 10,000 stories up to
# 1,000 rules; the regex loop, at about 5 stories/s with 1,000 rules, 100 of them (about 20 s a pass).
RULESET_BUDGET = 10_000_000
REGEX_BUDGET = 100_000
MIN_STORIES = 20  # a pass never covers fewer, whatever the budget says
SCALE_ROUNDS = 1  # rounds of the scaling rows other than --rules: the regex loop makes more unaffordable
FOLD_STORIES = 1000  # stories folded alone each round, to tell folding from matching
STORY_WORDS = (200, 3000)  # bounds of the log-uniform story length, in words
STOPWORDS = 120  # the most widespread words of the corpus (the, and, said ...) make no rule
# Words as alerts.query splits them: the regex package's \w keeps a word's marks (Devanagari vowel signs).
_WORD = regex.compile(r"\w+")
_BIGRAM = regex.compile(r"(?=\b(\w+) (\w+)\b)")  # overlapping pairs of words with one space between
_MARKUP = re.compile(r"<[^>]+>")
_OPERATORS = {"AND", "OR", "NOT"}


def progress(message: str) -> None:
    """On a terminal only, like bench/pipeline.py: quiet when the output goes to a program."""
    if sys.stderr.isatty():
        print(message, file=sys.stderr, flush=True)


# Material: paragraphs and titles of the corpus, recombined into stories ---------------------------------


@dataclass(frozen=True, slots=True)
class Material:
    articles: list[list[str]]  # the paragraphs of each ground-truth article body
    summaries: list[str]  # feed item summaries, markup stripped
    titles: list[str]  # feed item titles


def load_material(corpus: Path) -> Material:
    import feedparser  # only here: the one part of the benchmark that reads feeds

    bodies = json.loads((corpus / ARTICLES).read_text(encoding="utf-8"))
    articles = [paragraphs for body in bodies.values() if (paragraphs := split_paragraphs(body["articleBody"]))]
    summaries, titles = [], []
    for path in sorted((corpus / FEEDS).iterdir()):
        for entry in feedparser.parse(path.read_bytes()).entries:
            title = " ".join(entry.get("title", "").split())
            summary = " ".join(html.unescape(_MARKUP.sub(" ", entry.get("summary", ""))).split())
            if title:
                titles.append(title)
            if len(summary.split()) >= 8:  # "Removed for overview ..." and empty summaries add nothing
                summaries.append(summary)
    return Material(articles, summaries, titles)


def split_paragraphs(body: str) -> list[str]:
    return [line.strip() for line in body.splitlines() if len(line.split()) >= 3]


def build_stories(material: Material, count: int, rng: random.Random) -> list[StoryText]:
    """``count`` stories: mostly one article's paragraphs in order, so a story stays on one topic."""
    pool = [paragraph for article in material.articles for paragraph in article] + material.summaries
    low, high = STORY_WORDS
    stories = []
    for _ in range(count):
        target = math.exp(rng.uniform(math.log(low), math.log(high)))
        article = rng.choice(material.articles)
        start = 0 if rng.random() < 0.5 else rng.randrange(len(article))
        chosen, words = [], 0
        for paragraph in article[start:]:
            if words >= target:
                break
            chosen.append(paragraph)
            words += len(paragraph.split())
        while words < target:  # top up from anywhere: wire copy, a summary, a related item
            paragraph = rng.choice(pool)
            chosen.append(paragraph)
            words += len(paragraph.split())
        if rng.random() < 0.6:
            title = rng.choice(material.titles)
        else:
            title = " ".join(article[0].split()[: rng.randint(6, 14)])
        stories.append(StoryText(title=title, text="\n\n".join(chosen), source="bench", language=None))
    return stories


def story_words(story: StoryText) -> int:
    return len(story.title.split()) + len(story.text.split())


# Vocabulary: words and phrases of the corpus by how widespread they are ---------------------------------


@dataclass(frozen=True, slots=True)
class Topic:
    """The content words, names and two-word phrases of one paragraph: terms that occur together."""

    words: list[str]
    names: list[str]
    phrases: list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Vocabulary:
    rare: list[str]  # in 1 or 2 paragraphs (a story reuses its article's paragraphs, so still matched)
    medium: list[str]  # in 3 to 20
    common: list[str]  # in more, the stopwords left out
    names: list[str]  # capitalised nearly everywhere they occur
    phrases: list[tuple[str, str]]  # two words in a row in the text, in 2 paragraphs or more
    title_words: list[str]
    topics: list[Topic]  # paragraphs with a few content words, a name and a phrase


def build_vocabulary(material: Material) -> Vocabulary:
    paragraphs = [p for article in material.articles for p in article] + material.summaries
    frequency: Counter[str] = Counter()  # folded word -> paragraphs it is in
    spellings: dict[str, Counter[str]] = {}  # folded word -> how it is written
    for paragraph in paragraphs:
        seen = set()
        for surface in _WORD.findall(paragraph):
            folded = _single_folded_word(surface)
            if folded is not None:
                seen.add(folded)
                spellings.setdefault(folded, Counter())[surface] += 1
        frequency.update(seen)
    stop = {word for word, _ in frequency.most_common(STOPWORDS)}
    content = {word: count for word, count in frequency.items() if word not in stop and len(word) >= 3}
    spelled = {word: spellings[word].most_common(1)[0][0] for word in content}
    names = {word for word in content if _is_name(spellings[word])}
    phrases: Counter[tuple[str, str]] = Counter()
    topics = []
    for paragraph in paragraphs:
        words = [w for surface in _WORD.findall(paragraph) if (w := _single_folded_word(surface)) in content]
        pairs = {(a, b) for a, b in _BIGRAM.findall(paragraph) if _is_content(a, content) and _is_content(b, content)}
        phrases.update(pairs)
        unique = [spelled[w] for w in dict.fromkeys(words)]
        topic_names = [spelled[w] for w in dict.fromkeys(words) if w in names]
        if len(unique) >= 4 and topic_names and pairs:
            topics.append(Topic(unique, topic_names, sorted(pairs)))
    title_words = {
        folded: surface
        for title in material.titles
        for surface in _WORD.findall(title)
        if (folded := _single_folded_word(surface)) is not None and folded not in stop and len(folded) >= 3
    }
    return Vocabulary(
        rare=sorted(spelled[w] for w, n in content.items() if n <= 2),
        medium=sorted(spelled[w] for w, n in content.items() if 3 <= n <= 20),
        common=sorted(spelled[w] for w, n in content.items() if n > 20),
        names=sorted(spelled[w] for w in names if content[w] >= 2),
        phrases=sorted(pair for pair, n in phrases.items() if n >= 2),
        title_words=sorted(title_words.values()),
        topics=topics,
    )


def _single_folded_word(surface: str) -> str | None:
    """The folded word, or None for numbers and what folds into several words (``½`` -> ``1 2``)."""
    if any(char.isdigit() or char == "_" for char in surface):
        return None
    words = fold_words(surface)
    return words[0] if len(words) == 1 else None


def _is_content(surface: str, content: dict[str, int]) -> bool:
    folded = _single_folded_word(surface)
    return folded is not None and folded in content


def _is_name(spellings: Counter[str]) -> bool:
    capitalised = sum(n for surface, n in spellings.items() if surface[0].isupper())
    return capitalised >= 0.9 * sum(spellings.values())


# Rules: the query text a user writes, and the tree it means, built side by side without the parser ------


@dataclass(frozen=True, slots=True)
class Piece:
    text: str  # as written in config.yaml
    node: Node  # what it must mean
    compound: bool = False  # wants parentheses inside AND, OR and NOT


@dataclass(frozen=True, slots=True)
class BenchRule:
    spec: RuleSpec  # what RuleSet gets
    query: Node  # what the baseline compiles
    exclude: Node | None
    shape: str


def _written(surface: str, rng: random.Random) -> str:
    """Users type names as printed, in lower case, now and then in capitals or without accents (Elysee)."""
    roll = rng.random()
    if roll < 0.3:
        text = surface.lower()
    elif roll < 0.35:
        text = surface.upper()
    elif roll < 0.45:
        text = _unaccented(surface)
    else:
        text = surface
    return surface if text in _OPERATORS else text  # a word written AND would be the operator


def _unaccented(surface: str) -> str:
    """``Élysée`` -> ``Elysee``, for words of the Latin alphabet; others as they are."""
    bare = "".join(char for char in unicodedata.normalize("NFKD", surface) if not unicodedata.combining(char))
    return bare if bare.isascii() else surface


def word(surface: str, rng: random.Random, scope: Field = Field.ANY) -> Piece:
    text = _written(surface, rng)
    return Piece(_scope_prefix(scope) + text, Term(tuple(fold_words(text)), False, scope))


def phrase(surfaces: Sequence[str], rng: random.Random, scope: Field = Field.ANY) -> Piece:
    text = " ".join(_written(surface, rng) for surface in surfaces)
    return Piece(f'{_scope_prefix(scope)}"{text}"', Term(tuple(fold_words(text)), False, scope))


def prefix(surface: str, rng: random.Random) -> Piece:
    stem = _written(surface, rng)[: rng.randint(4, max(4, len(surface) - 2))]
    return Piece(stem + "*", Term(tuple(fold_words(stem)), True, Field.ANY))


def all_of(pieces: Sequence[Piece], rng: random.Random) -> Piece:
    joiner = " AND " if rng.random() < 0.5 else " "  # adjacent terms mean AND too
    return Piece(joiner.join(_grouped(p) for p in pieces), And(tuple(p.node for p in pieces)), compound=True)


def any_of(pieces: Sequence[Piece]) -> Piece:
    return Piece(" OR ".join(_grouped(p) for p in pieces), Or(tuple(p.node for p in pieces)), compound=True)


def but_not(piece: Piece, vetoed: Piece) -> Piece:
    """``piece NOT vetoed``."""
    return Piece(f"{_grouped(piece)} NOT {_grouped(vetoed)}", And((piece.node, Not(vetoed.node))), compound=True)


def title_any(surfaces: Sequence[str], rng: random.Random) -> Piece:
    """``title:(a OR b)``: the scope reaches every term inside."""
    written = [_written(surface, rng) for surface in surfaces]
    node = Or(tuple(Term(tuple(fold_words(text)), False, Field.TITLE) for text in written))
    return Piece(f"title:({' OR '.join(written)})", node)


def _scope_prefix(scope: Field) -> str:
    return "" if scope is Field.ANY else f"{scope}:"


def _grouped(piece: Piece) -> str:
    return f"({piece.text})" if piece.compound else piece.text


class RuleMaker:
    """Rules of realistic shapes, drawn with one seeded random generator from the corpus vocabulary.

    Terms a rule combines with AND come from one paragraph (a "topic"), as a user's do from one subject:
    words drawn independently from a multilingual vocabulary would hardly ever occur together.
    """

    def __init__(self, vocabulary: Vocabulary, rng: random.Random) -> None:
        self.vocabulary = vocabulary
        self.rng = rng
        # shape -> (weight, maker); weights roughly as in a newsroom's config
        self.shapes: dict[str, tuple[int, Callable[[Topic], Piece]]] = {
            "term": (14, lambda topic: word(self.any_word(), rng)),
            "and": (14, self.both),
            "names": (12, self.names),
            "phrase": (14, self.phrases),
            "prefix": (10, self.prefix),
            "title": (12, self.title),
            "not": (12, self.negated),
            "mixed": (12, self.mixed),
        }

    def make(self, count: int) -> list[BenchRule]:
        shapes = list(self.shapes)
        weights = [self.shapes[shape][0] for shape in shapes]
        rules = []
        for index in range(count):
            shape = self.rng.choices(shapes, weights)[0]
            query = self.shapes[shape][1](self.rng.choice(self.vocabulary.topics))
            exclude = self.exclude() if self.rng.random() < 0.15 else None
            spec = RuleSpec(f"r{index:04d}-{shape}", query.text, exclude.text if exclude else None)
            rules.append(BenchRule(spec, query.node, exclude.node if exclude else None, shape))
        return rules

    def any_word(self) -> str:
        """Rare, medium or common: some rules match a handful of stories, some thousands."""
        band = self.rng.choices(["rare", "medium", "common"], [3, 4, 3])[0]
        return self.rng.choice(getattr(self.vocabulary, band))

    def both(self, topic: Topic) -> Piece:
        """``a b`` or ``a AND b AND c``."""
        surfaces = self.rng.sample(topic.words, min(len(topic.words), self.rng.randint(2, 3)))
        return all_of([word(surface, self.rng) for surface in surfaces], self.rng)

    def names(self, topic: Topic) -> Piece:
        """``Putin OR Zelensky OR Erdogan``, now and then AND a word of the same topic."""
        extra = self.rng.sample(self.vocabulary.names, self.rng.randint(1, 3))
        group = any_of([word(name, self.rng) for name in dict.fromkeys([self.rng.choice(topic.names), *extra])])
        if self.rng.random() < 0.4:
            return all_of([group, word(self.rng.choice(topic.words), self.rng)], self.rng)
        return group

    def phrases(self, topic: Topic) -> Piece:
        first = phrase(self.rng.choice(topic.phrases), self.rng)
        if self.rng.random() < 0.3:
            return any_of([first, phrase(self.rng.choice(self.vocabulary.phrases), self.rng)])
        return first

    def prefix(self, topic: Topic) -> Piece:
        stem = prefix(max(self.rng.sample(topic.words, 2), key=len), self.rng)  # the longer: a stem worth a *
        if self.rng.random() < 0.4:
            return all_of([stem, word(self.rng.choice(topic.words), self.rng)], self.rng)
        return stem

    def title(self, topic: Topic) -> Piece:
        roll = self.rng.random()
        if roll < 0.4:
            scoped = word(self.rng.choice(self.vocabulary.title_words), self.rng, Field.TITLE)
        elif roll < 0.6:
            scoped = phrase(self.rng.choice(self.vocabulary.phrases), self.rng, Field.TITLE)
        else:
            scoped = title_any(self.rng.sample(self.vocabulary.title_words, self.rng.randint(2, 3)), self.rng)
        if self.rng.random() < 0.3:
            return all_of([scoped, word(self.any_word(), self.rng, Field.TEXT)], self.rng)
        return scoped

    def negated(self, topic: Topic) -> Piece:
        vetoed = word(self.rng.choice(self.vocabulary.common), self.rng)  # common, so the veto often bites
        if self.rng.random() < 0.5:
            return but_not(word(self.rng.choice(topic.words), self.rng), vetoed)
        rng = self.rng
        return but_not(any_of([word(rng.choice(topic.words), rng), phrase(rng.choice(topic.phrases), rng)]), vetoed)

    def mixed(self, topic: Topic) -> Piece:
        """``("a b" OR Name) AND pre* NOT title:x``: deeper nesting, every kind of term at once."""
        rng = self.rng
        either = any_of([phrase(rng.choice(topic.phrases), rng), word(rng.choice(topic.names), rng)])
        both = all_of([either, prefix(max(rng.sample(topic.words, 2), key=len), rng)], rng)
        return but_not(both, word(rng.choice(self.vocabulary.title_words), rng, Field.TITLE))

    def exclude(self) -> Piece:
        vocabulary, rng = self.vocabulary, self.rng
        return any_of([word(rng.choice(vocabulary.common), rng), phrase(rng.choice(vocabulary.phrases), rng)])


# The baseline: one compiled regular expression per term, rule after rule --------------------------------

Predicate = Callable[[str, str], bool]  # (folded title, folded text) -> holds


class RegexRules:
    """The naive matcher: for each rule, its tree of compiled patterns, searched in the folded story."""

    def __init__(self, rules: Sequence[BenchRule]) -> None:
        self.rules = [
            (rule.spec.name, compile_tree(rule.query), compile_tree(rule.exclude) if rule.exclude else None)
            for rule in rules
        ]

    def match(self, story: StoryText) -> list[str]:
        title, text = fold(story.title), fold(story.text)
        return [
            name
            for name, query, exclude in self.rules
            if query(title, text) and not (exclude is not None and exclude(title, text))
        ]


def compile_tree(node: Node) -> Predicate:
    if isinstance(node, Term):
        return _compile_term(node)
    if isinstance(node, Not):
        child = compile_tree(node.child)
        return lambda title, text: not child(title, text)
    children = [compile_tree(child) for child in node.children]
    if isinstance(node, And):
        return lambda title, text: all(child(title, text) for child in children)
    return lambda title, text: any(child(title, text) for child in children)


def _compile_term(term: Term) -> Predicate:
    # Word boundaries as white space: folded text is words separated by single spaces, and re's \b would cut
    # words the fold keeps whole (re's \w lacks the marks of Devanagari vowels). re.IGNORECASE is what a
    # naive matcher adds, though the text is already case-folded.
    body = " ".join(re.escape(w) for w in term.words)
    search = re.compile(rf"(?<!\S){body}" + ("" if term.prefix else r"(?!\S)"), re.IGNORECASE).search
    if term.field is Field.TITLE:
        return lambda title, text: search(title) is not None
    if term.field is Field.TEXT:
        return lambda title, text: search(text) is not None
    return lambda title, text: search(title) is not None or search(text) is not None


# Measuring ------------------------------------------------------------------------------------------------


class Matcher(Protocol):
    def match(self, story: StoryText) -> list[str]: ...


ENGINES: dict[str, Callable[[Sequence[BenchRule]], Matcher]] = {
    # The words as written, which the regex loop also matches: the two must agree pair for pair.
    "ruleset": lambda rules: RuleSet((rule.spec for rule in rules), names=None),
    "regex": RegexRules,
}
LABELS = {"ruleset": "RuleSet (one Aho-Corasick automaton)", "regex": "regex loop (one pattern per term)"}
BUDGETS = {"ruleset": RULESET_BUDGET, "regex": REGEX_BUDGET}  # RuleSet's must be the larger (shared_ids)


Matches = list[list[str]]  # the names of the rules each story of a pass matched, in the pass's order


@dataclass(slots=True)
class Scale:
    """Both engines at one number of rules: the stories each runs on, and what every round measured."""

    rules: int
    rounds: int
    ids: dict[str, list[int]]  # engine -> stories of its passes
    build_seconds: dict[str, list[float]] = field(default_factory=lambda: {e: [] for e in ENGINES})
    story_seconds: dict[str, list[list[float]]] = field(default_factory=lambda: {e: [] for e in ENGINES})
    matches: dict[str, Matches] = field(default_factory=dict)
    unstable: set[str] = field(default_factory=set)  # engines whose matches changed from one round to the next

    def record(self, engine: str, build: float, seconds: list[float], matches: Matches) -> None:
        self.build_seconds[engine].append(build)
        self.story_seconds[engine].append(seconds)
        if engine not in self.matches:
            self.matches[engine] = matches
        elif matches != self.matches[engine]:
            self.unstable.add(engine)

    def shared_ids(self) -> list[int]:
        """The stories both engines ran: the regex loop's, the first of RuleSet's (see ``plan_scales``)."""
        shared = self.ids["regex"]
        assert self.ids["ruleset"][: len(shared)] == shared, "RULESET_BUDGET must be the larger"
        return shared

    def stories_per_second(self, engine: str) -> list[float]:
        return [len(seconds) / sum(seconds) for seconds in self.story_seconds[engine]]

    def ruleset_seconds_on(self, stories: int) -> list[float]:
        """RuleSet's seconds, per round, on the first ``stories`` of its stories (where the other passes ran)."""
        return [sum(seconds[:stories]) for seconds in self.story_seconds["ruleset"]]

    def speedup(self) -> float:
        """Median over the rounds of regex seconds / RuleSet seconds on exactly the same stories: RuleSet's
        time is recorded per story, so its time on the regex loop's subset is known without another pass."""
        shared = self.ruleset_seconds_on(len(self.shared_ids()))
        regex = self.story_seconds["regex"]
        return statistics.median(sum(seconds) / ruleset for seconds, ruleset in zip(regex, shared, strict=True))

    def pairs(self, engine: str, stories: int | None = None) -> set[tuple[str, int]]:
        """The (rule name, story index) pairs ``engine`` found on its first ``stories`` stories (default all)."""
        ids, found = self.ids[engine], self.matches[engine]
        return {(name, i) for i, names in zip(ids[:stories], found[:stories], strict=True) for name in names}

    def disagreement(self) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        """(rule, story) pairs only RuleSet found and only the regex loop found, on the stories both ran."""
        both = len(self.shared_ids())
        ruleset, regex = self.pairs("ruleset", both), self.pairs("regex", both)
        return sorted(ruleset - regex), sorted(regex - ruleset)


def plan_scales(
    counts: Sequence[int], main: int, stories: int, rounds: tuple[int, int], rng: random.Random
) -> list[Scale]:
    """A ``Scale`` per number of rules. A pass covers every story, or the first of one seeded order that fit
    the engine's budget of rule-story pairs, so the regex loop's stories are always among RuleSet's. The
    main number of rules gets ``rounds[0]`` rounds, the others ``rounds[1]``."""
    order = list(range(stories))
    rng.shuffle(order)
    scales = []
    for count in counts:
        ids = {engine: order[: max(MIN_STORIES, budget // count)] for engine, budget in BUDGETS.items()}
        scales.append(Scale(count, rounds[0] if count == main else rounds[1], ids))
    return scales


def time_build(engine: str, rules: Sequence[BenchRule]) -> tuple[float, Matcher]:
    re.purge()  # re's own cache would otherwise hand the regex loop patterns compiled in an earlier round
    gc.collect()
    start = time.perf_counter()
    matcher = ENGINES[engine](rules)
    return time.perf_counter() - start, matcher


def time_matching(
    matcher: Matcher, stories: Sequence[StoryText], ids: Sequence[int]
) -> tuple[list[float], Matches]:
    """Seconds per story (two clock reads per story cost well under 1% of the fastest match) and the matches."""
    clock = time.perf_counter
    seconds: list[float] = []
    found: Matches = []
    gc.collect()
    for i in ids:
        start = clock()
        names = matcher.match(stories[i])
        seconds.append(clock() - start)
        found.append(names)
    return seconds, found


def time_folding(stories: Sequence[StoryText], ids: Sequence[int]) -> float:
    """Folding title and text alone: work both engines do per story, so what is left is matching proper."""
    gc.collect()
    start = time.perf_counter()
    for i in ids:
        fold(stories[i].title)
        fold(stories[i].text)
    return time.perf_counter() - start


def measure(
    stories: Sequence[StoryText], rules: Sequence[BenchRule], scales: Sequence[Scale], main: Scale
) -> list[float]:
    """Round after round, every scale that still has rounds to run, both engines, in an order that swaps
    every pass so a drift of the machine favours neither. Returns the seconds of folding alone of the first
    ``FOLD_STORIES`` of RuleSet's stories at the main scale, once per round of the main scale."""
    fold_seconds = []
    for index in range(max(scale.rounds for scale in scales)):
        for position, scale in enumerate(s for s in scales if s.rounds > index):
            engines = list(ENGINES) if (index + position) % 2 == 0 else list(ENGINES)[::-1]
            for engine in engines:
                ids = scale.ids[engine]
                progress(f"round {index + 1}, {scale.rules:,} rules: {engine} on {len(ids):,} stories ...")
                build, matcher = time_build(engine, rules[: scale.rules])
                seconds, matches = time_matching(matcher, stories, ids)
                scale.record(engine, build, seconds, matches)
                rate = len(ids) / sum(seconds)
                progress(f"  build {build:.3f} s, {rate:,.1f} stories/s, {sum(map(len, matches)):,} matches")
        if index < main.rounds:
            fold_seconds.append(time_folding(stories, main.ids["ruleset"][:FOLD_STORIES]))
    return fold_seconds


# Summary and output ---------------------------------------------------------------------------------------


def measure_names(stories: Sequence[StoryText], rules: Sequence[BenchRule], main: Scale) -> dict[str, Any]:
    """RuleSet as newsmon runs it, each name widened to its forms in every language (the shipped names), on the
    main scale's RuleSet stories, as many rounds; beside RuleSet on the words as written (the same stories)."""
    seconds_per_round, builds, found = [], [], set()
    ids = main.ids["ruleset"]
    for index in range(main.rounds):
        progress(f"round {index + 1}, {main.rules:,} rules: RuleSet with names on {len(ids):,} stories ...")
        gc.collect()
        start = time.perf_counter()
        matcher = RuleSet(rule.spec for rule in rules[: main.rules])
        builds.append(time.perf_counter() - start)
        seconds, matches = time_matching(matcher, stories, ids)
        seconds_per_round.append(sum(seconds))
        found = {(name, i) for i, names in zip(ids, matches, strict=True) for name in names}
        progress(f"  build {builds[-1]:.3f} s, {len(ids) / sum(seconds):,.1f} stories/s, {len(found):,} matches")
    with_names = statistics.median(len(ids) / seconds for seconds in seconds_per_round)
    written = statistics.median(main.stories_per_second("ruleset"))
    as_written = main.pairs("ruleset")
    return {
        "stories": len(ids),
        "build_seconds_median": statistics.median(builds),
        "stories_per_second_median": with_names,
        "ratio_to_words_as_written": with_names / written,
        "rule_story_pairs": len(found),
        "pairs_also_found_as_written": len(found & as_written),
        "pairs_only_with_names": len(found - as_written),
    }


def summarise(
    stories: list[StoryText],
    rules: list[BenchRule],
    main: Scale,
    scales: list[Scale],
    fold_seconds: list[float],
    seed: int,
    names: dict[str, Any],
) -> dict[str, Any]:
    lengths = [story_words(story) for story in stories]
    main_rules = rules[: main.rules]
    found = main.pairs("ruleset")
    per_rule = Counter(name for name, _ in found)
    folded = min(FOLD_STORIES, len(main.ids["ruleset"]))
    ruleset_seconds = main.ruleset_seconds_on(folded)
    return {
        "benchmark": "matching",
        "python": platform.python_version(),
        "seed": seed,
        "measured": (
            "wall seconds in one process, per story: fold title and text, then match; build = parse and compile "
            "every rule; the engines alternate within each round; medians over the rounds"
        ),
        "stories": {
            "count": len(stories),
            "mean_words": statistics.mean(lengths),
            "median_words": statistics.median(lengths),
            "min_words": min(lengths),
            "max_words": max(lengths),
            "mean_characters": statistics.mean(len(story.title) + len(story.text) for story in stories),
        },
        "rules": {
            "count": main.rules,
            "shapes": dict(sorted(Counter(rule.shape for rule in main_rules).items())),
            "with_exclude": sum(1 for rule in main_rules if rule.exclude is not None),
            "examples": [_rule_text(rule) for rule in main_rules[:8]],
        },
        "matches": {
            "stories": len(main.ids["ruleset"]),
            "rule_story_pairs": len(found),
            "rules_matching_a_story": len(per_rule),
            "stories_matching_a_rule": len({i for _, i in found}),
            "median_stories_per_matching_rule": statistics.median(per_rule.values()) if per_rule else 0,
        },
        "scales": [_scale_figures(scale, rules, stories) for scale in scales],
        "main_rules": main.rules,
        "speedup": main.speedup(),
        "fold_stories": folded,
        "fold_only_stories_per_second": folded / statistics.median(fold_seconds),
        "fold_share_of_ruleset": statistics.median(
            fold / ruleset for fold, ruleset in zip(fold_seconds, ruleset_seconds, strict=True)
        ),
        "with_names": names,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
    }


def _scale_figures(scale: Scale, rules: list[BenchRule], stories: list[StoryText]) -> dict[str, Any]:
    engines = {}
    for engine in ENGINES:
        rates = scale.stories_per_second(engine)
        engines[engine] = {
            "stories": len(scale.ids[engine]),
            "mean_words": statistics.mean(story_words(stories[i]) for i in scale.ids[engine]),
            "build_seconds_median": statistics.median(scale.build_seconds[engine]),
            "stories_per_second_median": statistics.median(rates),
            "stories_per_second_best": max(rates),
            "stories_per_second_rounds": rates,
        }
    return {
        "rules": scale.rules,
        "rounds": scale.rounds,
        "engines": engines,
        "speedup_on_shared_stories": scale.speedup(),
        "agreement": _agreement(scale, rules, stories),
    }


def _agreement(scale: Scale, rules: list[BenchRule], stories: list[StoryText]) -> dict[str, Any]:
    only_ruleset, only_regex = scale.disagreement()
    return {
        "stories_compared": len(scale.shared_ids()),
        "pairs_compared": len(scale.pairs("regex")) + len(only_ruleset),
        "mismatches": len(only_ruleset) + len(only_regex),
        "only_ruleset": len(only_ruleset),
        "only_regex": len(only_regex),
        "examples": [_example(m, "ruleset", rules, stories) for m in only_ruleset[:3]]
        + [_example(m, "regex", rules, stories) for m in only_regex[:3]],
        "unstable_engines": sorted(scale.unstable),
    }


def _rule_text(rule: BenchRule) -> str:
    return rule.spec.query + (f"   [exclude: {rule.spec.exclude}]" if rule.spec.exclude else "")


def _example(match: tuple[str, int], engine: str, rules: list[BenchRule], stories: list[StoryText]) -> dict[str, Any]:
    name, index = match
    rule = next(rule for rule in rules if rule.spec.name == name)
    spec, title = rule.spec, stories[index].title
    return {"only": engine, "rule": name, "query": spec.query, "exclude": spec.exclude, "story": index, "title": title}


def has_disagreement(summary: dict[str, Any]) -> bool:
    return any(s["agreement"]["mismatches"] or s["agreement"]["unstable_engines"] for s in summary["scales"])


def print_table(summary: dict[str, Any]) -> None:
    from tabulate import tabulate

    stories, rules, found = summary["stories"], summary["rules"], summary["matches"]
    print(
        f"newsmon matching benchmark: {stories['count']:,} stories, {rules['count']:,} rules, seed "
        f"{summary['seed']}, Python {summary['python']}"
    )
    print(f"measured: {summary['measured']}")
    print(
        f"stories: mean {stories['mean_words']:,.0f} words ({stories['mean_characters']:,.0f} characters), "
        f"median {stories['median_words']:,.0f}, from {stories['min_words']:,} to {stories['max_words']:,}"
    )
    shapes = ", ".join(f"{shape} {n}" for shape, n in rules["shapes"].items())
    print(f"rules: {shapes}; {rules['with_exclude']} of them with an exclude; the first few:")
    for example in rules["examples"]:
        print(f"    {example}")
    print(
        f"matches of the {rules['count']:,} rules on {found['stories']:,} stories: {found['rule_story_pairs']:,} "
        f"(rule, story) pairs; {found['rules_matching_a_story']:,} rules match at least one story (median "
        f"{found['median_stories_per_matching_rule']:,.0f} stories each); {found['stories_matching_a_rule']:,} "
        "stories match at least one rule"
    )
    print()
    rows = []
    for scale in summary["scales"]:
        agreement = scale["agreement"]
        for engine, f in scale["engines"].items():
            is_regex = engine == "regex"
            rows.append([
                f"{scale['rules']:,}" if not is_regex else "",
                LABELS[engine],
                f"{f['stories']:,}",
                f"{f['mean_words']:,.0f}",
                scale["rounds"],
                f["build_seconds_median"] * 1000,
                f["stories_per_second_median"],
                f"{scale['speedup_on_shared_stories']:,.1f}x" if is_regex else "",
                f"{agreement['mismatches']:,} of {agreement['pairs_compared']:,}" if is_regex else "",
            ])
    headers = ["rules", "engine", "stories", "mean words", "rounds", "build ms", "stories/s", "RuleSet speed-up",
               "mismatches"]
    print(tabulate(rows, headers=headers, floatfmt=",.1f", colalign=("right", "left", "right", "right")))
    print(
        "stories: how many a pass matched (a seeded subset when all do not fit the engine's budget); stories/s: "
        "median of the rounds; speed-up: regex seconds / RuleSet seconds on the same stories (RuleSet's time is "
        "recorded per story); mismatches: (rule, story) pairs one engine found and the other did not, of all the "
        "pairs either found on the stories both ran"
    )
    print()
    main = next(scale for scale in summary["scales"] if scale["rules"] == summary["main_rules"])["engines"]
    print(
        f"at {summary['main_rules']:,} rules: RuleSet {main['ruleset']['stories_per_second_median']:,.1f} "
        f"stories/s, regex loop {main['regex']['stories_per_second_median']:,.1f} stories/s; RuleSet is "
        f"{summary['speedup']:,.1f}x faster on the same stories"
    )
    print(
        f"folding title and text alone (both engines do it): {summary['fold_only_stories_per_second']:,.0f} "
        f"stories/s, {summary['fold_share_of_ruleset']:.0%} of RuleSet's time on the same "
        f"{summary['fold_stories']:,} stories at {summary['main_rules']:,} rules"
    )
    names = summary["with_names"]
    print(
        f"RuleSet with names (as newsmon runs it: each name widened to its forms in every language): "
        f"{names['stories_per_second_median']:,.1f} stories/s at {summary['main_rules']:,} rules, "
        f"{names['ratio_to_words_as_written']:.2f}x of RuleSet on the words as written (build "
        f"{names['build_seconds_median']:.2f} s); {names['rule_story_pairs']:,} (rule, story) pairs, "
        f"{names['pairs_only_with_names']:,} of them found only through a name's other forms"
    )
    print(f"peak RSS of the process: {summary['peak_rss_mib']:,.0f} MiB")
    compared = sum(scale["agreement"]["pairs_compared"] for scale in summary["scales"])
    if has_disagreement(summary):
        mismatches = sum(scale["agreement"]["mismatches"] for scale in summary["scales"])
        print(f"agreement: FAILED, {mismatches:,} of {compared:,} (rule, story) pairs differ (examples on stderr)")
    else:
        print(f"agreement: the two engines found the same {compared:,} (rule, story) pairs at every number of rules")


def print_disagreement(summary: dict[str, Any]) -> None:
    total = sum(scale["agreement"]["mismatches"] for scale in summary["scales"])
    print(f"benchmark failed: RuleSet and the regex loop disagree on {total:,} (rule, story) pairs", file=sys.stderr)
    for scale in summary["scales"]:
        agreement = scale["agreement"]
        if agreement["unstable_engines"]:
            print(f"  {scale['rules']} rules: matches changed between rounds: {agreement['unstable_engines']}",
                  file=sys.stderr)
        for example in agreement["examples"]:
            print(
                f"  {scale['rules']} rules, only {example['only']}: {example['rule']} {example['query']!r} "
                f"exclude={example['exclude']!r}, story {example['story']} titled {example['title'][:60]!r}",
                file=sys.stderr,
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Stories per second of RuleSet beside a loop of regular expressions.")
    parser.add_argument("--stories", type=int, default=10_000, help="stories to build (default 10000)")
    parser.add_argument("--rules", type=int, default=1000, help="rules of the main comparison (default 1000)")
    parser.add_argument(
        "--rounds", type=int, default=3, help=f"rounds at --rules rules (default 3; other scales: {SCALE_ROUNDS})"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of stories, rules and subsets (default 1)")
    parser.add_argument("--format", dest="fmt", choices=("table", "json"), default="table")
    args = parser.parse_args(argv)
    if min(args.stories, args.rules, args.rounds) < 1:
        parser.error("--stories, --rules and --rounds must be at least 1")
    if not (CORPUS / ARTICLES).is_file() or not (CORPUS / FEEDS).is_dir():
        message = f"skipped: the corpus is not at {CORPUS} (needs {ARTICLES} and {FEEDS}/)"
        print(json.dumps({"benchmark": "matching", "skipped": message}) if args.fmt == "json" else message)
        return 0
    progress("reading the corpus ...")
    material = load_material(CORPUS)
    progress(f"building {args.stories:,} stories and the rules ...")
    # One generator per purpose, so that --stories changes neither the rules nor --rules the stories.
    stories = build_stories(material, args.stories, random.Random(f"{args.seed}:stories"))
    counts = sorted(set(SCALES) | {args.rules})
    rules = RuleMaker(build_vocabulary(material), random.Random(f"{args.seed}:rules")).make(max(counts))
    order = random.Random(f"{args.seed}:subsets")
    scales = plan_scales(counts, args.rules, len(stories), (args.rounds, SCALE_ROUNDS), order)
    main_scale = scales[counts.index(args.rules)]
    fold_seconds = measure(stories, rules, scales, main_scale)
    names = measure_names(stories, rules, main_scale)
    summary = summarise(stories, rules, main_scale, scales, fold_seconds, args.seed, names)
    if args.fmt == "json":
        print(json.dumps(summary, indent=2))
    else:
        print_table(summary)
    if has_disagreement(summary):
        print_disagreement(summary)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
