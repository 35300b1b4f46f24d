"""The rule language: what a query parses into, and parse errors that point at the right 1-based column."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.query import (
    MAX_NESTING,
    MAX_QUERY_LENGTH,
    MAX_TERMS,
    And,
    Field,
    Not,
    Or,
    QueryError,
    Term,
    parse_query,
    terms,
)
from newsmon.words import fold, fold_words
from tests.conftest import run_newsmon, write_config


def _term(*words: str, prefix: bool = False, field: Field = Field.ANY) -> Term:
    return Term(tuple(words), prefix, field)


def _error(query: str) -> QueryError:
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    return caught.value


# Folding


def test_fold_words_drops_case_and_accents_and_splits_on_punctuation() -> None:
    assert fold_words("Élysée CEASE-fire, Gespräche!") == ["elysee", "cease", "fire", "gesprache"]


def test_fold_pads_with_single_spaces() -> None:
    assert fold("  Kyiv's\n\n(Odesa)  ") == " kyiv s odesa "
    assert fold("") == "  "


def test_fold_folds_cyrillic_case_and_combining_marks() -> None:
    # й and ї decompose under NFKD into и and і plus a combining mark, which is dropped.
    assert fold_words("КИЇВ Київ") == ["киів", "киів"]
    assert fold_words("Зеленський") == ["зеленськии"]


def test_fold_of_russian_kiev_differs_from_ukrainian_kyiv() -> None:
    assert fold_words("Киев") != fold_words("Київ")


# Terms, phrases, prefixes


def test_a_word_is_a_folded_term() -> None:
    assert parse_query("Zelenskyy") == _term("zelenskyy")


def test_a_quoted_phrase_is_one_term_of_several_words() -> None:
    assert parse_query('"Peace Plan"') == _term("peace", "plan")


def test_punctuation_inside_a_word_makes_a_phrase() -> None:
    assert parse_query("cease-fire") == _term("cease", "fire")
    assert parse_query("20-point") == _term("20", "point")


def test_a_trailing_star_is_a_prefix() -> None:
    assert parse_query("Zelensk*") == _term("zelensk", prefix=True)


def test_a_star_inside_a_phrase_is_not_a_prefix() -> None:
    assert parse_query('"peace pla*"') == _term("peace", "pla")


def test_term_pattern_is_padded_for_whole_words_and_open_for_a_prefix() -> None:
    assert _term("peace", "plan").pattern == " peace plan "
    assert _term("zelensk", prefix=True).pattern == " zelensk"


# Operators


def test_and_or_not() -> None:
    assert parse_query("a AND b") == And((_term("a"), _term("b")))
    assert parse_query("a OR b") == Or((_term("a"), _term("b")))
    assert parse_query("a NOT b") == And((_term("a"), Not(_term("b"))))
    assert parse_query("a AND NOT b") == And((_term("a"), Not(_term("b"))))


def test_adjacent_terms_mean_and() -> None:
    assert parse_query('security guarantees "peace plan"') == parse_query('security AND guarantees AND "peace plan"')


def test_and_binds_tighter_than_or() -> None:
    assert parse_query("a b OR c") == Or((And((_term("a"), _term("b"))), _term("c")))
    assert parse_query("a OR b c") == Or((_term("a"), And((_term("b"), _term("c")))))


def test_parentheses_group() -> None:
    assert parse_query("a (b OR c)") == And((_term("a"), Or((_term("b"), _term("c")))))
    assert parse_query("NOT (b OR c) a") == And((Not(Or((_term("b"), _term("c")))), _term("a")))


def test_lower_case_operators_are_plain_words() -> None:
    assert parse_query("rock and roll") == And((_term("rock"), _term("and"), _term("roll")))
    assert parse_query("war or peace") == And((_term("war"), _term("or"), _term("peace")))
    assert parse_query("not guilty") == And((_term("not"), _term("guilty")))


def test_terms_lists_every_term_in_query_order_negated_ones_included() -> None:
    node = parse_query('Putin OR (Rubio NOT "peace plan") Zelensk*')
    assert terms(node) == [_term("putin"), _term("rubio"), _term("peace", "plan"), _term("zelensk", prefix=True)]


# Field scopes


def test_title_and_text_scopes() -> None:
    assert parse_query("title:ceasefire") == _term("ceasefire", field=Field.TITLE)
    assert parse_query("text:ceasefire") == _term("ceasefire", field=Field.TEXT)
    assert parse_query("title:Zelensk*") == _term("zelensk", prefix=True, field=Field.TITLE)


def test_a_scope_takes_a_phrase() -> None:
    assert parse_query('title:"a phrase"') == _term("a", "phrase", field=Field.TITLE)
    assert parse_query('text:"peace plan" OR x') == Or((_term("peace", "plan", field=Field.TEXT), _term("x")))


def test_a_scope_on_parentheses_scopes_every_term_inside() -> None:
    assert parse_query('title:(a OR "b c" OR d* NOT e)') == Or((
        _term("a", field=Field.TITLE),
        _term("b", "c", field=Field.TITLE),
        And((_term("d", prefix=True, field=Field.TITLE), Not(_term("e", field=Field.TITLE)))),
    ))


def test_a_scope_covers_only_its_own_atom() -> None:
    assert parse_query("title:a b") == And((_term("a", field=Field.TITLE), _term("b")))


def test_a_field_inside_a_field_is_an_error() -> None:
    error = _error("title: text:ceasefire")
    assert str(error) == "a field inside a field at column 8"
    assert error.column == 8


def test_a_field_inside_a_scoped_group_is_an_error() -> None:
    # `title:(...)` says every term inside is in the title; a `text:` inside contradicts it.
    error = _error("title:(ceasefire OR text:truce)")
    assert error.column == 21
    assert "a field inside a field" in str(error)


def test_a_field_glued_to_a_field_is_an_error() -> None:
    error = _error("title:text:truce")
    assert str(error) == "a field inside a field at column 7"



def test_an_unknown_prefix_before_a_colon_is_part_of_the_word() -> None:
    assert parse_query("body:x") == _term("body", "x")


# Errors and their columns


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [
        ('ceasefire "peace pla', "unclosed quote", 11),
        ('"', "unclosed quote", 1),
        ("(a OR b", "unclosed (", 1),
        ("a (b (c) d", "unclosed (", 3),
        ("a)", "unmatched )", 2),
        ("(a) b) c", "unmatched )", 6),
        ("ceasefire AND", "AND has nothing after it", 11),
        ("ceasefire OR", "OR has nothing after it", 11),
        ("(a AND) b", "AND has nothing after it", 4),
        ("ceasefire NOT", "NOT has nothing after it", 11),
        ("NOT", "NOT has nothing after it", 1),
        ("title:", "title: has nothing after it", 1),
        ("AND ceasefire", "expected a term, a phrase or ( but found 'AND'", 1),
        ("()", "expected a term, a phrase or ( but found ')'", 2),
        ("", "empty query", 1),
        ("   ", "empty query", 1),
        ('a ""', "an empty phrase", 3),
        ('"  "', "an empty phrase", 1),
        ("a !!!", "'!!!' has no letters or digits", 3),
        ("a *", "'*' has no letters or digits", 3),
        ("x title:--", "'--' has no letters or digits", 9),
        ("NOT ceasefire", "the query only says what must not be there; add a term to look for", 1),
        ("NOT a NOT b", "the query only says what must not be there; add a term to look for", 1),
    ],
)
def test_parse_errors_name_the_problem_and_its_column(query: str, message: str, column: int) -> None:
    error = _error(query)
    assert error.column == column
    assert str(error) == f"{message} at column {column}"


def test_query_error_is_a_value_error() -> None:
    assert isinstance(_error("("), ValueError)


def test_columns_count_characters_not_bytes() -> None:
    assert _error('Зеленський "мир').column == 12


def test_or_with_a_purely_negative_branch_is_refused() -> None:
    # Either side of an OR can make the rule match, so a NOT-only side would match almost every story.
    assert "only says what must not be there" in str(_error("ceasefire OR NOT rumour"))


@pytest.mark.parametrize("query", ["NOT NOT a", "NOT (NOT a)", "NOT NOT NOT NOT a", "(NOT (NOT (a)))"])
def test_not_not_a_is_a(query: str) -> None:
    assert parse_query(query) == _term("a")


def test_a_negated_group_keeps_its_meaning() -> None:
    assert parse_query("NOT NOT NOT a b") == And((Not(_term("a")), _term("b")))
    assert parse_query("NOT (NOT a OR NOT b)") == Not(Or((Not(_term("a")), Not(_term("b")))))  # a AND b


@pytest.mark.parametrize("query", ["NOT (NOT a AND b)", "NOT (a AND b)", "NOT (NOT a AND NOT NOT b)",
                                   "a OR NOT NOT NOT b"])
def test_a_query_that_holds_for_a_story_without_any_of_its_terms_is_refused(query: str) -> None:
    # NOT (NOT a AND b) is a OR NOT b: it matches almost every story.
    assert str(_error(query)) == "the query only says what must not be there; add a term to look for at column 1"


# Limits: a query is bounded in length, terms and nesting, so that no parser, matcher or index runs out of stack

TOO_LONG = f"the query is longer than {MAX_QUERY_LENGTH:,} characters"
TOO_MANY = f"more than {MAX_TERMS} terms (words, phrases and prefixes)"
TOO_DEEP = f"nested more than {MAX_NESTING} deep (parentheses and NOT)"
WIDEST = " ".join(f"w{n}" for n in range(MAX_TERMS))


def test_a_query_at_every_limit_parses() -> None:
    assert parse_query(WIDEST.replace(" ", " OR ")) == Or(tuple(_term(f"w{n}") for n in range(MAX_TERMS)))
    assert parse_query("(" * MAX_NESTING + "a" + ")" * MAX_NESTING) == _term("a")
    assert parse_query("b " + "NOT " * (MAX_NESTING - 1) + "(a)") == And((_term("b"), Not(_term("a"))))
    assert parse_query("a" * MAX_QUERY_LENGTH) == _term("a" * MAX_QUERY_LENGTH)


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [
        ("a" * (MAX_QUERY_LENGTH + 1), TOO_LONG, MAX_QUERY_LENGTH + 1),
        (WIDEST + " one", TOO_MANY, len(WIDEST) + 2),
        ('a title:"b c" ' * (MAX_TERMS // 2) + "z", TOO_MANY, len('a title:"b c" ') * (MAX_TERMS // 2) + 1),
        ("(" * (MAX_NESTING + 1) + "a" + ")" * (MAX_NESTING + 1), TOO_DEEP, MAX_NESTING + 1),
        ("a " + "NOT " * (MAX_NESTING + 1) + "b", TOO_DEEP, 3 + 4 * MAX_NESTING),
        ("a (NOT (" * 4 + "b" + "))" * 4, TOO_DEEP, 28),  # three levels a round: the 11th is the fourth NOT
        ("(" * 10_000 + "a" + ")" * 10_000, TOO_LONG, MAX_QUERY_LENGTH + 1),
        ("NOT " * 10_000 + "a", TOO_LONG, MAX_QUERY_LENGTH + 1),
    ],
)
def test_a_query_beyond_a_limit_is_one_line_naming_the_limit(query: str, message: str, column: int) -> None:
    error = _error(query)
    assert str(error) == f"{message} at column {column}"


def test_a_deep_query_within_the_length_limit_is_refused_without_exhausting_the_stack() -> None:
    half = MAX_QUERY_LENGTH // 2 - 1
    assert "nested more than" in str(_error("(" * half + "a" + ")" * half))
    assert "nested more than" in str(_error("NOT " * (MAX_QUERY_LENGTH // 4 - 1) + "a"))


# Through the config


def test_check_reports_a_bad_rule_query_by_its_path_and_column(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "config.yaml",
        f"sqlite:///{tmp_path / 'newsmon.db'}",
        [],
        rules=[{"name": "fine", "query": "ceasefire"}, {"name": "broken", "query": 'ceasefire "peace pla'}],
    )
    result = run_newsmon("--config", str(path), "check")
    assert result.returncode == 2
    assert result.stdout == ""
    problems = [line.strip() for line in result.stderr.splitlines()[1:]]
    assert problems == ["rules[1].query: unclosed quote at column 11"]
    assert result.stderr.splitlines()[0] == f"error: {path}: 1 problem in the config:"
    assert "Traceback" not in result.stderr


def test_check_reports_a_rule_beyond_a_limit_by_its_path(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "config.yaml",
        f"sqlite:///{tmp_path / 'newsmon.db'}",
        [],
        rules=[{"name": "deep", "query": "(" * (MAX_NESTING + 1) + "a" + ")" * (MAX_NESTING + 1)},
               {"name": "long", "query": "a", "exclude": " OR ".join(f"w{n}" for n in range(MAX_TERMS + 1))}],
    )
    result = run_newsmon("--config", str(path), "check")
    assert result.returncode == 2
    problems = [line.strip() for line in result.stderr.splitlines()[1:]]
    column = len(" OR ".join(f"w{n}" for n in range(MAX_TERMS))) + 5
    assert problems == [f"rules[0].query: {TOO_DEEP} at column {MAX_NESTING + 1}",
                        f"rules[1].exclude: {TOO_MANY} at column {column}"]


def test_check_reports_a_bad_exclude_query_too(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "config.yaml",
        f"sqlite:///{tmp_path / 'newsmon.db'}",
        [],
        rules=[{"name": "r", "query": "ceasefire", "exclude": "rumour AND"}],
    )
    result = run_newsmon("--config", str(path), "check")
    assert result.returncode == 2
    assert "rules[0].exclude: AND has nothing after it at column 8" in result.stderr.splitlines()[1]
