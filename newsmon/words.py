"""What a word is, and how words are folded: the one definition that matching, search indexing, near-duplicate
shingles and word counts share, in every script.

A word is a run of letters and digits with the marks that belong to them: Devanagari vowel signs are part of
their word (the standard library's ``\\w`` would split "मोदी" in two; the ``regex`` package knows Unicode's
categories). Folding drops case and the marks that are optional in writing, so that ``Élysée`` = ``elysee``
and ``Łódź`` = ``lodz``: what a person searching would consider the same word.

Scripts written without spaces between words (Chinese, Japanese, Thai, Lao, Khmer, Burmese) have no such
runs: a whole sentence is one. Their text is read as overlapping pairs of characters instead, the way
full-text engines index them without a dictionary (习近平会见 -> 习近 近平 平会 会见): a name inside a sentence is
then its own pairs in a row, found by matching and by either database's index like any phrase. A lone
character stays as it is.
"""

from __future__ import annotations

import re
import unicodedata

import regex

_WORD = regex.compile(r"\w+")
_UNSPACED_LETTERS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\u30fc\uff70\u3005\u3006\u30f6"
_UNSPACED = regex.compile(f"[{_UNSPACED_LETTERS}]")
# A token: a run of unspaced-script letters (with their marks), or a run of other word characters.
_TOKEN = regex.compile(f"[{_UNSPACED_LETTERS}][{_UNSPACED_LETTERS}\\p{{M}}]*|(?:(?![{_UNSPACED_LETTERS}])\\w)+")
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
    """The words of ``text`` as written (pairs of characters in unspaced scripts)."""
    if _UNSPACED.search(text) is None:
        return _WORD.findall(text)  # most text: no script without spaces in it
    found: list[str] = []
    for token in _TOKEN.findall(text):
        found.extend(pairs(token) if _UNSPACED.match(token) else (token,))
    return found


def pairs(run: str) -> list[str]:
    """A run of unspaced-script letters as overlapping pairs of letters, each with the marks that follow it."""
    letters = regex.findall(r"\X", run)  # a letter with its marks (a Thai vowel sign, a Japanese voicing mark)
    if len(letters) < 2:
        return [run]
    return [letters[index] + letters[index + 1] for index in range(len(letters) - 1)]


def is_unspaced(char: str) -> bool:
    """Whether ``char`` is a letter of a script written without spaces between words."""
    return _UNSPACED.match(char) is not None


def has_unspaced(text: str) -> bool:
    """Whether ``text`` holds letters of a script written without spaces between words."""
    return _UNSPACED.search(text) is not None


def count_words(text: str) -> int:
    if _UNSPACED.search(text) is None:
        return sum(1 for _ in _WORD.finditer(text))
    return len(words(text))


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
    return words(fold_chars(text))


_PLAIN_CAPITALS = str.maketrans({"Ł": "L", "Ø": "O", "Đ": "D", "Ð": "D", "Ħ": "H", "Ŧ": "T", "Ƀ": "B", "Æ": "AE",
                                  "Œ": "OE"})


def unfolded(text: str) -> str:
    """``text`` as its words without optional marks but in their case, joined by single spaces and padded with a
    space at each end: word for word what ``fold`` gives, with the capitals kept (to tell ``US`` from "us")."""
    decomposed = COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", text))
    return " " + " ".join(words(decomposed.translate(_PLAIN_LETTERS).translate(_PLAIN_CAPITALS))) + " "


def fold(text: str) -> str:
    """``text`` as its folded words joined by single spaces, padded with a space at each end."""
    return " " + " ".join(fold_words(text)) + " "


def spelled_key(text: str) -> str:
    """``text`` as it is spelled, its runs of non-word characters made one space and its case folded: to tell
    whether a line repeats the headline or an embedded post word for word (marks and scripts left as they are,
    unlike ``fold``)."""
    return " ".join(re.sub(r"\W+", " ", text).split()).casefold()
