"""Near-duplicate clustering quality on real material (bench/cluster_quality.py's labelled set, 60 AEB articles
and their copies, rewrites and edits, the trafilatura evaluation pages and the corpus's real duplicate groups),
through the real storage path. Skips without ../shared/corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cluster_quality import EDITS, evaluate, labelled_set

pytestmark = pytest.mark.corpus


def test_pairwise_precision_and_recall_of_same_story_are_at_least_0_95(tmp_path: Path, corpus: Path) -> None:
    docs = labelled_set(corpus, pages=60)
    assert len({doc.group for doc in docs}) >= 100  # 60 AEB articles, the trafilatura pages, 12 real groups

    result = evaluate(docs, f"sqlite:///{tmp_path / 'eval.db'}")

    assert result.precision >= 0.95, result.false_merges
    assert result.recall >= 0.95, result.recall_by_kind
    for kind in EDITS:  # every copy, rewrite and edit of an article is found
        found, pairs = result.recall_by_kind[kind]
        assert pairs >= 55 and found / pairs >= 0.95, (kind, found, pairs)
    assert result.alike_pairs >= 1 and result.alike_merged == 0  # stories on one subject stay apart
