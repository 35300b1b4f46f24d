"""Matching stories against rules: case, accents, scripts, whole words, phrases, scopes, filters, and agreement
with an independent regular-expression evaluator on random stories and queries."""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass

import pytest

from alerts.matching import RuleSet, RuleSpec, StoryText


def _matches(query: str, title: str = "", text: str = "", **rule: object) -> bool:
    """Whether a single rule matches a story of source "wire" in English."""
    rules = RuleSet([RuleSpec("r", query, **rule)])  # type: ignore[arg-type]
    return rules.match(StoryText(title, text, "wire", "en")) == ["r"]


# Case and accents


def test_case_insensitive() -> None:
    assert _matches("Selenskyj", text="SELENSKYJ TRIFFT MERZ")
    assert _matches("SELENSKYJ", text="Selenskyj trifft Merz")


@pytest.mark.parametrize(("query", "text"), [("Élysée", "at the Elysee palace"), ("Elysee", "à l'Élysée, mardi"),
                                             ("elysee", "L'ÉLYSÉE")])
def test_accent_insensitive_both_ways(query: str, text: str) -> None:
    assert _matches(query, text=text)


def test_german_umlauts() -> None:
    assert _matches("Gespräche", text="NEUE GESPRÄCHE IN GENF")
    assert _matches("GESPRÄCHE", text="neue Gespräche in Genf")
    assert _matches("Gesprache", text="neue Gespräche in Genf")


def test_umlaut_transliteration_is_a_different_word() -> None:
    # Folding drops the mark; it does not know the German ae/oe/ue spelling.
    assert not _matches("Gespräche", text="neue Gespraeche in Genf")


def test_decomposed_accents_in_the_text_match_too() -> None:
    assert _matches("Élysée", text="l'E\u0301lyse\u0301e a confirmé")


# Names in several scripts


ZELENSKYY = "Zelenskyy OR Зеленський OR Selenskyj OR Zelensky"


@pytest.mark.parametrize(
    "text",
    [
        "President Volodymyr Zelenskyy said on Sunday that talks would continue.",
        "Президент Володимир Зеленський заявив, що переговори тривають.",
        "Präsident Selenskyj sagte am Sonntag, die Gespräche gingen weiter.",
        "Mr Zelensky arrived in Geneva.",
    ],
)
def test_one_rule_names_a_person_in_several_scripts(text: str) -> None:
    assert _matches(ZELENSKYY, text=text)


def test_a_story_naming_someone_else_does_not_match_the_multi_script_rule() -> None:
    assert not _matches(ZELENSKYY, text="Президент Дональд Трамп заявив, що переговори тривають.")


@pytest.mark.parametrize("form", ["Зеленського", "Зеленському", "Зеленським", "ЗЕЛЕНСЬКИЙ"])
def test_a_cyrillic_prefix_matches_inflected_ukrainian_forms(form: str) -> None:
    assert _matches("Зеленськ*", text=f"Заява {form} щодо переговорів")


def test_a_literal_cyrillic_name_does_not_match_its_inflected_forms() -> None:
    assert not _matches("=Зеленський", text="Офіс Зеленського повідомив")
    assert _matches("Зеленський", text="Офіс Зеленського повідомив")  # a name: its cases too


def test_a_latin_prefix_or_literal_does_not_match_cyrillic_text() -> None:
    assert not _matches("Zelensk* OR =Zelenskyy", text="Президент Володимир Зеленський заявив")
    assert not _matches("=Kyiv", text="Київ")
    assert not _matches("kyiv", text="Київ")  # a lowercase term is the word as written
    assert _matches("Kyiv", text="Київ")


def test_ukrainian_letters_with_marks_fold_alike_in_rule_and_text() -> None:
    # ї and й lose their marks under NFKD; both sides fold the same way.
    assert _matches("Київ", text="ВИБУХИ У КИЇВ ВНОЧІ")
    assert _matches("КИЇВ", text="Сьогодні Київ")
    assert _matches("Зеленський", text="ЗЕЛЕНСЬКИЙ")


def test_russian_kiev_is_a_different_word_from_ukrainian_kyiv_unless_named() -> None:
    # "Киев" has е where "Київ" has ї (folded to і): a different word, which a literal term has to name itself.
    assert not _matches("=Київ", text="Сегодня в Киев прибыла делегация")
    assert _matches("=Київ OR =Киев", text="Сегодня в Киев прибыла делегация")
    assert _matches("Київ", text="Сегодня в Киев прибыла делегация")  # the name: the city in every language


