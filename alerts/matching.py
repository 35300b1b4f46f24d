"""Matching stories against every rule at once: one Aho-Corasick pass over a story finds all their terms.

Rules are compiled once. Each distinct term of every rule (query and exclude) becomes one pattern of a
single automaton over the folded text (`` word word ``, or `` word`` for a prefix), so finding the terms of
every rule costs one pass over the story. The boolean trees are then evaluated on the set of patterns found
in the title and in the text, but only for the rules that can hold: each rule is indexed by terms one of
which it needs (its triggers), so a story pays for the rules its words touch, not for every rule.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import ahocorasick
import regex

from alerts.names import Lexicon, widen
from alerts.query import And, Field, Node, Not, Term, parse_query
from newsmon.words import COMBINING_MARKS, fold, unfolded, words


@dataclass(frozen=True, slots=True)
class StoryText:
    """What a rule is matched against: the cleaned story, never the raw page."""

    title: str
    text: str
    source: str
    language: str | None


@dataclass(frozen=True, slots=True)
class CompiledRule:
    name: str
    query: Node
    exclude: Node | None
    sources: frozenset[str] | None
    languages: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """What matching needs of a rule (config's RuleConfig carries more: channels, digest)."""

    name: str
    query: str
    exclude: str | None = None
    sources: Sequence[str] | None = None
    languages: Sequence[str] | None = None


SHIPPED = "shipped"  # RuleSet's default: the names newsmon ships (alerts.names.Lexicon.shipped)


class RuleSet:
    """All rules, compiled once; ``match`` returns the names of the rules a story matches.

    ``names`` widens each name in the rules to its other forms (``alerts.names``): the shipped names by default,
    a config's (``Lexicon.shipped().with_aliases(config.names)``), or None for the words as written only.
    """

    def __init__(self, rules: Iterable[RuleSpec], names: Lexicon | None | str = SHIPPED) -> None:
        lexicon = Lexicon.shipped() if names == SHIPPED else names
        assert lexicon is None or isinstance(lexicon, Lexicon)
        self.rules: list[CompiledRule] = []
        self._trees: list[tuple[_Tree, _Tree | None]] = []  # per rule, its query and exclude as pattern ids
        self._pattern_ids: dict[str, int] = {}
        self._writings: dict[str, _Writings] = {}  # Term.cased -> how a story may write it
        self._automaton = ahocorasick.Automaton()
        self._triggered: dict[int, list[int]] = {}  # pattern id -> rules that need it or another trigger
        self._always: list[int] = []  # rules without triggers (a NOT at the top): evaluated for every story
        for rule in rules:
            query = widen(parse_query(rule.query), lexicon)
            exclude = widen(parse_query(rule.exclude), lexicon) if rule.exclude else None
            compiled = CompiledRule(
                name=rule.name,
                query=query,
                exclude=exclude,
                sources=frozenset(rule.sources) if rule.sources else None,
                languages=frozenset(lang.lower() for lang in rule.languages) if rule.languages else None,
            )
            self._trees.append((self._tree(query), self._tree(exclude) if exclude is not None else None))
            needed = _triggers(query)
            if needed is None:
                self._always.append(len(self.rules))
            for term in needed or ():
                self._triggered.setdefault(self._pattern_ids[term.pattern], []).append(len(self.rules))
            self.rules.append(compiled)
        if self._pattern_ids:
            self._automaton.make_automaton()

    def _add(self, pattern: str) -> int:
        if pattern not in self._pattern_ids:
            self._pattern_ids[pattern] = len(self._pattern_ids)
            self._automaton.add_word(pattern, self._pattern_ids[pattern])
        return self._pattern_ids[pattern]

    def _tree(self, node: Node) -> _Tree:
        """``node`` with its terms as pattern ids; the terms of an OR (a name and its other forms) as one leaf."""
        if isinstance(node, Term):
            return self._leaf([node])
        if isinstance(node, Not):
            return _Not(self._tree(node.child))
        if isinstance(node, And):
            return _And(tuple(self._tree(child) for child in node.children))
        leaves = [child for child in node.children if isinstance(child, Term)]
        others = tuple(self._tree(child) for child in node.children if not isinstance(child, Term))
        return _Or(((self._leaf(leaves),) if leaves else ()) + others) if others else self._leaf(leaves)

    def _leaf(self, found_by: list[Term]) -> _Leaf:
        title: set[int] = set()
        text: set[int] = set()
        plain: set[int] = set()
        checks: dict[int, list[_Writings]] = {}
        for term in found_by:
            pattern_id = self._add(term.pattern)
            if term.field is not Field.TEXT:
                title.add(pattern_id)
            if term.field is not Field.TITLE:
                text.add(pattern_id)
            if term.cased is None:
                plain.add(pattern_id)
            else:
                if term.cased not in self._writings:
                    self._writings[term.cased] = _Writings.of(term)
                checks.setdefault(pattern_id, []).append(self._writings[term.cased])
        kept = {pattern_id: tuple(ways) for pattern_id, ways in checks.items() if pattern_id not in plain}
        return _Leaf(frozenset(title), frozenset(text), kept)

    def _found(self, folded: str) -> set[int]:
        if not self._pattern_ids:
            return set()
        return {pattern_id for _end, pattern_id in self._automaton.iter(folded)}

    def match(self, story: StoryText) -> list[str]:
        """Names of the rules that ``story`` matches, in config order."""
        in_title = self._found(fold(story.title))
        in_text = self._found(fold(story.text))
        found = _Found(in_title, in_text, story)
        language = (story.language or "").lower()
        candidates = set(self._always)
        for pattern_id in in_title | in_text:
            candidates.update(self._triggered.get(pattern_id, ()))
        matched = []
        for index in sorted(candidates):
            rule = self.rules[index]
            if not _applies(rule, story.source, language):
                continue
            query, exclude = self._trees[index]
            if found.holds(query) and not (exclude is not None and found.holds(exclude)):
                matched.append(rule.name)
        return matched


    def decide(self, story: StoryText, name: str) -> str | None:
        """What rule ``name`` makes of ``story``: "match", "excluded" (its query holds, its exclude vetoes), or
        None (not its sources or languages, or its query does not hold)."""
        index = next(i for i, rule in enumerate(self.rules) if rule.name == name)
        if not _applies(self.rules[index], story.source, (story.language or "").lower()):
            return None
        found = _Found(self._found(fold(story.title)), self._found(fold(story.text)), story)
        query, exclude = self._trees[index]
        if not found.holds(query):
            return None
        return "excluded" if exclude is not None and found.holds(exclude) else "match"


def _applies(rule: CompiledRule, source: str, language: str) -> bool:
    """Whether ``rule`` looks at stories of this source and (lower-case) language at all."""
    return (rule.sources is None or source in rule.sources) and (rule.languages is None or language in rule.languages)


@dataclass(frozen=True, slots=True)
class _Writings:
    """How a story may write an added form of a name (``Term.writings``): as an expression over the story's own
    text, compiled on first use; and word for word without marks (``unfolded``), for the rarer text whose
    accents, strokes or compatibility characters differ from the names list's."""

    writings: tuple[str, ...]
    unfolded: tuple[str, ...]

    @classmethod
    def of(cls, term: Term) -> _Writings:
        writings = term.writings()
        return cls(writings, tuple(unfolded(writing) for writing in writings))

    def in_text(self, text: str) -> bool:
        return _expression(self.writings).search(text) is not None


@functools.lru_cache(maxsize=None)
def _expression(writings: tuple[str, ...]) -> regex.Pattern[str]:
    ways = "|".join(r"\W+".join(regex.escape(word) for word in words(way)) for way in writings)
    return regex.compile(rf"(?<!\w)(?:{ways})(?!\w)")


# What the story's own text may write otherwise than a names list, and still fold alike: decomposed or optional
# marks, letters with strokes (newsmon.words); a text with none of them, already in NFKD, needs no word-for-word
# reading once the expression said no.
_HIDDEN = regex.compile(COMBINING_MARKS.pattern + r"|[łøđðħıŧƀæœŁØĐÐĦŦɃÆŒ]")


@dataclass(frozen=True, slots=True)
class _Leaf:
    """Terms any one of which makes the leaf hold: a term, or a name and its other forms, by pattern id."""

    title: frozenset[int]  # looked for in the title
    text: frozenset[int]  # looked for in the text
    checks: dict[int, tuple[_Writings, ...]]  # added forms: found only as one of these writes them


@dataclass(frozen=True, slots=True)
class _And:
    children: tuple[_Tree, ...]


@dataclass(frozen=True, slots=True)
class _Or:
    children: tuple[_Tree, ...]


@dataclass(frozen=True, slots=True)
class _Not:
    child: _Tree


_Tree = _Leaf | _And | _Or | _Not


@dataclass(slots=True)
class _Found:
    title: set[int]
    text: set[int]
    story: StoryText
    _unfolded: dict[str, str] = field(default_factory=dict)
    _written_as: dict[tuple[int, str], bool] = field(default_factory=dict)  # (id of a _Writings, part) -> answer

    def holds(self, node: _Tree) -> bool:
        if type(node) is _Leaf:
            if not node.checks:  # no added form to read in the story's own writing: any pattern found will do
                return not node.title.isdisjoint(self.title) or not node.text.isdisjoint(self.text)
            return self._in(node, node.title & self.title, "title") or self._in(node, node.text & self.text, "text")
        if type(node) is _Not:
            return not self.holds(node.child)
        if type(node) is _And:
            return all(self.holds(child) for child in node.children)
        return any(self.holds(child) for child in node.children)  # type: ignore[union-attr]

    def _in(self, leaf: _Leaf, hits: frozenset[int], part: str) -> bool:
        for pattern_id in hits:
            ways = leaf.checks.get(pattern_id)
            if ways is None:
                return True
            for way in ways:
                key = (id(way), part)
                if key not in self._written_as:
                    self._written_as[key] = self._written(way, part)
                if self._written_as[key]:
                    return True
        return False

    def _written(self, way: _Writings, part: str) -> bool:
        """Whether the story writes an added form of a name as the names list does (``Term.cased``): its folded
        words were found; their capitals are read in the story's own text."""
        text: str = getattr(self.story, part)
        if way.in_text(text):
            return True
        if part not in self._unfolded:  # marks or strokes in the story's writing (Zełenski): word for word
            plain = unicodedata.is_normalized("NFKD", text) and _HIDDEN.search(text) is None
            self._unfolded[part] = "" if plain else unfolded(text)
        return any(writing in self._unfolded[part] for writing in way.unfolded)


def _triggers(node: Node) -> set[Term] | None:
    """Terms of which at least one must be found for ``node`` to hold; None when no such set is known.

    A term needs itself; AND needs what any one of its children needs (the smallest set is the most
    selective); OR needs what all its children need together; NOT gives no guarantee.
    """
    if isinstance(node, Term):
        return {node}
    if isinstance(node, Not):
        return None
    needs = [_triggers(child) for child in node.children]
    if isinstance(node, And):
        known = [need for need in needs if need is not None]
        return min(known, key=len) if known else None
    if any(need is None for need in needs):
        return None
    return set().union(*needs)  # type: ignore[arg-type]


def positive_terms(node: Node, negated: bool = False) -> list[Term]:
    """The terms whose presence a match rests on (not the negated ones): what a snippet should show."""
    if isinstance(node, Term):
        return [] if negated else [node]
    if isinstance(node, Not):
        return positive_terms(node.child, not negated)
    return [term for child in node.children for term in positive_terms(child, negated)]
