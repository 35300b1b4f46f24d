"""Near-duplicate clustering quality: pairwise precision and recall of "same story" on a labelled set built from
real material, run through the real storage path (store_article into a SQLite file).

The labelled set (../shared/corpus):
- every AEB article (181, human-annotated bodies) is a story of its own, and so are the articles of the
  trafilatura evaluation set (38 politics pages in six languages);
- each AEB article comes back as its page extracted by trafilatura and as the same body inside another page
  template, extracted again ("template"); with a changed headline, a paragraph added (from another article),
  a paragraph cut, typos (one word in 40), and a rewritten lead (half of its words replaced);
- the 12 real groups of ../shared/corpus/duplicates (feed items: title and summary), each a story.
Different stories on one subject are in it too: AEB has several articles on one event or person; they must
stay apart.

    python -m bench.cluster_quality [--pages N] [--format json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from itertools import combinations
from pathlib import Path

from crawler.extract import Article, content_hash, extract_article
from crawler.links import Link
from crawler.urls import canonical_url
from db.clusters import ClusterPolicy
from db.models import Story
from db.neardup import fingerprint
from db.session import open_database, session_factory
from db.sources import sync_sources
from db.storage import store_article
from newsmon.config import SourceConfig
from newsmon.errors import ExtractionError

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
EDITS = ("template", "headline", "paragraph added", "paragraph cut", "typos", "rewritten lead")
_WORD = re.compile(r"\w+")
_FILLER = "officials said on Monday that the government would publish a report on the matter soon".split()


@dataclass(frozen=True, slots=True)
class Doc:
    group: str  # the true story
    kind: str  # "original", one of EDITS, or a duplicates group's kind
    title: str
    text: str
    url: str | None = None  # where it was found (feed items); None: a URL of its own


def labelled_set(corpus: Path = CORPUS, pages: int | None = None, seed: int = 7) -> list[Doc]:
    """The documents, their true stories and how each was made; ``pages`` limits the AEB articles used."""
    rng = random.Random(seed)
    truth = json.loads((corpus / "articles" / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    keys = sorted(key for key, value in truth.items() if len(value["articleBody"].split()) >= 80)[:pages]
    paragraphs = {key: _paragraphs(truth[key]["articleBody"]) for key in keys}
    docs = []
    for key in keys:
        html = gzip.decompress((corpus / "articles" / "aeb" / "html" / f"{key}.html.gz").read_bytes()).decode(
            "utf-8", "replace"
        )
        original = _extract(html, truth[key]["url"])
        if original is None:
            continue
        own = paragraphs[key]
        docs.append(Doc(key, "original", original.title, original.text))
        other = paragraphs[rng.choice([k for k in keys if k != key])]
        variants = {
            "template": _extract(_template(original.title, own), f"https://copy.example/{key}"),
            "headline": Doc(key, "headline", "Another headline: " + original.title, original.text),
            "paragraph added": _joined(own, insert=(rng.randrange(1, len(own) + 1), rng.choice(other))),
            "paragraph cut": _joined(own, cut=rng.randrange(1, len(own))) if len(own) > 2 else None,
            "typos": "\n".join(_typos(paragraph, rng) for paragraph in own),
            "rewritten lead": "\n".join([_rewritten(own[0], rng), *own[1:]]),
        }
        for kind, variant in variants.items():
            if variant is None:
                continue
            if isinstance(variant, Doc):
                docs.append(variant)
            elif isinstance(variant, Article):
                docs.append(Doc(key, kind, variant.title, variant.text))
            else:
                docs.append(Doc(key, kind, original.title, variant))
    for index, row in enumerate(_trafilatura_eval(corpus)):
        docs.append(Doc(f"trafilatura-eval-{index}", "original", row[0], row[1]))
    groups = json.loads((corpus / "duplicates" / "feed-duplicate-groups.json").read_text(encoding="utf-8"))
    for index, group in enumerate(groups):
        for item in group["items"]:
            text = f"{item['title']}\n{item['summary']}".strip()
            docs.append(Doc(f"duplicates-{index}", group["kind"], item["title"], text, canonical_url(item["link"])))
    rng.shuffle(docs)  # stories arrive interleaved, as from many sources
    return docs


def _paragraphs(body: str) -> list[str]:
    return [line.strip() for line in body.splitlines() if line.strip()]


def _joined(paragraphs: list[str], insert: tuple[int, str] | None = None, cut: int | None = None) -> str:
    result = list(paragraphs)
    if insert is not None:
        result.insert(*insert)
    if cut is not None:
        del result[cut]
    return "\n".join(result)


def _typos(paragraph: str, rng: random.Random, rate: float = 1 / 40) -> str:
    words = paragraph.split(" ")
    for index, word in enumerate(words):
        if len(word) > 3 and rng.random() < rate:
            at = rng.randrange(len(word) - 1)
            words[index] = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    return " ".join(words)


def _rewritten(paragraph: str, rng: random.Random) -> str:
    return " ".join(word if rng.random() < 0.5 else rng.choice(_FILLER) for word in paragraph.split())


def _template(title: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} | Copy Desk</title>'
        '</head><body><header><a href="/">Copy Desk</a> <a href="/world">World</a> <a href="/business">Business'
        f"</a></header><div class=\"story\"><h1>{escape(title)}</h1><div class=\"byline\">Wire staff</div>{body}"
        "</div><aside><h3>Most read</h3><ul><li><a href=\"/a\">Markets slide</a></li><li><a href=\"/b\">Storm "
        "warning</a></li></ul></aside><footer>© Copy Desk. All rights reserved.</footer></body></html>"
    )


def _extract(html: str, url: str) -> Article | None:
    try:
        return extract_article(html, url, (url,), Link(url=url, source="eval"))
    except ExtractionError:  # a page without an article is simply not part of the set
        return None


def _trafilatura_eval(corpus: Path) -> list[tuple[str, str]]:
    folder = corpus / "articles" / "trafilatura-eval"
    rows = []
    for path in sorted(folder.glob("html/*.html.gz")) if (folder / "html").is_dir() else []:
        article = _extract(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"), f"https://eval.example/{path.stem}")
        if article is not None:
            rows.append((article.title, article.text))
    return rows


@dataclass
class Result:
    docs: int
    precision: float
    recall: float
    recall_by_kind: dict[str, tuple[int, int]]  # kind -> (pairs with the original found, pairs)
    false_merges: list[tuple[str, str]]  # titles of different stories put together
    seconds: float
    alike_pairs: int = 0  # pairs of different stories sharing a fifth or more of their words
    alike_merged: int = 0  # of those, put in one cluster


def evaluate(docs: list[Doc], database_url: str, policy: ClusterPolicy | None = None) -> Result:
    """Store every document through store_article (clustering included) and compare clusters with the truth."""
    started = time.perf_counter()
    engine = open_database(database_url)
    sessions = session_factory(engine)
    cluster_of: list[int] = []
    with sessions.begin() as session:
        source_id = sync_sources(session, [SourceConfig(name="eval", feed="https://eval.example/feed")], NOW)["eval"]
    for index, doc in enumerate(docs):
        url = doc.url or f"https://eval.example/{index}"
        article = Article(url=url, urls=(url,), source="eval", title=doc.title, text=doc.text, author=None,
                          site_name=None, language=None, published_at=None, content_hash=content_hash(doc.text),
                          fingerprint=fingerprint(doc.text))
        with sessions.begin() as session:
            _, story_id = store_article(session, article, source_id, NOW, policy)
            story = session.get(Story, story_id)
            assert story is not None
            cluster_of.append(story.cluster_id or story.id)
    seconds = time.perf_counter() - started
    engine.dispose()
    return _score(docs, cluster_of, seconds)


def _pairs(counts: Counter[object]) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def _score(docs: list[Doc], cluster_of: list[int], seconds: float) -> Result:
    cells = Counter(zip((d.group for d in docs), cluster_of, strict=True))
    together = _pairs(cells)
    predicted = _pairs(Counter(cluster_of))
    actual = _pairs(Counter(d.group for d in docs))
    by_group: dict[str, list[int]] = defaultdict(list)
    for index, doc in enumerate(docs):
        by_group[doc.group].append(index)
    recall_by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for members in by_group.values():
        originals = [i for i in members if docs[i].kind == "original"]
        for i in members:
            if docs[i].kind == "original":
                continue
            partners = originals or [j for j in members if j < i]  # a duplicates group: pairs within it
            for j in partners:
                if j == i:
                    continue
                recall_by_kind[docs[i].kind][1] += 1
                recall_by_kind[docs[i].kind][0] += cluster_of[i] == cluster_of[j]
    clusters: dict[int, set[str]] = defaultdict(set)
    for doc, cluster in zip(docs, cluster_of, strict=True):
        clusters[cluster].add(doc.group)
    titles = {doc.group: doc.title for doc in docs if doc.kind == "original"}
    merges = [
        tuple(titles.get(group, group)[:80] for group in sorted(groups)[:2])
        for groups in clusters.values()
        if len(groups) > 1
    ]
    words = {i: set(_WORD.findall(doc.text.casefold())) for i, doc in enumerate(docs) if doc.kind == "original"}
    alike = [
        (i, j) for i, j in combinations(sorted(words), 2)
        if len(words[i] & words[j]) >= 0.2 * len(words[i] | words[j])
    ]
    return Result(
        alike_pairs=len(alike),
        alike_merged=sum(cluster_of[i] == cluster_of[j] for i, j in alike),
        docs=len(docs),
        precision=together / predicted if predicted else 1.0,
        recall=together / actual if actual else 1.0,
        recall_by_kind={kind: (found, total) for kind, (found, total) in sorted(recall_by_kind.items())},
        false_merges=merges,  # type: ignore[arg-type]
        seconds=seconds,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=None, help="AEB articles to use (default: all)")
    parser.add_argument("--similarity", type=float, default=ClusterPolicy().similarity)
    parser.add_argument("--format", choices=["table", "json"], default="table")
    args = parser.parse_args(argv)
    if not CORPUS.is_dir():
        print("../shared/corpus is absent", file=sys.stderr)
        return 1
    print("building the labelled set (extracting pages)...", file=sys.stderr)
    docs = labelled_set(CORPUS, args.pages)
    with tempfile.TemporaryDirectory() as folder:
        result = evaluate(docs, f"sqlite:///{folder}/eval.db", ClusterPolicy(similarity=args.similarity))
    if args.format == "json":
        print(json.dumps(result.__dict__, indent=2, default=str))
        return 0
    stories = len({doc.group for doc in docs})
    print(f"{result.docs} documents, {stories} stories, stored and clustered in {result.seconds:.1f} s")
    print(f"pairwise precision {result.precision:.4f}, recall {result.recall:.4f} (similarity {args.similarity})")
    print(f"{'kind':<48} {'found':>7} {'pairs':>7} {'recall':>7}")
    for kind, (found, total) in result.recall_by_kind.items():
        print(f"{kind:<48} {found:>7} {total:>7} {found / total:>7.3f}")
    print(f"different stories sharing a fifth or more of their words: {result.alike_pairs} pairs, "
          f"{result.alike_merged} put together")
    for first, second in result.false_merges:
        print(f"merged: {first!r} + {second!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
