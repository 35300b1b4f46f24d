"""SQLAlchemy 2.x models of the archive: sources, stories with every URL they were seen under, crawl runs.

The schema itself is created and changed only by the Alembic migrations in ``db/migrations``; these models
must agree with them (a test compares the two).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Constraint names are fixed so that migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite has no 64-bit autoincrement BIGINT; INTEGER is its rowid alias.
Identifier = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Source(Base):
    """An outlet's feed, sitemap or section page, as named in config.yaml (the config stays the authority)."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The validators of the last complete read of the listing, sent back as If-None-Match/If-Modified-Since.
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    # What `newsmon run` decided after the last crawl: the adaptive interval (seconds) and when to look next,
    # kept here so a restart resumes the schedule instead of polling every source at once.
    poll_every: Mapped[float | None] = mapped_column(Float)
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    health_status: Mapped[str | None] = mapped_column(String(16))  # the status last announced to health_channel


class Story(Base):
    """One article, stored once however many URLs and outlets it was seen under."""

    __tablename__ = "stories"
    __table_args__ = (
        Index("ix_stories_fetched_at", "fetched_at"),
        Index("ix_stories_published_at", "published_at"),
        Index("ix_stories_source_id", "source_id"),
        Index("ix_stories_matched_at", "matched_at"),
        Index("ix_stories_cluster_id", "cluster_id"),
    )

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    url: Mapped[str] = mapped_column(Text, unique=True)  # canonical URL it was first stored under
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    site_name: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # sha256 of the normalised text: the same article under a second URL (a syndicated copy) is stored once.
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # When the rules were run on it; NULL means not yet (the matcher's work list).
    matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Near-duplicates (db.neardup): the cluster is named by the id of its first story; NULL until the
    # story is clustered (stories stored before clustering existed, until `newsmon db upgrade` places them).
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"))
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)  # MinHash of the text's 3-word shingles
    shingles: Mapped[int | None] = mapped_column(Integer)  # how many distinct shingles the text has
    version: Mapped[int] = mapped_column(Integer, default=1)  # 2 and up: the text changed at the same URL
    # When its URL was last read again because its listing said it changed (NULL: only once, at fetched_at).
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # article | teaser | paywalled | not_article (crawler.extract): only an article is clustered and alerted on.
    status: Mapped[str] = mapped_column(String(16), default="article", server_default="article")
    modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the page's own "updated" time
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the date its listing gave it
    # The posts it embeds (crawler.embeds), one per line: shown with it, never matched or searched (NULL: none).
    embedded: Mapped[str | None] = mapped_column(Text)

    source: Mapped[Source] = relationship(lazy="joined")
    urls: Mapped[list[StoryUrl]] = relationship(
        back_populates="story", order_by="StoryUrl.id", lazy="selectin", cascade="all, delete-orphan"
    )


class StoryUrl(Base):
    """A canonical URL under which a story was seen, and by which source: the record that it need not be fetched."""

    __tablename__ = "story_urls"
    __table_args__ = (Index("ix_story_urls_story_id", "story_id"),)

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    url: Mapped[str] = mapped_column(Text, unique=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)

    story: Mapped[Story] = relationship(back_populates="urls")
    source: Mapped[Source] = relationship(lazy="joined")


class StoryBand(Base):
    """The LSH index of near-duplicate detection: one row per band key of a story's signature.

    Only stories fetched within ``clusters.window`` keep their rows; older ones can no longer gain copies.
    """

    __tablename__ = "story_bands"
    __table_args__ = (Index("ix_story_bands_story_id", "story_id"),)

    band: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)


class StoryVersion(Base):
    """An earlier text of a story: kept when the same URL later served a changed text (an update)."""

    __tablename__ = "story_versions"
    __table_args__ = (UniqueConstraint("story_id", "version", name="uq_story_versions_story_id_version"),)

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)  # 1 is the text first stored
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when this version was last read
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the next one was read


