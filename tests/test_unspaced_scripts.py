"""Scripts written without spaces (Chinese, Japanese, Thai...): a word inside a sentence is found by rules and by
search on both databases, highlighted in snippets, and a section page's headlines in them are headlines."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import regex
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from alerts.matching import RuleSet, RuleSpec, StoryText
from alerts.render import highlights
from alerts.query import parse_query, terms
from alerts.search import search
from crawler.spiders.page import looks_like_article, reads_as_headline
from db.session import _alembic_config, upgrade
from db.sources import sync_sources
from db.storage import store_article
from newsmon.config import SourceConfig
from newsmon.words import count_words, fold_words, words
from tests.conftest import crawl, run_newsmon, write_config
from tests.factories import make_article
from tests.servers import Outlet, article_page

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CHINESE = "国家主席习近平在北京会见普京，双方讨论了乌克兰问题。"
JAPANESE = "プーチン大統領は記者会見で停戦について語った。"
THAI = "นายกรัฐมนตรีเดินทางไปกรุงเทพมหานครเพื่อประชุม"


def test_unspaced_text_is_read_as_overlapping_pairs_and_spaced_text_is_unchanged() -> None:
    assert words("习近平会见") == ["习近", "近平", "平会", "会见"]
    assert words("Xi 习近平 met Putin") == ["Xi", "习近", "近平", "met", "Putin"]
    assert words("国") == ["国"]  # a lone character stays as it is
    assert words("मोदी ने कहा") == ["मोदी", "ने", "कहा"]  # Devanagari is spaced: its marks stay in the word
    assert words("プーチン") == ["プー", "ーチ", "チン"]  # the long-vowel mark belongs to the word
    assert fold_words("ﾌﾟｰﾁﾝ") == fold_words("プーチン")  # half-width katakana folds to full width
    assert count_words("Zelensky met 习近平") == 4


def _matches(query: str, title: str = "", text: str = "") -> bool:
    return bool(RuleSet([RuleSpec("r", query)]).match(StoryText(title, text, "s", None)))


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("习近平", CHINESE, True),  # inside a sentence, no spaces around it
        ("普京", CHINESE, True),
        ("乌克兰", CHINESE, True),
        ("习近平 AND 普京", CHINESE, True),
        ("习主席", CHINESE, False),  # its characters are there, not in this order
        ("プーチン", JAPANESE, True),
        ("停戦", JAPANESE, True),
        ("กรุงเทพ", THAI, True),
        ("习近平", "习近 and 近平 apart", False),  # the pairs must be in a row
    ],
)
def test_a_rule_finds_a_word_inside_unspaced_text(query: str, text: str, expected: bool) -> None:
    assert _matches(query, text=text) is expected


def test_the_snippet_highlight_covers_the_word_inside_the_sentence() -> None:
    spans = highlights(CHINESE, terms(parse_query("习近平")))
    assert [CHINESE[start:end] for start, end in spans] == ["习近平"]


@pytest.fixture
def archive(engine: Engine) -> Engine:
    stories = [("zh", "习近平会见普京", CHINESE), ("ja", "停戦交渉", JAPANESE), ("th", "ข่าว", THAI),
               ("en", "Xi meets Putin", "The leaders met in Beijing and discussed the war in Ukraine.")]
    with Session(engine) as session, session.begin():
        ids = sync_sources(session, [SourceConfig(name="wire", feed="https://wire.example/rss")], NOW)
        for index, (language, title, body) in enumerate(stories):
            url = f"https://wire.example/{index}"
            article = make_article(url=url, urls=(url,), title=title, text=body, source="wire", language=language,
                                   published_at=NOW - timedelta(days=index))
            store_article(session, article, ids["wire"], NOW)
    return engine


@pytest.mark.parametrize(
    ("query", "languages"),
    [("=习近平", ["zh"]), ("=乌克兰", ["zh"]), ("=プーチン", ["ja"]), ('"記者会見"', ["ja"]), ("กรุงเทพ", ["th"]),
     ("title:=普京", ["zh"]), ("=习近平 OR =Putin", ["zh", "en"]), ("习主席", []),
     # A name in any script finds the others: Xi, 习近平; Putin, 普京, プーチン; Ukraine, 乌克兰.
     ("习近平", ["zh", "en"]), ("title:普京", ["zh", "en"]), ("プーチン", ["zh", "ja", "en"]), ("乌克兰", ["zh", "en"])],
)
def test_search_finds_a_word_inside_unspaced_text(archive: Engine, query: str, languages: list[str]) -> None:
    with Session(archive) as session:
        found = sorted(hit.story.language or "" for hit in search(session, query))
    assert found == sorted(languages)


@pytest.mark.parametrize(
    ("text", "long", "expected"),
    [
        ("停戦交渉が再開へ", False, True),  # a Japanese headline: eight letters, no spaces
        ("ニュース", False, False),  # "News": a navigation label
        ("Ceasefire holds", False, True),  # two words, but a headline's letters
        ("Latest news", False, False),
        ("Read more", False, False),
        ("Talks resume in Geneva", False, True),
        ("停戦交渉が再開へ", True, False),  # without an article-shaped URL, a headline must be long
        ("ロシアとウクライナの停戦交渉が再開へ", True, True),
    ],
)
def test_a_headline_is_recognised_by_its_letters_not_its_spaces(text: str, long: bool, expected: bool) -> None:
    assert reads_as_headline(text, long=long) is expected


def test_an_article_link_with_a_japanese_or_two_word_headline_is_an_article() -> None:
    assert looks_like_article("https://e.jp/news/2026/11/24/a1", "停戦交渉が再開へ")
    assert looks_like_article("https://e.org/world/123456", "Ceasefire holds")
    assert not looks_like_article("https://e.org/world/123456", "More")


def test_a_crawled_section_page_of_japanese_and_chinese_headlines_is_found_by_search(
    tmp_path: Path, database_url: str, outlet: Outlet
) -> None:
    chinese = outlet.add("/world/2026/11/24/xi-putin", article_page("习近平会见普京", [CHINESE * 3], lang="zh"))
    japanese = outlet.add("/world/article-88412345", article_page("停戦交渉が再開へ", [JAPANESE * 3], lang="ja"))
    outlet.add("/world/", f"""<html><body><nav><a href="/">ホーム</a><a href="/world/">国際</a></nav>
