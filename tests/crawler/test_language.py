"""crawler.language: the sparse classification gives py3langid's own answers, and the declaration rules."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from crawler.language import classify, detect_language, load_model

TEXTS = [
    "Ukraine and Russia resumed talks in Geneva on Tuesday, the foreign ministry said.",
    "Україна та Росія відновили переговори в Женеві у вівторок, повідомили в МЗС.",
    "Украина и Россия возобновили переговоры в Женеве во вторник, сообщили в МИД.",
    "Die Ukraine und Russland haben am Dienstag in Genf die Gespräche wieder aufgenommen.",
    "L'Ukraine et la Russie ont repris mardi les négociations à Genève, a indiqué le ministère.",
    "乌克兰和俄罗斯周二在日内瓦恢复谈判，外交部表示。",
    "ウクライナとロシアは火曜日にジュネーブで協議を再開した。",
    "",
    "!!!",
    "x" * 50,
]


def same_answer(text: str) -> None:
    model = load_model()
    expected_language, expected_probability = model.classify(text)
    language, probability = classify(model, text)
    assert language == expected_language, text[:80]
    assert probability == pytest.approx(float(expected_probability), abs=1e-4), text[:80]


@pytest.mark.parametrize("text", TEXTS)
def test_classify_gives_py3langids_answer(text: str) -> None:
    same_answer(text)


def test_classify_gives_py3langids_answer_on_every_aeb_article(corpus: Path) -> None:
    truth = json.loads((corpus / "articles" / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    for expected in truth.values():
        same_answer(" ".join(expected["articleBody"][:3000].split()))


def test_feed_titles_of_every_language(corpus: Path) -> None:
    """Short texts in the corpus's feeds (Ukrainian and Russian outlets among them): the same answers."""
    checked = 0
    for path in sorted((corpus / "feeds").rglob("*")):
        if not path.is_file() or path.suffix not in {".xml", ".gz", ".rss", ".atom"}:
            continue
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode("utf-8", errors="replace")
        same_answer(" ".join(text[:3000].split()))
        checked += 1
    assert checked > 0


def test_declared_language_breaks_ties() -> None:
    assert detect_language("Peace talks resume in Geneva as both delegations arrive today", "de") == "en"
    assert detect_language("Too short", "uk") == "uk"  # fewer than 5 words: the declaration stands
