"""What a word is, and how words are folded: the one definition that matching, search indexing, near-duplicate
shingles and word counts share, in every script.

A word is a run of letters and digits with the marks that belong to them: Devanagari vowel signs are part of
their word (the standard library's ``\\w`` would split "मोदी" in two; the ``regex`` package knows Unicode's
categories). Folding drops case and the marks that are optional in writing, so that ``Élysée`` = ``elysee``
and ``Łódź`` = ``lodz``: what a person searching would consider the same word.
"""

from __future__ import annotations

import re
import unicodedata

import regex

_WORD = regex.compile(r"\w+")
# Marks that are optional in writing and dropped before matching, as accents are: Latin, Greek and Cyrillic
# diacritics left by NFKD (é -> e, й -> и), Hebrew points, Arabic harakat.
COMBINING_MARKS = re.compile(
    r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    r"\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7\u064b-\u065f\u0670]"
)
# Letters NFKD does not take apart, as a reader would spell them without the stroke (Łódź = Lodz).
_PLAIN_LETTERS = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "ŧ": "t", "ƀ": "b",
                                "æ": "ae", "œ": "oe"})


def words(text: str) -> list[str]:
    """The words of ``text`` as written."""
    return _WORD.findall(text)


def count_words(text: str) -> int:
    return sum(1 for _ in _WORD.finditer(text))


def fold_chars(text: str) -> str:
    """``text`` without case or optional marks; still in its original words and punctuation."""
    decomposed = unicodedata.normalize("NFKD", text)
    return COMBINING_MARKS.sub("", decomposed).casefold().translate(_PLAIN_LETTERS)


def is_word(text: str) -> bool:
    """Whether every character of (folded) ``text`` belongs to a word."""
    return _WORD.fullmatch(text) is not None


def fold_words(text: str) -> list[str]:
    """The words of ``text`` without case or optional marks: what stories and queries are matched and indexed
    as, and what near-duplicate shingles are made of."""
    return _WORD.findall(fold_chars(text))


def fold(text: str) -> str:
    """``text`` as its folded words joined by single spaces, padded with a space at each end."""
    return " " + " ".join(fold_words(text)) + " "
