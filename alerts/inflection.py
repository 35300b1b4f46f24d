"""The forms a name takes in the languages newsmon reads, made from the name itself when no list has them:

- Ukrainian and Russian: every case of the name, by pymorphy3 and its dictionaries (Путин -> Путина, Путину,
  Путиным; Київ -> Києва, Києві). A surname that declines like an adjective keeps its masculine forms
  (Зеленський -> Зеленського, not Зеленська, another person), and nothing that is an adjective of the name is
  made (путинский is no form of Путин).
- A name in Latin letters: the Slavic cases a consonant ending takes (Witkoff -> Witkoffa, Witkoffem,
  Witkoffowi) and the German genitive (Putins), and the spellings of a -sky ending (Zelensky, Zelenskyy,
  Zelenskiy, Selenskyj's -skyj).
- A Latin name written in Cyrillic, as Ukrainian and Russian transliterate it (Umerov -> Умєров, Умеров):
  a guess for names no list holds; the lists and config.yaml's ``names:`` take precedence.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN_NAME = re.compile(r"^[A-Za-z][a-z]{2,}$")
_CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct")
_PERSON = {"Name", "Surn", "Patr"}
# Slavic case endings of a masculine name ending in a consonant (Polish, Czech, Slovak, Croatian, Slovene).
_SLAVIC_ENDINGS = ("a", "u", "owi", "ovi", "em", "om", "ie", "e")
_SKY = re.compile(r"(sk|zk|ck)(y|yy|iy|yi|ij|yj|i|ii)$")
_SKY_ENDINGS = ("y", "yy", "iy", "yi", "ij", "yj", "i")


@functools.cache
def _analyzers() -> tuple[object, ...]:
    """pymorphy3's Ukrainian and Russian analyzers (their dictionaries load in about 0.1 s, once per process)."""
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="uk"), pymorphy3.MorphAnalyzer(lang="ru")


def cyrillic_forms(name: str) -> set[str]:
    """The name in every case, in Ukrainian and Russian, written as ``name`` is (capitals kept)."""
    words = name.split()
    found: set[str] = {name}
    for analyzer in _analyzers():
        if len(words) == 1:
            found |= {_like(form, name) for form in _word_forms(analyzer, words[0])}
            continue
        if not all(analyzer.word_is_known(word) for word in words):  # type: ignore[attr-defined]
            continue  # the other language's dictionary: its guesses at a phrase are noise
        for case in _CASES:  # a phrase: every word in the same case (Білий дім -> Білого дому)
            inflected = [_inflect(analyzer, word, case) for word in words]
            found.add(" ".join(_like(form, word) for form, word in zip(inflected, words, strict=True)))
    return found


def _word_forms(analyzer: object, word: str) -> set[str]:
    parses = analyzer.parse(word)  # type: ignore[attr-defined]
    if not parses:
        return {word}
    parse = next((p for p in parses if _PERSON & set(p.tag.grammemes) or "Geox" in p.tag or "Orgn" in p.tag),
                 parses[0])
    if parse.tag.POS not in ("NOUN", "ADJF") or "Fixd" in parse.tag.grammemes or word.isupper():
        return {word}  # НАТО, США do not decline (and a guess at an abbreviation's cases is noise)
    # A word the dictionary knows declines as it says (Київ -> Києва); one it only guesses at keeps the whole
    # name and adds an ending (Умеров -> Умерова, never the unrelated Умер).
    known = analyzer.word_is_known(word)  # type: ignore[attr-defined]
    lowered = _stem(word.lower())
    masculine = parse.tag.gender == "masc" or "masc" in parse.tag.grammemes
    forms = set()
    for form in parse.lexeme:
        tag = form.tag
        if masculine and ("femn" in tag.grammemes or "neut" in tag.grammemes):
            continue  # Путина is Putin's genitive; Путиной, Зеленська are other people
        if parse.tag.POS == "ADJF" and "plur" in tag.grammemes:
            continue
        if tag.POS != parse.tag.POS:
            continue  # comparatives, short forms: not the name
        if not known and not form.word.startswith(lowered):
            continue
        forms.add(form.word)
    return forms or {word}