def test_devanagari_vowel_signs_belong_to_the_word() -> None:
    # मोदी (Modi) and मेदा (meda) share only their consonants; the vowel signs are part of each word.
    assert _matches("मोदी", text="प्रधानमंत्री मोदी ने कहा")
    assert not _matches("मोदी", text="मेदा")


@pytest.mark.parametrize(("query", "text"), [("Lodz", "talks in Łódź"), ("Łódź", "talks in LODZ"),
                                             ("Soren", "Søren Kierkegaard"), ("Maerkte", "Mærkte")])
def test_letters_with_a_stroke_match_their_plain_spelling(query: str, text: str) -> None:
    assert _matches(query, text=text)


def test_arabic_harakat_are_optional_like_accents() -> None:
    # محمد is usually written without vowel marks; a fully vocalised مُحَمَّد is the same word.
    assert _matches("محمد", text="قال مُحَمَّد اليوم")
    assert _matches("مُحَمَّد", text="قال محمد اليوم")
    assert not _matches("محمد", text="قال محمود اليوم")


# Whole words


@pytest.mark.parametrize("text", ["Kyivstar outage", "a Kyivan official", "Kyiv_city", "Kyiv2026"])
def test_a_word_does_not_match_inside_a_longer_word(text: str) -> None:
    assert not _matches("Kyiv", text=text)


@pytest.mark.parametrize("text", ["Kyiv's mayor", "Kyiv\u2019s mayor", "in (Kyiv)", "in Kyiv.", "Kyiv", "«Kyiv»",
                                  "Kyiv-based"])
def test_a_word_matches_next_to_punctuation(text: str) -> None:
    assert _matches("Kyiv", text=text)


@pytest.mark.parametrize("text", ["Zelensky", "Zelenskyy", "Zelenskiy", "ZELENSKYY's", "Zelensk"])
def test_a_prefix_matches_words_starting_with_it(text: str) -> None:
    assert _matches("Zelensk*", text=f"said {text} on Sunday")


@pytest.mark.parametrize("text", ["Mzelensky", "Zelenk", "Zel ensky", "zelen-sky"])
def test_a_prefix_does_not_match_elsewhere_in_a_word(text: str) -> None:
    assert not _matches("Zelensk*", text=f"said {text} on Sunday")


# Phrases


@pytest.mark.parametrize("text", ["new peace talks", "peace-talks", "Peace  Talks\n", "PEACE,\ntalks", "peace talks."])
def test_a_phrase_matches_its_words_in_a_row_whatever_lies_between(text: str) -> None:
    assert _matches('"peace talks"', text=text)


@pytest.mark.parametrize(
    "text", ["peace and talks", "talks peace", "talks about peace", "peacetalks", "peace talkshow"]
)
def test_a_phrase_does_not_match_other_words_or_another_order(text: str) -> None:
    assert not _matches('"peace talks"', text=text)


def test_a_hyphenated_query_word_is_a_phrase() -> None:
    assert _matches("cease-fire", text="a cease fire was agreed")
    assert _matches("ceasefire", text="a ceasefire was agreed")
    assert not _matches("ceasefire", text="a cease-fire was agreed")


def test_a_phrase_does_not_run_from_the_title_into_the_text() -> None:
    assert not _matches('"peace talks"', title="Hopes for peace", text="talks resume in Geneva")


# Operators and scopes


def test_and_needs_both_anywhere_in_the_story() -> None:
    assert _matches("Rubio Geneva", title="Rubio lands", text="in Geneva for talks")
    assert not _matches("Rubio Geneva", title="Rubio lands", text="in Berlin for talks")


def test_or_needs_either() -> None:
    assert _matches("Putin OR Rubio", text="Rubio spoke")
    assert not _matches("Putin OR Rubio", text="Witkoff spoke")


def test_not_vetoes() -> None:
    assert _matches("ceasefire NOT rumour", text="ceasefire agreed")
    assert not _matches("ceasefire NOT rumour", text="ceasefire rumour denied")
    assert not _matches("ceasefire NOT rumour", title="Rumour", text="ceasefire agreed")


def test_lower_case_operators_are_words_to_find() -> None:
    assert _matches("war and peace", text="Tolstoy's War and Peace")
    assert not _matches("war and peace", text="war, peace")


