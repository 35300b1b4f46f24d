"""Floors for the cleaner extraction on real pages (skips without ../shared/corpus): a later change must not
make the stored text dirtier or the headlines worse. bench/extraction.py prints the same figures beside
trafilatura's; the README has the latest run."""

from __future__ import annotations

import pytest

from bench.extraction import evaluate, load_pages, summary
from tests.conftest import CORPUS

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def figures() -> dict[str, float]:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    pages = load_pages(CORPUS)  # scored once for the three tests (about 10 s)
    results = evaluate(pages, ["trafilatura defaults", "newsmon"])
    return summary(results["newsmon"], results["trafilatura defaults"])


def test_body_text_beats_trafilatura_defaults_on_aeb(figures: dict[str, float]) -> None:
    assert figures["aeb_mean_f1"] >= 0.965, figures  # the bar; trafilatura's defaults: 0.948


def test_boilerplate_snippets_are_gone_and_article_snippets_kept(figures: dict[str, float]) -> None:
    assert figures["eval_without_absent"] >= 0.98, figures  # trafilatura's defaults: 0.870
    assert figures["eval_with_found"] >= 0.98, figures  # trafilatura's defaults: 0.973


def test_headline_and_date(figures: dict[str, float]) -> None:
    assert figures["own_headline_exact"] >= 0.95, figures
    assert figures["published_day_right"] >= 0.95, figures
