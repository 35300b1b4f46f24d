"""Near-duplicate clusters in the archive: placing a new story, the LSH band index, and reading clusters back.

A cluster is named by the id of its first story. A new story is compared with the stored stories that share
one of its LSH band keys (db.neardup) and were fetched within the window; it joins the cluster of the
most similar one at or above the similarity threshold, else starts its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from db.models import Source, Story, StoryBand, StoryVersion

if TYPE_CHECKING:
    from newsmon.config import Config
from db.neardup import Fingerprint, fingerprint, similarity, title_band

logger = logging.getLogger(__name__)

# Most candidate stories compared for one new story (the newest first): a band key shared by thousands of
# stories (a boilerplate text) must not make one insert slow.
MAX_CANDIDATES = 2_000


@dataclass(frozen=True, slots=True)
class ClusterPolicy:
    """When a new story joins a stored one's cluster (from the config's ``clusters`` section)."""

    similarity: float = 0.5
    window: timedelta = timedelta(days=7)


def cluster_policy(config: Config) -> ClusterPolicy:
    return ClusterPolicy(similarity=config.clusters.similarity, window=config.clusters.window)


def place_story(
    session: Session,
    story_id: int,
    print_: Fingerprint,
    fetched_at: datetime,
    policy: ClusterPolicy,
    title: str = "",
) -> int:
    """Put a just-stored story into the cluster of its most similar recent story, or into its own, and add its
    band keys to the index; returns the cluster's id. Runs in the transaction that stored the story."""
    bands = band_keys(print_, title)
    best: tuple[float, int, int] | None = None  # (score, story id, its cluster)
    candidates = list(
        session.scalars(
            select(StoryBand.story_id)
            .where(StoryBand.band.in_(bands), StoryBand.story_id != story_id)
            .distinct()
            .order_by(StoryBand.story_id.desc())
            .limit(MAX_CANDIDATES)
        )
    )
    if candidates:
        rows = session.execute(
            select(Story.id, Story.signature, Story.shingles, Story.cluster_id).where(
                Story.id.in_(candidates), Story.fetched_at >= fetched_at - policy.window
            )
        )
        for other_id, signature, shingles, cluster_id in rows:
            if signature is None or shingles is None:
                continue
            score = similarity(print_, Fingerprint(signature, shingles))
            if score >= policy.similarity and (best is None or (score, -other_id) > (best[0], -best[1])):
                best = (score, other_id, cluster_id or other_id)
    cluster_id = best[2] if best else story_id
    session.execute(
        update(Story)
        .where(Story.id == story_id)
        .values(cluster_id=cluster_id, signature=print_.signature, shingles=print_.shingles)
    )
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    rows = [{"band": band, "story_id": story_id} for band in bands]
    session.execute(insert(StoryBand).on_conflict_do_nothing(), rows)  # a second placement changes nothing
    return cluster_id


def band_keys(print_: Fingerprint, title: str) -> list[int]:
    """A story's keys in the band index: its signature's bands, and its headline's (so that a short text and a
    long one under the same headline, whose shingles overlap too little for the bands, are still compared)."""
    return sorted(set(print_.bands()) | set(title_band(title)))


def prune_bands(session: Session, before: datetime) -> int:
    """Drop the band keys of stories fetched before ``before`` (they can no longer gain copies); returns rows."""
    oldest_kept = session.scalar(select(func.min(Story.id)).where(Story.fetched_at >= before))
    statement = delete(StoryBand)
    if oldest_kept is not None:
        statement = statement.where(StoryBand.story_id < oldest_kept)
    return session.execute(statement).rowcount or 0


def place_unclustered(
    sessions: sessionmaker[Session],
    policy: ClusterPolicy,
    progress: Callable[[int, int], None] | None = None,
    batch: int = 200,
) -> int:
    """Cluster every story stored before clustering existed (or by a crawl that stopped half-way), oldest
    first, as if each had just arrived; returns how many. ``progress(done, total)`` is called per batch."""
    with sessions() as session:
        total = session.scalar(select(func.count()).select_from(Story).where(Story.signature.is_(None))) or 0
    done, last_id = 0, 0
    while done < total:
        with sessions.begin() as session:
            stories = session.execute(
                select(Story.id, Story.title, Story.text, Story.fetched_at)
                .where(Story.signature.is_(None), Story.id > last_id)
                .order_by(Story.id)
                .limit(batch)
            ).all()
            for story_id, title, text, fetched_at in stories:
                place_story(session, story_id, fingerprint(text), fetched_at, policy, title)
        if not stories:
            break
        done += len(stories)
        last_id = stories[-1][0]
        if progress is not None:
            progress(done, total)
    return done


def cluster_copies(session: Session, story: Story) -> list[Story]:
    """The other stories of ``story``'s cluster, in the order they arrived."""
    cluster_id = story.cluster_id or story.id
    statement = select(Story).where(Story.cluster_id == cluster_id, Story.id != story.id).order_by(Story.id)
    return list(session.scalars(statement).unique())


@dataclass(frozen=True, slots=True)
class ClusterSummary:
    """One cluster as `newsmon clusters` and search show it."""

    cluster_id: int  # the id of its first story
    title: str  # its first story's
    stories: int
    outlets: tuple[str, ...]  # distinct, in the order they reported it
    first_at: datetime  # when its first and its latest story were fetched
    last_at: datetime


def cluster_key() -> Any:
    """A story's cluster; a story stored before clustering (not placed yet) is a cluster of its own."""
    return func.coalesce(Story.cluster_id, Story.id)


def list_clusters(
    session: Session, since: datetime | None = None, min_stories: int = 2, limit: int = 50
) -> list[ClusterSummary]:
    """Clusters with at least ``min_stories`` stories and a story fetched since ``since``, latest first."""
    key = cluster_key()
    statement = select(key, func.count(), func.min(Story.fetched_at), func.max(Story.fetched_at)).group_by(key)
    if since is not None:
        statement = statement.having(func.max(Story.fetched_at) >= since)
    statement = statement.having(func.count() >= min_stories).order_by(func.max(Story.fetched_at).desc(), key.desc())
    rows = session.execute(statement.limit(limit)).all()
    return summarise(session, [row[0] for row in rows])


def summarise(session: Session, cluster_ids: list[int]) -> list[ClusterSummary]:
    """The summaries of these clusters, in the order given."""
    if not cluster_ids:
        return []
    key = cluster_key()
    members: dict[int, list[Any]] = {cluster_id: [] for cluster_id in cluster_ids}
    statement = (  # the columns a summary needs, not the stories' texts
        select(key, Story.title, func.coalesce(Story.site_name, Source.name), Story.fetched_at)
        .join(Source, Source.id == Story.source_id)
        .where(key.in_(cluster_ids))
        .order_by(Story.id)
    )
    for row in session.execute(statement):
        members[row[0]].append(row)
    summaries = []
    for cluster_id in cluster_ids:
        rows = members[cluster_id]
        if not rows:
            continue
        summaries.append(
            ClusterSummary(
                cluster_id=cluster_id,
                title=rows[0][1],
                stories=len(rows),
                outlets=tuple(dict.fromkeys(row[2] for row in rows)),
                first_at=min(row[3] for row in rows),
                last_at=max(row[3] for row in rows),
            )
        )
    return summaries


def story_versions(session: Session, story_id: int) -> list[StoryVersion]:
    """The earlier texts of a story, oldest first (the story row holds the latest)."""
    statement = select(StoryVersion).where(StoryVersion.story_id == story_id).order_by(StoryVersion.version)
    return list(session.scalars(statement))