def _stem(word: str) -> str:
    """What every case of an unknown name starts with: the word without the ending its cases replace (Сибіга ->
    Сибіг-и, Зеленский -> Зеленск-ого); a name ending in a consonant keeps it all (Умеров -> Умеров-а)."""
    for ending in _REPLACED_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


_REPLACED_ENDINGS = ("ий", "ій", "ый", "ой", "а", "я", "о", "ь", "й")


def _inflect(analyzer: object, word: str, case: str) -> str:
    parses = analyzer.parse(word)  # type: ignore[attr-defined]
    if not parses or parses[0].tag.POS not in ("NOUN", "ADJF"):
        return word
    inflected = parses[0].inflect({case})
    return inflected.word if inflected is not None else word


def _like(form: str, model: str) -> str:
    """``form`` (pymorphy3 gives lower case) written with ``model``'s capitals."""
    if model.isupper() and len(model) > 1:
        return form.upper()
    if model[:1].isupper():
        return form[:1].upper() + form[1:]
    return form


def latin_forms(name: str) -> set[str]:
    """A single Latin-letter name's Slavic cases, German genitive and -sky spellings (itself included)."""
    if not _LATIN_NAME.match(name):
        return {name}
    found = {name}
    sky = _SKY.search(name)
    if sky:
        stem = name[: sky.start(2)]
        found |= {stem + ending for ending in _SKY_ENDINGS}
        return found  # a -sky name declines as an adjective: Zelenskiego is rare in print, -sky forms are not
    if name[-1].lower() not in "aeiouy":
        found |= {name + ending for ending in _SLAVIC_ENDINGS}
    if name[-1].lower() not in "sxz":
        found.add(name + "s")
    return found


# Ukrainian and Russian transliteration read backwards, longest letter groups first.
_TO_UKRAINIAN = [("shch", "щ"), ("kh", "х"), ("zh", "ж"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"), ("yu", "ю"),
                 ("ya", "я"), ("ye", "є"), ("yi", "ї"), ("iy", "ій"), ("yy", "ий"), ("a", "а"), ("b", "б"),
                 ("v", "в"), ("w", "в"), ("h", "г"), ("g", "г"), ("d", "д"), ("e", "е"), ("z", "з"), ("y", "и"),
                 ("i", "і"), ("j", "й"), ("k", "к"), ("c", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"),
                 ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("f", "ф"), ("x", "кс"), ("q", "к")]
_TO_RUSSIAN = [("shch", "щ"), ("kh", "х"), ("zh", "ж"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"), ("yu", "ю"),
               ("ya", "я"), ("ye", "е"), ("iy", "ий"), ("yy", "ый"), ("a", "а"), ("b", "б"), ("v", "в"),
               ("w", "у"), ("h", "х"), ("g", "г"), ("d", "д"), ("e", "е"), ("z", "з"), ("y", "ы"), ("i", "и"),
               ("j", "дж"), ("k", "к"), ("c", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"),
               ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("f", "ф"), ("x", "кс"), ("q", "к")]


def cyrillic_spellings(name: str) -> set[str]:
    """How Ukrainian and Russian would write a Latin-letter name (a guess, with its cases)."""
    if not all(_LATIN_NAME.match(word) for word in name.split()):
        return set()
    found: set[str] = set()
    for table in (_TO_UKRAINIAN, _TO_RUSSIAN):
        written = " ".join(_transliterate(word, table) for word in name.split())
        found |= cyrillic_forms(written)
    return found


def _transliterate(word: str, table: list[tuple[str, str]]) -> str:
    lower, out, index = word.lower(), [], 0
    while index < len(lower):
        for latin, cyrillic in table:
            if lower.startswith(latin, index):
                out.append(cyrillic)
                index += len(latin)
                break
        else:
            out.append(lower[index])
            index += 1
    text = "".join(out)
    return text[:1].upper() + text[1:]


def generated_forms(names: Iterable[str]) -> set[str]:
    """The forms made from ``names`` by the rules above: their cases, spellings and Cyrillic writings."""
    found: set[str] = set()
    for name in names:
        if _CYRILLIC.search(name):
            found |= cyrillic_forms(name)
        elif " " not in name:
            found |= latin_forms(name)
        else:
            found.add(name)
    return found
