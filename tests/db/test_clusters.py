"""Near-duplicate clusters in the archive: copies, rewrites and updates join a cluster, other stories do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from crawler.extract import Article
from db.clusters import ClusterPolicy, place_unclustered, prune_bands
from db.models import Story, StoryBand
from db.neardup import BANDS, fingerprint, similarity
from db.session import session_factory
from db.sources import sync_sources
from db.storage import store_article
from newsmon.config import SourceConfig
from tests.factories import make_article

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

GENEVA = [
    "Ukrainian and American negotiators met in Geneva on Sunday to refine the 20-point peace plan, officials "
    "from both delegations said after more than six hours of talks at the US mission.",
    "The revised draft keeps the security guarantees that Kyiv insisted on, according to two people familiar "
    "with the discussions, while questions about territory and the future of the Zaporizhzhia plant remain open.",
    "Secretary of State Marco Rubio called the meeting the most productive day so far and said a final text "
    "could be ready for the presidents within days if the remaining points were settled.",
    "Andriy Yermak, who led the Ukrainian delegation, said the sides had agreed to keep working through the "
    "night and that European partners would be briefed on Monday morning in Brussels.",
]
# Another story on the same subject, the same day: it must stay apart.
KREMLIN = [
    "The Kremlin said on Monday it had not yet received the revised version of the peace plan discussed in "
    "Geneva and would not comment on its contents until Moscow had studied the document.",
    "Dmitry Peskov told reporters that Russia remained open to negotiations but that any settlement had to "
    "address what he called the root causes of the conflict, including NATO expansion.",
    "Yuri Ushakov, a foreign policy aide to Vladimir Putin, said contacts with Washington continued through "
    "several channels and that no date had been set for a meeting between the two presidents.",
    "Russian forces meanwhile pressed their offensive near Pokrovsk, where Ukrainian commanders reported "
    "heavy fighting and dozens of assaults over the previous day along the eastern front line.",
]


def article(name: str, paragraphs: list[str], title: str, **overrides: object) -> Article:
    url = f"https://{name}.example/world/{title.lower().replace(' ', '-')}"
    return make_article(url=url, urls=(url,), title=title, text="\n".join(paragraphs), source="example", **overrides)


def store(engine: Engine, *articles: Article, when: datetime = NOW, policy: ClusterPolicy | None = None) -> list[int]:
    ids = []
    with Session(engine) as session, session.begin():
        source_id = sync_sources(session, [SourceConfig(name="example", feed="https://e.example/feed")], when)["example"]
        for item in articles:
            ids.append(store_article(session, item, source_id, when, policy)[1])
    return ids


def clusters(engine: Engine, ids: list[int]) -> list[int]:
    with Session(engine) as session:
        found = dict(session.execute(select(Story.id, Story.cluster_id).where(Story.id.in_(ids))).all())
    return [found[story_id] for story_id in ids]


def test_copies_rewrites_and_updates_join_the_first_storys_cluster_and_another_story_does_not(engine: Engine) -> None:
    original = article("wire", GENEVA, "Geneva talks refine peace plan")
    retitled = article("paper", GENEVA, "Rubio hails most productive day of talks")  # another headline only
    lead = "Negotiators from Kyiv and Washington spent six hours in Geneva on Sunday refining the peace plan."
    rewritten = article("daily", [lead, *GENEVA[1:]], "Peace plan talks in Geneva")
    cut = article("digest", GENEVA[:3], "Geneva talks, in short")  # the last paragraph cut
    updated = article("wire", [*GENEVA, "Update: the delegations will meet again on Tuesday."], "Geneva talks: update")
    typos = article("blog", [p.replace("the ", "teh ", 2) for p in GENEVA], "Geneva tlaks")
    other = article("wire", KREMLIN, "Kremlin has not seen revised plan")

    ids = store(engine, original, retitled, rewritten, cut, updated, typos, other)

    first = ids[0]
    assert clusters(engine, ids) == [first, first, first, first, first, first, ids[-1]]


@pytest.mark.parametrize(("threshold", "joins"), [(0.9, False), (0.2, True)])
def test_a_story_joins_when_its_similarity_reaches_the_threshold(engine: Engine, threshold: float, joins: bool) -> None:
    original = article("wire", GENEVA, "Geneva talks refine peace plan")
    half = article("paper", GENEVA[:2] + KREMLIN[:2], "Talks and the Kremlin")  # half of each story
    assert 0.3 < similarity(fingerprint(original.text), fingerprint(half.text)) < 0.7

    ids = store(engine, original) + store(engine, half, policy=ClusterPolicy(similarity=threshold))

    assert clusters(engine, ids) == [ids[0], ids[0] if joins else ids[1]]


@pytest.mark.parametrize(("window", "joins"), [(timedelta(days=7), False), (timedelta(days=14), True)])
def test_a_story_joins_only_stories_fetched_within_the_window(engine: Engine, window: timedelta, joins: bool) -> None:
    original = article("wire", GENEVA, "Geneva talks refine peace plan")
    retitled = article("paper", [*GENEVA, "Talks resume on Tuesday."], "Talks resume")

    ids = store(engine, original, when=NOW - timedelta(days=10)) + store(
        engine, retitled, policy=ClusterPolicy(window=window)
    )

    assert clusters(engine, ids) == [ids[0], ids[0] if joins else ids[1]]


def test_stories_stored_before_clustering_are_placed_in_id_order(engine: Engine) -> None:
    ids = store(
        engine,
        article("wire", GENEVA, "Geneva talks refine peace plan"),
        article("wire", KREMLIN, "Kremlin has not seen revised plan"),
        article("paper", GENEVA[:3], "Geneva talks, in short"),
    )
    with Session(engine) as session, session.begin():  # as migration 0005 left an older archive
        session.execute(update(Story).values(cluster_id=None, signature=None, shingles=None))
        session.execute(StoryBand.__table__.delete())
    progress: list[tuple[int, int]] = []

    placed = place_unclustered(session_factory(engine), ClusterPolicy(), lambda done, total: progress.append((done, total)), batch=2)

    assert placed == 3 and progress == [(2, 3), (3, 3)]
    assert clusters(engine, ids) == [ids[0], ids[1], ids[0]]
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(StoryBand)) == 3 * (BANDS + 1)  # and a title band each
    assert place_unclustered(session_factory(engine), ClusterPolicy()) == 0


def test_band_keys_of_stories_older_than_the_window_are_pruned(engine: Engine) -> None:
    [old] = store(engine, article("wire", GENEVA, "Geneva talks"), when=NOW - timedelta(days=10))
    [new] = store(engine, article("wire", KREMLIN, "Kremlin"), when=NOW)
    with Session(engine) as session, session.begin():
        assert prune_bands(session, NOW - timedelta(days=7)) == BANDS
    with Session(engine) as session:
        left = set(session.scalars(select(StoryBand.story_id)))
    assert left == {new} and old not in left