class ClusterAlert(Base):
    """A rule has alerted on a cluster: its later copies do not alert again (the primary key decides)."""

    __tablename__ = "cluster_alerts"

    cluster_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    rule: Mapped[str] = mapped_column(String(200), primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))  # the one that alerted
    alerted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Surge(Base):
    """A rule's surge alert fired: no other until a match finds its window with fewer outlets (alerts.surges)."""

    __tablename__ = "surges"

    rule: Mapped[str] = mapped_column(String(200), primary_key=True)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))  # the match that fired it


class CrawlRun(Base):
    """One crawl of one source: when, what came of it, and the one-line reason when it failed."""

    __tablename__ = "crawl_runs"
    __table_args__ = (Index("ix_crawl_runs_source_id_started_at", "source_id", "started_at"),)

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # ok | unchanged | partial | failed | running (shared)
    links: Mapped[int] = mapped_column(Integer, default=0)  # article links the source listed
    new: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    known: Mapped[int] = mapped_column(Integer, default=0)  # links already stored, not fetched again
    failed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)  # why the source itself could not be read
    # A run shared by several workers (db.runs): requests queued and not yet done, and what the listing said,
    # kept until the run is finished. Empty on runs of the single-machine mode.
    pending: Mapped[int | None] = mapped_column(Integer)
    not_modified: Mapped[bool | None] = mapped_column(Boolean)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    max_age: Mapped[float | None] = mapped_column(Float)
    retry_after: Mapped[float | None] = mapped_column(Float)

    source: Mapped[Source] = relationship(lazy="joined")
    problems: Mapped[list[CrawlProblem]] = relationship(
        back_populates="run", order_by="CrawlProblem.id", cascade="all, delete-orphan"
    )


class CrawlProblem(Base):
    """A page of a crawl run that could not be fetched or held no article, with a one-line reason."""

    __tablename__ = "crawl_problems"
    __table_args__ = (Index("ix_crawl_problems_run_id", "run_id"),)

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)

    run: Mapped[CrawlRun] = relationship(back_populates="problems")


class RuleMatch(Base):
    """A rule matched a story: at most once per rule and story, whatever happens later."""

    __tablename__ = "rule_matches"
    __table_args__ = (UniqueConstraint("rule", "story_id", name="uq_rule_matches_rule_story_id"),)

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(200))
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime)

    story: Mapped[Story] = relationship(lazy="joined")


class OutboxMessage(Base):
    """One alert to send: a story on a channel, naming every rule it matched (or one digest rule's share).

    Written in the transaction that marks the story matched, so a crash loses no alert; delivered and
    retried from here, so a channel that is down loses none either.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("story_id", "channel", "digest", "kind", name="uq_outbox_story_id_channel_digest"),
        Index("ix_outbox_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    # NULL for a notice about the service itself (a source turned failing, say): ``notice`` holds its text.
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    notice: Mapped[str | None] = mapped_column(Text)  # title, a blank line, then the body
    channel: Mapped[str] = mapped_column(String(200))
    rules: Mapped[str] = mapped_column(Text)  # rule names, comma-separated, in config order
    digest: Mapped[str] = mapped_column(String(200), default="")  # the digest rule, "" for an immediate alert
    # "alert", or "followup": the other outlets that reported the story's cluster, sent once, after a while.
    kind: Mapped[str] = mapped_column(String(16), default="alert", server_default="alert")
    status: Mapped[str] = mapped_column(String(16))  # pending | sending | sent | failed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # not before (retries and digests move it)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a sender's lease on 'sending'
    claimed_by: Mapped[str | None] = mapped_column(String(200))  # that sender (db.claimants names it)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    story: Mapped[Story | None] = relationship(lazy="joined")


class DeliveryAttempt(Base):
    """Every attempt to send an outbox message, with its outcome (secrets masked)."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_message_id", "message_id"),)

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)


class SchedulerLock(Base):
    """The lease that makes one `newsmon run` the scheduler of a database (a row, so it works across machines)."""

    __tablename__ = "scheduler_lock"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(Text)  # host, pid and a random token of the running service
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # renewed by heartbeats; past it, anyone may take over
