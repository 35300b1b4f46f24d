"""The rule language: parse a query into a tree, with errors that point at the column.

    "peace plan" OR ceasefire          a phrase, a term; OR, AND, NOT and parentheses
    Zelensk* AND (Putin OR Rubio)      a trailing * is a prefix
    title:ceasefire NOT text:rumour    field scope: title, text (default: both)
    security guarantees                adjacent terms mean AND

Matching is case- and accent-insensitive and on whole words: text and query are folded the same way
(``fold``) into words, so ``Kyiv`` does not match ``Kyivstar`` and ``cease-fire`` is the phrase
"cease fire". Operators are upper case; ``and``/``or``/``not`` in lower case are words.

A query is bounded (MAX_QUERY_LENGTH characters, MAX_TERMS terms, MAX_NESTING levels of parentheses and NOT),
so that every tree walk here, in the matcher and in the search index's own parser stays far from a stack limit
(SQLite's FTS5 parser overflows beyond about 32 levels, PostgreSQL's tsquery at 20,000 terms).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from enum import StrEnum
from typing import Any

from newsmon.words import fold_words, unfolded

_OPERATORS = {"AND", "OR", "NOT"}
LITERAL = "="  # =Putin, ="Xi Jinping": the words as written, without the name's other forms
MAX_QUERY_LENGTH = 4000  # characters
MAX_TERMS = 200  # words, phrases and prefixes
MAX_NESTING = 10  # parentheses and NOT, counted together: NOT (a OR NOT b) is three deep


class QueryError(ValueError):
    """A query that cannot be parsed; ``column`` is 1-based."""

    def __init__(self, message: str, column: int) -> None:
        self.column = column
        super().__init__(f"{message} at column {column}")


class Field(StrEnum):
    ANY = "any"
    TITLE = "title"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Term:
    """A word, a phrase (several words in a row) or a prefix (``Zelensk*``), folded.

    ``written`` is the term as the query wrote it; ``name`` says it is a name (written with a capital letter, not
    a prefix, not marked literal with ``=``), which ``alerts.names`` widens to the name's other forms. Each form
    added so is a Term of its own whose ``cased`` holds it as the names list writes it: it is found only where
    the text writes it so, capitalised or in capitals (``US`` is not the word "us", ``Путина`` not "путина"),
    accents and marks aside; the query's own words are found in any case.
    """

    words: tuple[str, ...]
    prefix: bool = False
    field: Field = Field.ANY
    # What the query wrote, and whether that is a name: how it was written, not what it matches (two terms that
    # find the same words are the same term).
    written: str = dataclass_field(default="", compare=False)
    name: bool = dataclass_field(default=False, compare=False)
    cased: str | None = None

    @property
    def pattern(self) -> str:
        """The folded form to find in ``fold(text)``: whole words, or a word start for a prefix."""
        return " " + " ".join(self.words) + ("" if self.prefix else " ")

    def accepts(self, found: str) -> bool:
        """Whether words found in a text (``found``: as the text writes them) are this term: in any writing for
        the query's own words; for an added form, only in one of its ``writings``, accents and marks aside."""
        if self.cased is None:
            return True
        return unfolded(found) in {unfolded(writing) for writing in self.writings()}

    def writings(self) -> tuple[str, ...]:
        """How a text may write an added form: as the names list does, capitalised, or in capitals; an
        abbreviation as written, and from four letters on also as a word (``NATO``: Nato); one of three letters or
        fewer only in capitals (``UN`` is not the French "Un", nor ``US`` "Us")."""
        if self.cased is None:
            return ()
        if self.cased.isupper():  # an abbreviation; from four letters on, also as a word (Nato)
            short = sum(char.isalpha() for char in self.cased) <= 3
            return (self.cased,) if short else (self.cased, self.cased[:1] + self.cased[1:].lower())
        return (self.cased, self.cased[:1].upper() + self.cased[1:], self.cased.upper())


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