def test_title_scope_ignores_the_text() -> None:
    assert _matches("title:ceasefire", title="Ceasefire holds", text="nothing here")
    assert not _matches("title:ceasefire", title="Talks continue", text="the ceasefire holds")


def test_text_scope_ignores_the_title() -> None:
    assert _matches('text:"peace plan"', title="Talks", text="the peace plan")
    assert not _matches('text:"peace plan"', title="The peace plan", text="talks continue")


def test_a_scoped_group_scopes_every_term_inside() -> None:
    assert _matches("title:(Putin OR Rubio)", title="Rubio in Geneva", text="")
    assert not _matches("title:(Putin OR Rubio)", title="Talks in Geneva", text="Putin and Rubio")


def test_exclude_removes_a_match() -> None:
    assert _matches("ceasefire", text="ceasefire agreed", exclude="rumour OR denied")
    assert not _matches("ceasefire", text="ceasefire agreed, Moscow denied", exclude="rumour OR denied")
    assert not _matches("ceasefire", title="Denied", text="ceasefire", exclude="denied")


# Filters


def test_sources_filter() -> None:
    rules = RuleSet([RuleSpec("r", "ceasefire", sources=["wire", "kyiv-independent"])])
    assert rules.match(StoryText("", "ceasefire", "wire", "en")) == ["r"]
    assert rules.match(StoryText("", "ceasefire", "kyiv-independent", "en")) == ["r"]
    assert rules.match(StoryText("", "ceasefire", "tabloid", "en")) == []


def test_languages_filter_ignores_case() -> None:
    rules = RuleSet([RuleSpec("r", "Київ OR Kyiv", languages=["UK", "en"])])
    assert rules.match(StoryText("", "Київ", "wire", "uk")) == ["r"]
    assert rules.match(StoryText("", "Kyiv", "wire", "EN")) == ["r"]
    assert rules.match(StoryText("", "Kyiv", "wire", "de")) == []


def test_a_story_of_unknown_language_is_left_out_by_a_languages_filter_only() -> None:
    story = StoryText("", "Kyiv", "wire", None)
    assert RuleSet([RuleSpec("filtered", "Kyiv", languages=["en"])]).match(story) == []
    assert RuleSet([RuleSpec("open", "Kyiv")]).match(story) == ["open"]


def test_an_empty_filter_list_means_no_filter() -> None:
    rules = RuleSet([RuleSpec("r", "Kyiv", sources=[], languages=[])])
    assert rules.match(StoryText("", "Kyiv", "anything", None)) == ["r"]


# Many rules


def test_many_rules_sharing_terms_each_match_on_their_own() -> None:
    rules = RuleSet([
        RuleSpec("zelensky", "Zelensk*"),
        RuleSpec("zelensky-geneva", "Zelensk* Geneva"),
        RuleSpec("zelensky-title", "title:Zelensk*"),
        RuleSpec("geneva-only", "Geneva NOT Zelensk*"),
        RuleSpec("peace", '"peace plan" OR Geneva'),
    ])
    assert rules.match(StoryText("Talks in Geneva", "Zelenskyy attended", "wire", "en")) == [
        "zelensky", "zelensky-geneva", "peace"]
    assert rules.match(StoryText("Zelensky speaks", "", "wire", "en")) == ["zelensky", "zelensky-title"]
    assert rules.match(StoryText("Geneva", "the peace plan", "wire", "en")) == ["geneva-only", "peace"]
    assert rules.match(StoryText("Odesa", "port reopened", "wire", "en")) == []


def test_matches_come_in_config_order_not_text_order() -> None:
    names = ["c", "a", "b"]
    rules = RuleSet([RuleSpec("c", "gamma"), RuleSpec("a", "alpha"), RuleSpec("b", "beta")])
    assert rules.match(StoryText("alpha beta gamma", "", "wire", "en")) == names
    assert rules.match(StoryText("gamma", "beta alpha", "wire", "en")) == names


def test_no_rules_match_nothing() -> None:
    rules = RuleSet([])
    assert rules.match(StoryText("Ceasefire", "Zelenskyy in Kyiv", "wire", "en")) == []


def test_an_invalid_rule_query_is_refused_when_the_rules_are_built() -> None:
    with pytest.raises(ValueError, match="unclosed quote at column 1"):
        RuleSet([RuleSpec("r", '"peace')])


