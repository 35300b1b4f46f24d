"""Sources, stories, the URLs stories were seen under, crawl runs and their problems.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sources"),
        sa.UniqueConstraint("name", name="uq_sources_name"),
    )
    op.create_table(
        "stories",
        sa.Column("id", ID, nullable=False),
        sa.Column("source_id", ID, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("site_name", sa.Text(), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stories"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name="fk_stories_source_id_sources"),
        sa.UniqueConstraint("url", name="uq_stories_url"),
        sa.UniqueConstraint("content_hash", name="uq_stories_content_hash"),
    )
    op.create_index("ix_stories_fetched_at", "stories", ["fetched_at"])
    op.create_index("ix_stories_published_at", "stories", ["published_at"])
    op.create_index("ix_stories_source_id", "stories", ["source_id"])
    op.create_table(
        "story_urls",
        sa.Column("id", ID, nullable=False),
        sa.Column("story_id", ID, nullable=False),
        sa.Column("source_id", ID, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_story_urls"),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name="fk_story_urls_story_id_stories", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name="fk_story_urls_source_id_sources"),
        sa.UniqueConstraint("url", name="uq_story_urls_url"),
    )
    op.create_index("ix_story_urls_story_id", "story_urls", ["story_id"])
    op.create_table(
        "crawl_runs",
        sa.Column("id", ID, nullable=False),
        sa.Column("source_id", ID, nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("links", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("duplicate", sa.Integer(), nullable=False),
        sa.Column("known", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_crawl_runs"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name="fk_crawl_runs_source_id_sources"),
    )
    op.create_index("ix_crawl_runs_source_id_started_at", "crawl_runs", ["source_id", "started_at"])
    op.create_table(
        "crawl_problems",
        sa.Column("id", ID, nullable=False),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_crawl_problems"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_runs.id"], name="fk_crawl_problems_run_id_crawl_runs", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_crawl_problems_run_id", "crawl_problems", ["run_id"])


def downgrade() -> None:
    op.drop_table("crawl_problems")
    op.drop_table("crawl_runs")
    op.drop_table("story_urls")
    op.drop_table("stories")
    op.drop_table("sources")
