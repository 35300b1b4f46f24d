"""Matching stories against every rule at once: one Aho-Corasick pass over a story finds all their terms.

Rules are compiled once. Each distinct term of every rule (query and exclude) becomes one pattern of a
single automaton over the folded text (`` word word ``, or `` word`` for a prefix), so finding the terms of
every rule costs one pass over the story. The boolean trees are then evaluated on the set of patterns found
in the title and in the text, but only for the rules that can hold: each rule is indexed by terms one of
which it needs (its triggers), so a story pays for the rules its words touch, not for every rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ahocorasick

from alerts.query import And, Field, Node, Not, Or, Term, parse_query, terms
from newsmon.words import fold


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


class RuleSet:
    """All rules, compiled once; ``match`` returns the names of the rules a story matches."""

    def __init__(self, rules: Iterable[RuleSpec]) -> None:
        self.rules: list[CompiledRule] = []
        self._pattern_ids: dict[str, int] = {}
        self._automaton = ahocorasick.Automaton()
        self._triggered: dict[int, list[int]] = {}  # pattern id -> rules that need it or another trigger
        self._always: list[int] = []  # rules without triggers (a NOT at the top): evaluated for every story
        for rule in rules:
            query = parse_query(rule.query)
            exclude = parse_query(rule.exclude) if rule.exclude else None
            compiled = CompiledRule(
                name=rule.name,
                query=query,
                exclude=exclude,
                sources=frozenset(rule.sources) if rule.sources else None,
                languages=frozenset(lang.lower() for lang in rule.languages) if rule.languages else None,
            )
            for term in terms(query) + (terms(exclude) if exclude else []):
                self._add(term.pattern)
            needed = _triggers(query)
            if needed is None:
                self._always.append(len(self.rules))
            for term in needed or ():
                self._triggered.setdefault(self._pattern_ids[term.pattern], []).append(len(self.rules))
            self.rules.append(compiled)
        if self._pattern_ids:
            self._automaton.make_automaton()

    def _add(self, pattern: str) -> None:
        if pattern not in self._pattern_ids:
            self._pattern_ids[pattern] = len(self._pattern_ids)
            self._automaton.add_word(pattern, self._pattern_ids[pattern])

    def _found(self, folded: str) -> set[int]:
        if not self._pattern_ids:
            return set()
        return {pattern_id for _end, pattern_id in self._automaton.iter(folded)}

    def match(self, story: StoryText) -> list[str]:
        """Names of the rules that ``story`` matches, in config order."""
        in_title = self._found(fold(story.title))
        in_text = self._found(fold(story.text))
        found = _Found(self._pattern_ids, in_title, in_text)
        language = (story.language or "").lower()
        candidates = set(self._always)
        for pattern_id in in_title | in_text:
            candidates.update(self._triggered.get(pattern_id, ()))
        matched = []
        for index in sorted(candidates):
            rule = self.rules[index]
            if rule.sources is not None and story.source not in rule.sources:
                continue
            if rule.languages is not None and language not in rule.languages:
                continue
            if found.holds(rule.query) and not (rule.exclude is not None and found.holds(rule.exclude)):
                matched.append(rule.name)
        return matched


@dataclass(frozen=True, slots=True)
class _Found:
    ids: dict[str, int]
    title: set[int]
    text: set[int]

    def holds(self, node: Node) -> bool:
        if isinstance(node, Term):
            pattern_id = self.ids[node.pattern]
            if node.field is Field.TITLE:
                return pattern_id in self.title
            if node.field is Field.TEXT:
                return pattern_id in self.text
            return pattern_id in self.title or pattern_id in self.text
        if isinstance(node, Not):
            return not self.holds(node.child)
        if isinstance(node, And):
            return all(self.holds(child) for child in node.children)
        assert isinstance(node, Or)
        return any(self.holds(child) for child in node.children)


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