# Agreement with an independent evaluator


STORY_WORDS = [
    "Kyiv", "KYIV", "Kyivstar", "Київ", "КИЇВ", "Киев", "Zelensky", "Zelenskyy", "ZELENSKIY", "Mzelensky",
    "Зеленський", "Зеленського", "Élysée", "elysee", "ELYSÉE", "peace", "Peace", "talks", "TALKS", "Gespräche",
    "gesprache", "ceasefire", "cease", "fire", "plan", "and", "or", "not", "Geneva",
]
SEPARATORS = [" ", " ", " ", ", ", "-", ". ", "\n", "'s ", " (", ") ", "  ", "\u2028"]
# (spelling in the query, is it a prefix)
QUERY_TERMS = [
    ("kyiv", False), ("Київ", False), ("КИЇВ", False), ("zelensky", False), ("Élysée", False), ("ELYSEE", False),
    ("peace", False), ("talks", False), ("GESPRÄCHE", False), ("ceasefire", False), ("fire", False),
    ("and", False), ("Geneva", False), ("Zelensk*", True), ("Kyiv*", True), ("Зеленськ*", True), ("peac*", True),
    ("ELYS*", True), ('"peace talks"', False), ('"talks peace"', False), ('"cease fire"', False),
    ("cease-fire", False), ('"peace talks and"', False),
]


@dataclass(frozen=True)
class _Term:
    spelling: str
    prefix: bool
    field: str | None = None  # None, "title" or "text"


@dataclass(frozen=True)
class _Op:
    kind: str  # "and", "or", "not", "scope"
    children: tuple[_Node, ...]
    field: str | None = None  # for "scope"


_Node = _Term | _Op


