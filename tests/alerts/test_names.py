"""Names in every language: a name in a rule or a search finds the same person, place or organisation in other
scripts, spellings, languages and inflections; the literal marker, lowercase terms, capitals and a user's own
names; through the matcher, a real crawl with alerts to a real webhook, and search on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.matching import RuleSet, RuleSpec, StoryText
from alerts.names import Lexicon, lexicon_for, matched_names, widen
from alerts.query import QueryError, parse_query, terms
from alerts.render import highlights, snippet
from tests.conftest import run_newsmon, write_config
from tests.servers import Outlet, Webhook, article_page, filler, rss


def _matches(query: str, text: str, names: Lexicon | None = None) -> bool:
    rules = RuleSet([RuleSpec("r", query)], names or Lexicon.shipped())
    return bool(rules.match(StoryText("", text, "s", None)))


# What the README's "Names in every language" promises, kind by kind.
FOUND = [
    # the same name in other scripts and spellings
    ("Putin", "Путин заявил"), ("Putin", "Путін заявив"), ("Putin", "Poutine a dit"), ("Putin", "プーチン大統領"),
    ("Putin", "普京表示"), ("Putin", "푸틴 대통령"), ("Putin", "پوتن نے کہا"),
    ("Zelensky", "Зеленський"), ("Zelensky", "Зеленский"), ("Zelensky", "Selenskyj"), ("Zelensky", "Zelenskyy"),
    ("Witkoff", "Віткофф прибув"), ("Witkoff", "Уиткофф прибыл"),
    # its inflected forms
    ("Putin", "зустріч з Путіним"), ("Putin", "у Путина"), ("Putin", "Putins Sprecher"),
    ("Putin", "rozmowa z Putinem"), ("Putin", "Putinowi"), ("Zelensky", "Офіс Зеленського"),
    ("Zelensky", "встреча с Зеленским"), ("Witkoff", "spotkanie z Witkoffem"),
    # names in other languages, for countries, cities and organisations, and their cases
    ("Moscow", "Moskau meldet"), ("Moscow", "à Moscou"), ("Moscow", "a Mosca"), ("Moscow", "Москва"),
    ("Moscow", "в Москве"), ("Moscow", "w Moskwie"), ("Moscow", "モスクワで"),
    ("Kyiv", "Kiew"), ("Kyiv", "у Києві"), ("Kyiv", "в Киеве"), ("Kyiv", "w Kijowie"), ("Kyiv", "Kijów"),
    ("NATO", "l'OTAN"), ("NATO", "НАТО"), ("NATO", "Nato allies"),
    ("Germany", "Deutschland"), ("Germany", "Allemagne"), ("Germany", "Niemcy"), ("Germany", "Німеччини"),
    ("Germany", "Deutschlands Regierung"), ("Russia", "Russlands Armee"), ("Russia", "Rosji"),
    ("Russia", "России"), ("\"European Union\"", "the EU"), ("\"European Union\"", "ЄС"),
    ("\"European Union\"", "Евросоюза"), ("\"European Union\"", "Unii Europejskiej"),
    ("\"Xi Jinping\"", "习近平会见"), ("\"Xi Jinping\"", "Си Цзиньпин"),
    ("\"United States\"", "the US said"), ("\"United States\"", "США"), ("\"United States\"", "美国"),
    # a name in another script finds the English and the others
    ("Путин", "Putin said"), ("普京", "Putin said"), ("Москва", "Moskau"),
]


@pytest.mark.parametrize(("query", "text"), FOUND)
def test_a_name_finds_its_other_forms(query: str, text: str) -> None:
    assert _matches(query, text)


NOT_FOUND = [
    ("Ukraine", "the Ukrainian delegation"), ("Ukraine", "українська делегація"), ("Russia", "russisch"),
    ("Russia", "российский"), ("Putin", "путина началась"),  # the Russian word for a fishing season
    ("\"United States\"", "tell us"), ("\"United Nations\"", "Un homme"), ("\"United States\"", "Us too"),
    ("US", "give it to us"), ("Putin", "Rasputin"), ("Moscow", "Moskvitch"),
]


@pytest.mark.parametrize(("query", "text"), NOT_FOUND)
def test_adjectives_demonyms_and_other_words_are_not_the_name(query: str, text: str) -> None:
    assert not _matches(query, text)


def test_a_lowercase_term_and_the_literal_marker_find_the_words_as_written() -> None:
    assert not _matches("putin", "Путина")
    assert _matches("putin", "PUTIN")  # in any case, as every term
    assert not _matches("=Putin", "Путина")
    assert _matches("=Putin", "putin")
    assert not _matches('="Xi Jinping"', "习近平")
    assert _matches('="Xi Jinping"', "Xi Jinping")
    assert not _matches("Zelensk*", "Зеленський")  # a prefix is the writer's own spelling


def test_the_literal_marker_parses_as_a_term_that_is_not_a_name() -> None:
    (plain,) = terms(parse_query("Putin"))
    (literal,) = terms(parse_query("title:=Putin"))
    (phrase,) = terms(parse_query('="Xi Jinping"'))
    assert plain.name and not literal.name and not phrase.name
    assert (literal.words, literal.field.value) == (("putin",), "title")
    assert phrase.words == ("xi", "jinping")
    with pytest.raises(QueryError, match="= must be followed by a word or a quoted phrase at column 10"):
        parse_query("Putin OR =")


def test_a_name_no_list_knows_gets_its_cases_and_a_config_adds_forms() -> None:
    assert not Lexicon.shipped().knows("Hegseth")
    assert _matches("Hegseth", "spotkanie z Hegsethem")  # the Slavic cases of a Latin surname
    assert not _matches("Hegseth", "Гегсет прибув")  # no list has it, and no guess reaches it
    names = lexicon_for({"Hegseth": ["Гегсет", "Хегсет", "ヘグセス"]})
    assert _matches("Hegseth", "Гегсет прибув", names)
    assert _matches("Hegseth", "зустріч з Гегсетом", names)  # a Cyrillic form's cases are made too
    assert _matches("Хегсет", "Pete Hegseth said", names)  # any of the forms finds the others
    assert _matches("Hegseth", "ヘグセス氏", names)


def test_an_added_name_joins_a_known_one() -> None:
    names = lexicon_for({"Putin": ["Putler"]})
    assert _matches("Putin", "Putler", names)
    assert _matches("Putin", "Путина", names)  # the shipped forms stay


def test_matched_names_shows_the_form_the_story_wrote() -> None:
    sought = terms(widen(parse_query("Putin OR Moscow"), Lexicon.shipped()))
    shown = matched_names(sought, "Зустріч у Москві", "Путіна запросили. Putin said nothing.")
    assert shown == ["Putin, as Путіна", "Moscow, as Москві"]  # the query's own "Putin" is not shown


def test_every_rule_in_the_shipped_config_parses_and_finds_ukrainian_and_russian_coverage() -> None:
    import yaml

    from tests.conftest import REPO

    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    rules = RuleSet([RuleSpec(rule["name"], rule["query"], rule.get("exclude")) for rule in config["rules"]])
    ukrainian = StoryText("Зеленський і Віткофф обговорили мирний план у Києві", "", "s", "uk")
    russian = StoryText("Уиткофф встретился с Путиным в Москве", "", "s", "ru")
    assert rules.match(ukrainian) and rules.match(russian)


# Through a real crawl: alerts at a real webhook, then search, on SQLite and PostgreSQL.

STORIES = {
    "uk": ("Віткофф зустрівся з Путіним у Москві", "Спецпосланець Віткофф провів переговори з Путіним."),
    "ru": ("Уиткофф встретился с Путиным в Москве", "Спецпосланник Уиткофф провел переговоры с Путиным."),
    "de": ("Witkoff trifft Putin in Moskau", "Der Sondergesandte sprach in Moskau mit Putins Berater."),
    "fr": ("Witkoff rencontre Poutine à Moscou", "L'émissaire a rencontré Poutine au Kremlin."),
    "ja": ("ウィトコフ氏、モスクワでプーチン大統領と会談", "ウィトコフ特使はプーチン大統領と会談した。"),
    "zh": ("威特科夫在莫斯科会见普京", "特使威特科夫与普京举行会谈。"),
    "uk-hegseth": ("Гегсет прибув до Брюсселя", "Міністр Гегсет зустрівся з союзниками в Брюсселі."),
    "en": ("Fishing: the season opens", "Nothing about the talks: путина, the Caspian fishing season, opened."),
}


def test_an_english_rule_alerts_and_search_finds_the_story_in_every_language(
    tmp_path: Path, database_url: str, outlet: Outlet, webhook: Webhook
) -> None:
    published = datetime.now(UTC) - timedelta(hours=2)
    items = []
    for language, (title, text) in STORIES.items():
        url = outlet.add(f"/world/2026/12/07/{language}-story", article_page(
            title, [text, filler(language)], lang=language, published=published.isoformat()))
        items.append({"title": title, "link": url})
    outlet.add("/feed.xml", rss(items), content_type="application/rss+xml")
    rules = [{"name": "putin", "query": "Putin", "notify": ["chat"]},
             {"name": "moscow", "query": "title:Moscow", "notify": ["chat"]},
             {"name": "literal", "query": "=Putin", "notify": ["chat"]},
             {"name": "hegseth", "query": "Hegseth", "notify": ["chat"]}]
    config = write_config(tmp_path / "config.yaml", database_url, [{"name": "w", "feed": outlet.url("/feed.xml")}],
                          channels={"chat": webhook.url}, rules=rules, names={"Hegseth": ["Гегсет"]})

    crawled = run_newsmon("--config", str(config), "crawl", "--format", "json")

    assert crawled.returncode == 0, crawled.stderr
    titles = {language: title for language, (title, _text) in STORIES.items()}
    by_title = {str(message["message"]).split("\n", 1)[0]: message["title"] for message in webhook.received}
    alerted = {language for language, title in titles.items() if any(title in key for key in by_title)}
    assert alerted == {"uk", "ru", "de", "fr", "ja", "zh", "uk-hegseth"}  # the last by config.yaml's names:
    assert all(len([m for m in webhook.received if titles[lang] in str(m["message"])]) == 1 for lang in alerted)
    russian = next(str(m["message"]) for m in webhook.received if titles["ru"] in str(m["message"]))
    assert "Matched: putin, moscow (Putin, as Путиным; Moscow, as Москве)" in russian  # the form that fired
    literal = [m for m in webhook.received if "literal" in str(m["title"])]
    assert [titles["de"] in str(m["message"]) for m in literal] == [True]  # only the German story writes "Putin"

    every = {"uk", "ru", "de", "fr", "ja", "zh"}
    for query, languages in (("Putin", every), ("=Putin", {"de"}), ("title:Moscow", every), ("putin", {"de"}),
                             ("путина", {"en"}), ("Hegseth", {"uk-hegseth"})):
        result = run_newsmon("--config", str(config), "search", query, "--format", "json", "--copies")
        assert result.returncode == 0, result.stderr
        assert {hit["title"] for hit in json.loads(result.stdout)} == {titles[lang] for lang in languages}, query
    shown = json.loads(run_newsmon("--config", str(config), "search", "title:Putin", "--format", "json",
                                   "--copies").stdout)
    assert {hit["title"]: hit["matched_as"] for hit in shown}[titles["ru"]] == ["Putin, as Путиным"]


def test_snippets_and_highlights_show_the_form_that_fired_never_a_lowercase_word() -> None:
    sought = terms(widen(parse_query('"United States"'), Lexicon.shipped()))
    text = "Readers wrote to us about the weather. " + filler("us", 80) + " Later the US said it would join."
    piece = snippet(text, sought)
    assert "the US said" in piece and "to us" not in piece
    assert [text[start:end] for start, end in highlights(text, sought)] == ["US"]