<h2><a href="{chinese}">习近平会见普京讨论乌克兰</a></h2><h2><a href="{japanese}">停戦交渉が再開へ</a></h2>
</body></html>""")
    config = write_config(tmp_path / "config.yaml", database_url, [{"name": "world", "page": outlet.url("/world/")}])

    assert crawl(config).only["new"] == 2

    for query, titles in (("习近平", ["习近平会见普京"]), ("=プーチン", ["停戦交渉が再開へ"]),
                          ("Putin", ["习近平会见普京", "停戦交渉が再開へ"])):
        result = run_newsmon("--config", str(config), "search", query, "--format", "json")
        assert result.returncode == 0, result.stderr
        assert sorted(hit["title"] for hit in json.loads(result.stdout)) == sorted(titles)


def _index_as_before_pairs(session: Session, story_id: int, title: str, body: str) -> None:
    """The story's index entry as revision 0009 wrote it: a run of unspaced letters was one word."""
    old_words = " ".join(regex.findall(r"\w+", f"{title} {body}"))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("UPDATE stories SET search_vector = to_tsvector('simple', :words) WHERE id = :id"),
                        {"words": old_words, "id": story_id})
    else:
        session.execute(text("DELETE FROM stories_fts WHERE rowid = :id"), {"id": story_id})
        session.execute(text("INSERT INTO stories_fts (rowid, title, text) VALUES (:id, '', :words)"),
                        {"id": story_id, "words": old_words})


def test_an_archive_indexed_before_pairs_is_reindexed_by_its_migration(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        ids = sync_sources(session, [SourceConfig(name="wire", feed="https://wire.example/rss")], NOW)
        article = make_article(url="https://wire.example/zh", urls=("https://wire.example/zh",), title="习近平会见普京",
                               text=CHINESE, source="wire", language="zh", published_at=NOW)
        _outcome, story_id = store_article(session, article, ids["wire"], NOW)
    # Back to the full-text index of revision 0013 (SQLite's table then kept its content: 0010 took entries out
    # by rowid), with the story's entry as revision 0009 wrote it.
    command.downgrade(_alembic_config(engine), "0013")
    with Session(engine) as session, session.begin():
        # The models read the column of a later revision (0015): put back by hand while the test walks the
        # older revisions of the index, and left in place when those later revisions are stamped below.
        session.execute(text("ALTER TABLE stories ADD COLUMN embedded TEXT"))
        _index_as_before_pairs(session, story_id, article.title, article.text)
    command.stamp(_alembic_config(engine), "0009")
    with Session(engine) as session:
        assert search(session, "=习近平") == []  # the old entry holds no pairs

    command.upgrade(_alembic_config(engine), "0010")  # the migration itself (the later ones' tables exist)
    command.stamp(_alembic_config(engine), "0013")
    with Session(engine) as session:
        assert [hit.story.id for hit in search(session, "=习近平")] == [story_id]

    command.upgrade(_alembic_config(engine), "0014")  # rebuilds SQLite's table without content, from the stories
    command.stamp(_alembic_config(engine), "head")
    with Session(engine) as session:
        assert [hit.story.id for hit in search(session, "=习近平")] == [story_id]
    assert upgrade(engine) is False