def _reference_fold(text: str) -> str:
    """Casefolded, with every combining character removed after NFKD (not the code under test's fold)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


def _reference_regex(term: _Term) -> re.Pattern[str]:
    words = re.findall(r"\w+", _reference_fold(term.spelling.rstrip("*")))
    return re.compile(r"(?<!\w)" + r"\W+".join(map(re.escape, words)) + ("" if term.prefix else r"(?!\w)"))


def _reference_holds(node: _Node, title: str, text: str, field: str | None = None) -> bool:
    if isinstance(node, _Term):
        where = node.field or field
        regex = _reference_regex(node)
        in_title = regex.search(_reference_fold(title)) is not None
        in_text = regex.search(_reference_fold(text)) is not None
        return in_title if where == "title" else in_text if where == "text" else in_title or in_text
    if node.kind == "scope":
        return _reference_holds(node.children[0], title, text, node.field)
    if node.kind == "not":
        return not _reference_holds(node.children[0], title, text, field)
    results = [_reference_holds(child, title, text, field) for child in node.children]
    return all(results) if node.kind == "and" else any(results)


def _has_positive(node: _Node, negated: bool = False) -> bool:
    """Whether some term must be present for a match (an OR needs it on every side)."""
    if isinstance(node, _Term):
        return not negated
    if node.kind == "scope":
        return _has_positive(node.children[0], negated)
    if node.kind == "not":
        return _has_positive(node.children[0], not negated)
    found = [_has_positive(child, negated) for child in node.children]
    return any(found) if node.kind == "and" else all(found)


def _random_tree(rng: random.Random, depth: int, scoped: bool = False) -> _Node:
    if depth == 0 or rng.random() < 0.35:
        spelling, prefix = rng.choice(QUERY_TERMS)
        field = None if scoped or rng.random() < 0.7 else rng.choice(["title", "text"])
        return _Term(spelling, prefix, field)
    kind = rng.choice(["and", "and", "or", "or", "not"] + ([] if scoped else ["scope"]))
    if kind == "not":
        return _Op("not", (_random_tree(rng, depth - 1, scoped),))
    if kind == "scope":
        return _Op("scope", (_random_tree(rng, depth - 1, scoped=True),), rng.choice(["title", "text"]))
    return _Op(kind, tuple(_random_tree(rng, depth - 1, scoped) for _ in range(rng.randint(2, 3))))


def _random_query(rng: random.Random) -> _Node:
    tree = _random_tree(rng, depth=3)
    if not _has_positive(tree):
        spelling, prefix = rng.choice(QUERY_TERMS)
        tree = _Op("and", (_Term(spelling, prefix), tree))
    return tree


def _render(node: _Node) -> str:
    if isinstance(node, _Term):
        return f"{node.field}:{node.spelling}" if node.field else node.spelling
    if node.kind == "scope":
        return f"{node.field}:({_render(node.children[0])})"
    parts = [_render(child) if isinstance(child, _Term) else f"({_render(child)})" for child in node.children]
    if node.kind == "not":
        return f"NOT {parts[0]}"
    if node.kind == "or":
        return " OR ".join(parts)
    # Alternate plain adjacency and an explicit AND: both mean AND.
    return parts[0] + "".join((" AND " if i % 2 else " ") + part for i, part in enumerate(parts[1:]))


def _random_words(rng: random.Random, low: int, high: int) -> str:
    count = rng.randint(low, high)
    return "".join(rng.choice(STORY_WORDS) + rng.choice(SEPARATORS) for _ in range(count))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matching_agrees_with_a_regular_expression_evaluator(seed: int) -> None:
    rng = random.Random(seed)
    rules: list[tuple[RuleSpec, _Node, _Node | None]] = []
    for index in range(25):
        query = _random_query(rng)
        exclude = _random_query(rng) if rng.random() < 0.3 else None
        sources = rng.sample(["wire", "daily", "weekly"], rng.randint(1, 2)) if rng.random() < 0.2 else None
        languages = rng.sample(["en", "UK", "de"], rng.randint(1, 2)) if rng.random() < 0.2 else None
        spec = RuleSpec(f"rule{index}", _render(query), _render(exclude) if exclude else None, sources, languages)
        rules.append((spec, query, exclude))
    rule_set = RuleSet((spec for spec, _query, _exclude in rules), names=None)  # the words as written
    matched_somewhere = 0
    for _ in range(150):
        story = StoryText(
            _random_words(rng, 1, 6), _random_words(rng, 0, 30), rng.choice(["wire", "daily", "weekly"]),
            rng.choice(["en", "uk", "de", "EN", None]),
        )
        expected = [
            spec.name
            for spec, query, exclude in rules
            if (spec.sources is None or story.source in spec.sources)
            and (spec.languages is None or (story.language or "").lower() in {x.lower() for x in spec.languages})
            and _reference_holds(query, story.title, story.text)
            and not (exclude is not None and _reference_holds(exclude, story.title, story.text))
        ]
        assert rule_set.match(story) == expected, (story, [spec.query for spec, _q, _e in rules])
        matched_somewhere += bool(expected)
    assert matched_somewhere > 30  # the generator makes stories that do match, not only misses


# Rules are evaluated only when their words are found; rules that need no word are always evaluated


def test_a_rule_whose_needed_words_are_not_known_is_still_evaluated() -> None:
    # NOT (NOT talks OR NOT Geneva) = talks AND Geneva, but the index of needed words takes no NOT apart.
    # (NOT (talks AND NOT Geneva), which holds for a story with neither word, is refused by the parser.)
    assert _matches("NOT (NOT talks OR NOT Geneva)", text="talks resumed in Geneva")
    assert not _matches("NOT (NOT talks OR NOT Geneva)", text="talks resumed")


def test_many_rules_keep_config_order_when_only_some_are_triggered() -> None:
    specs = [RuleSpec(f"r{i}", f"word{i} OR shared") if i % 2 else RuleSpec(f"r{i}", f"word{i}") for i in range(40)]
    specs.append(RuleSpec("always", "NOT (NOT shared OR NOT word7)"))
    rules = RuleSet(specs)
    story = StoryText("", "word4 word7 shared", "wire", "en")
    expected = ["r4"] + [f"r{i}" for i in range(40) if i % 2] + ["always"]
    assert rules.match(story) == sorted(expected, key=lambda name: [s.name for s in specs].index(name))


@pytest.mark.parametrize(
    ("query", "title", "expected"),
    [("NOT NOT peace", "peace", True), ("NOT NOT peace", "war", False),
     ("NOT (NOT peace OR NOT plan)", "peace plan", True), ("NOT (NOT peace OR NOT plan)", "peace", False),
     ("plan NOT NOT NOT war", "peace plan", True), ("plan NOT NOT NOT war", "war plan", False)],
)
def test_a_double_negation_means_what_it_says(query: str, title: str, expected: bool) -> None:
    assert _matches(query, title=title) is expected