Node = Term | And | Or | Not


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # word, phrase, lparen, rparen, and, or, not
    text: str
    column: int


def _tokens(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    index = 0
    while index < len(query):
        char = query[index]
        if char.isspace():
            index += 1
        elif char in "()":
            tokens.append(_Token("lparen" if char == "(" else "rparen", char, index + 1))
            index += 1
        elif char == '"':
            end = query.find('"', index + 1)
            if end < 0:
                raise QueryError("unclosed quote", index + 1)
            tokens.append(_Token("phrase", query[index + 1 : end], index + 1))
            index = end + 1
        else:
            start = index
            while index < len(query) and not query[index].isspace() and query[index] not in '()"':
                index += 1
            word = query[start:index]
            kind = word.lower() if word in _OPERATORS else "word"
            tokens.append(_Token(kind, word, start + 1))
    return tokens


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = _tokens(query)
        self.position = 0
        self.scope = Field.ANY  # the field of the title:( ... ) group being parsed, if any
        self.depth = 0  # the parentheses and NOTs around the token being parsed
        self.terms = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def end_column(self) -> int:
        return len(self.query) + 1

    def nest(self, token: _Token) -> None:
        """Enter a ( or a NOT, refusing a query nested deeper than MAX_NESTING (before recursing any further)."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise QueryError(f"nested more than {MAX_NESTING} deep (parentheses and NOT)", token.column)

    def parse(self) -> Node:
        if not self.tokens:
            raise QueryError("empty query", 1)
        node = self.or_expr()
        token = self.peek()
        if token is not None:
            raise QueryError("unmatched )" if token.kind == "rparen" else f"unexpected {token.text!r}", token.column)
        return node

    def or_expr(self) -> Node:
        children = [self.and_expr()]
        while (token := self.peek()) is not None and token.kind == "or":
            self.take()
            children.append(self.and_expr(after=token))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self, after: _Token | None = None) -> Node:
        children = [self.not_expr(after)]
        while (token := self.peek()) is not None and token.kind not in ("or", "rparen"):
            if token.kind == "and":
                self.take()
                children.append(self.not_expr(after=token))
            else:
                children.append(self.not_expr())  # adjacent terms mean AND
        return children[0] if len(children) == 1 else And(tuple(children))

    def not_expr(self, after: _Token | None = None) -> Node:
        token = self.peek()
        if token is not None and token.kind == "not":
            self.take()
            self.nest(token)
            child = self.not_expr(after=token)
            self.depth -= 1
            return child.child if isinstance(child, Not) else Not(child)  # NOT NOT a is a
        return self.atom(after)

    def atom(self, after: _Token | None, field: Field = Field.ANY) -> Node:
        token = self.peek()
        if token is None or token.kind in ("rparen", "and", "or"):
            column = token.column if token is not None else self.end_column()
            if after is not None:
                raise QueryError(f"{after.text} has nothing after it", after.column)
            what = "nothing" if token is None else repr(token.text)
            raise QueryError(f"expected a term, a phrase or ( but found {what}", column)
        self.take()
        if token.kind == "lparen":
            self.nest(token)
            outer, self.scope = self.scope, field if field is not Field.ANY else self.scope
            node = self.or_expr()
            self.scope = outer
            self.depth -= 1
            closing = self.peek()
            if closing is None or closing.kind != "rparen":
                raise QueryError("unclosed (", token.column)
            self.take()
            return _scoped(node, field) if field is not Field.ANY else node
        if token.kind == "phrase":
            return self.term(token.text, token.column, field, allow_prefix=False)
        text = token.text
        scope, colon, rest = text.partition(":")
        if colon and scope.lower() in (Field.TITLE, Field.TEXT):
            if field is not Field.ANY or self.scope is not Field.ANY:
                raise QueryError("a field inside a field", token.column)
            scoped = Field(scope.lower())
            inner, inner_colon, _ = rest.partition(":")
            if inner_colon and inner.lower() in (Field.TITLE, Field.TEXT):  # title:text:word
                raise QueryError("a field inside a field", token.column + len(scope) + 1)
            if rest:
                return self.term(rest, token.column + len(scope) + 1, scoped, allow_prefix=True)
            following = self.peek()
            if following is not None and following.kind == "phrase":
                self.take()
                return self.term(following.text, following.column, scoped, allow_prefix=False)
            return self.atom(token, scoped)
        return self.term(text, token.column, field, allow_prefix=True)

    def term(self, text: str, column: int, field: Field, allow_prefix: bool, literal: bool = False) -> Term:
        if text.startswith(LITERAL) and not literal:  # =Putin: the word itself, not the name's other forms
            if len(text) == 1:
                following = self.peek()
                if following is not None and following.kind == "phrase" and following.column == column + 1:
                    self.take()
                    return self.term(following.text, following.column, field, allow_prefix=False, literal=True)
            if len(text) == 1:
                raise QueryError(f"{LITERAL} must be followed by a word or a quoted phrase", column)
            return self.term(text[1:], column + 1, field, allow_prefix, literal=True)
        prefix = allow_prefix and text.endswith("*")
        written = (text[:-1] if prefix else text).strip()
        words = tuple(fold_words(written))
        if not words:
            what = "an empty phrase" if not text.strip() else f"{text!r} has no letters or digits"
            raise QueryError(what, column)
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise QueryError(f"more than {MAX_TERMS} terms (words, phrases and prefixes)", column)
        name = not prefix and not literal and not written.islower()
        return Term(words, prefix, field, written=written, name=name)


def _scoped(node: Node, field: Field) -> Node:
    """``title:(a OR b)``: the field applies to every term inside."""
    if isinstance(node, Term):
        return replace(node, field=field) if node.field is Field.ANY else node
    if isinstance(node, Not):
        return Not(_scoped(node.child, field))
    children = tuple(_scoped(child, field) for child in node.children)
    return And(children) if isinstance(node, And) else Or(children)


def _holds_without_terms(node: Node) -> bool:
    """Whether ``node`` holds for a story in which none of its terms occurs (``NOT a``, ``a OR NOT b``,
    ``NOT (NOT a AND b)``): such a query matches almost every story, and no index can look it up."""
    if isinstance(node, Term):
        return False
    if isinstance(node, Not):
        return not _holds_without_terms(node.child)
    if isinstance(node, And):
        return all(_holds_without_terms(child) for child in node.children)
    return any(_holds_without_terms(child) for child in node.children)


def parse_query(query: str) -> Node:
    """Parse a rule query.

    Raises:
        QueryError: with the column of the problem (``unclosed quote at column 14``), or of the first
            character, term or nesting beyond a limit (MAX_QUERY_LENGTH, MAX_TERMS, MAX_NESTING).
    """
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryError(f"the query is longer than {MAX_QUERY_LENGTH:,} characters", MAX_QUERY_LENGTH + 1)
    node = _Parser(query).parse()
    if _holds_without_terms(node):
        raise QueryError("the query only says what must not be there; add a term to look for", 1)
    return node


def terms(node: Node) -> list[Term]:
    """Every term of the tree, negated ones included, in query order."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not):
        return terms(node.child)
    return [term for child in node.children for term in terms(child)]


def rule_problems(data: Mapping[str, Any]) -> list[str]:
    """The rules of a (raw) config whose query or exclude does not parse, each by its path
    (``rules[1].query: unclosed quote at column 14``); a check that ``newsmon.config_load`` runs when the shell
    passes it."""
    rules = data.get("rules") if isinstance(data.get("rules"), list) else []
    problems = []
    for index, rule in enumerate(rules):
        for key in ("query", "exclude") if isinstance(rule, dict) else ():
            query = rule.get(key)
            if isinstance(query, str) and query:
                try:
                    parse_query(query)
                except QueryError as exc:
                    problems.append(f"rules[{index}].{key}: {exc}")
    return problems
