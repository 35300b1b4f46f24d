"""The items of the names benchmark, read by path from ``../shared/corpus`` (never copied into the project).

An item is what a rule or a search reads of one story: a title and a text. Two kinds:

- a **feed item**: the entry's title and its description or summary (markup removed), parsed by feedparser,
  from every feed of ``feeds/news`` not in English (Ukrainian, Russian, German, French, Italian, Portuguese,
  Urdu, Kannada);
- an **article**: a page's title and its body: the human-annotated ``articleBody`` of the 181 AEB pages (all
  languages), the expected clean article of the readability pages and goose3's ``cleaned_text`` (pages not in
  English), and for the trafilatura-eval pages (not in English), which hold only snippets as truth, the text
  trafilatura (pinned in pyproject.toml) extracts from the page.

An item's key is stable: the file's path in the corpus, with ``#<n>`` for the n-th entry feedparser reads
from a feed. Its language is what newsmon would store (``crawler.language.detect_language`` on the title and
text, the feed's or page's declared language breaking ties). An item whose title and text repeat an earlier
one's (the same Golem feed saved twice, a BBC item under two GUIDs) is left out: it would be one story in an
archive.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
FEEDS = Path("feeds")
ARTICLES = Path("articles")
_MARKUP = re.compile(r"<[^>]+>")


@dataclass(frozen=True, slots=True)
class Item:
    key: str  # the file's path in the corpus, "#<n>" for a feed's n-th entry
    kind: str  # feed | article
    language: str | None
    title: str
    text: str

    @property
    def source(self) -> str:
        """A source name for the archive: the feed's file, or the article set (aeb, goose3 ...)."""
        path = Path(self.key.split("#")[0])
        return path.name if self.kind == "feed" else path.parts[1]

    @property
    def digest(self) -> str:
        """A short hash of the title and text, to tell when the corpus or a parser now reads the item differently."""
        return hashlib.sha256(f"{self.title}\n{self.text}".encode()).hexdigest()[:16]


def load_items(corpus: Path = CORPUS) -> list[Item]:
    """Every item, feeds first, in a stable order; repeats left out."""
    items, seen = [], set()
    for item in [*feed_items(corpus), *article_items(corpus)]:
        identity = (" ".join(item.title.split()), " ".join(item.text.split()))
        if identity in seen or not (item.title or item.text):
            continue
        seen.add(identity)
        items.append(item)
    return items


def feed_items(corpus: Path) -> Iterator[Item]:
    import feedparser  # only here: the one part of the benchmark that reads feeds

    with (corpus / FEEDS / "index.csv").open(encoding="utf-8", newline="") as index:
        feeds = [row for row in csv.DictReader(index) if row["file"].startswith("news/") and row["language"] != "en"]
    for row in sorted(feeds, key=lambda row: row["file"]):
        path = FEEDS / row["file"]
        for number, entry in enumerate(feedparser.parse((corpus / path).read_bytes()).entries):
            title = plain(entry.get("title", ""))
            text = plain(entry.get("summary", ""))
            yield Item(f"{path}#{number}", "feed", language(f"{title}\n{text}", row["language"]), title, text)


def article_items(corpus: Path) -> Iterator[Item]:
    with (corpus / ARTICLES / "index.csv").open(encoding="utf-8", newline="") as index:
        pages = {row["file"]: row for row in csv.DictReader(index)}
    truth = json.loads((corpus / ARTICLES / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    for key in sorted(truth):
        file = f"aeb/html/{key}.html.gz"
        yield article(file, pages[file], truth[key]["articleBody"])
    for file, row in sorted(pages.items()):
        declared = row["detected_lang"] or row["html_lang"] or None
        if row["set"] == "aeb" or row["set"] == "scrapinghub-aeb" or (declared or "en").startswith("en"):
            continue
        if row["set"] == "goose3":
            expected = json.loads((corpus / ARTICLES / file.replace(".html.gz", ".json")).read_text("utf-8"))
            yield article(file, row, expected["expected"]["cleaned_text"], expected["expected"].get("title"))
        elif row["set"] == "mozilla-readability":
            folder = corpus / ARTICLES / Path(file).parent
            metadata = json.loads((folder / "expected-metadata.json").read_text(encoding="utf-8"))
            body = gzip.decompress((folder / "expected.html.gz").read_bytes()).decode("utf-8")
            yield article(file, row, page_text(body), metadata.get("title"))
        elif row["set"] == "trafilatura-eval":
            import trafilatura

            page = gzip.decompress((corpus / ARTICLES / file).read_bytes())
            yield article(file, row, trafilatura.extract(page) or "")


def article(file: str, row: dict[str, str], body: str, title: str | None = None) -> Item:
    title = plain(title or row["title"])
    text = "\n".join(line.strip() for line in body.splitlines() if line.strip())
    declared = (row["detected_lang"] or row["html_lang"] or "")[:2] or None
    return Item(str(ARTICLES / file), "article", language(f"{title}\n{text}", declared), title, text)


def plain(markup: str) -> str:
    """Text without markup or entities, white space collapsed."""
    return " ".join(html.unescape(_MARKUP.sub(" ", markup)).split())


def page_text(document: str) -> str:
    import lxml.html

    tree = lxml.html.fromstring(document)
    for block in tree.iter("p", "h1", "h2", "h3", "h4", "li", "figcaption", "blockquote", "br", "div"):
        block.tail = "\n" + (block.tail or "")
    return tree.text_content()


def language(text: str, declared: str | None) -> str | None:
    from crawler.language import detect_language

    return detect_language(text, declared)
