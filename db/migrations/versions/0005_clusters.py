"""Near-duplicate clusters: story signatures and clusters, the LSH band index, story versions, one alert per
cluster and rule, follow-up messages in the outbox.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("cluster_id", ID, nullable=True))
        batch.add_column(sa.Column("signature", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("shingles", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("updated_at", UTCDateTime(), nullable=True))
        batch.create_foreign_key(
            "fk_stories_cluster_id_stories", "stories", ["cluster_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_stories_cluster_id", ["cluster_id"])
    op.create_table(
        "story_bands",
        sa.Column("band", sa.BigInteger(), nullable=False),
        sa.Column("story_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name="fk_story_bands_story_id_stories", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("band", "story_id", name="pk_story_bands"),
    )
    op.create_index("ix_story_bands_story_id", "story_bands", ["story_id"])
    op.create_table(
        "story_versions",
        sa.Column("id", ID, nullable=False),
        sa.Column("story_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.Column("replaced_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name="fk_story_versions_story_id_stories", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_story_versions"),
        sa.UniqueConstraint("story_id", "version", name="uq_story_versions_story_id_version"),
    )
    op.create_table(
        "cluster_alerts",
        sa.Column("cluster_id", ID, nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("story_id", ID, nullable=False),
        sa.Column("alerted_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["stories.id"], name="fk_cluster_alerts_cluster_id_stories", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name="fk_cluster_alerts_story_id_stories", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("cluster_id", "rule", name="pk_cluster_alerts"),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="alert"))
        batch.drop_constraint("uq_outbox_story_id_channel_digest", type_="unique")
        batch.create_unique_constraint("uq_outbox_story_id_channel_digest", ["story_id", "channel", "digest", "kind"])
    # Stories stored before have no signature and no cluster until `newsmon db upgrade` or a crawl places them.


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE kind <> 'alert'")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("uq_outbox_story_id_channel_digest", type_="unique")
        batch.create_unique_constraint("uq_outbox_story_id_channel_digest", ["story_id", "channel", "digest"])
        batch.drop_column("kind")
    op.drop_table("cluster_alerts")
    op.drop_table("story_versions")
    op.drop_index("ix_story_bands_story_id", table_name="story_bands")
    op.drop_table("story_bands")
    with op.batch_alter_table("stories") as batch:
        batch.drop_index("ix_stories_cluster_id")
        batch.drop_constraint("fk_stories_cluster_id_stories", type_="foreignkey")
        batch.drop_column("updated_at")
        batch.drop_column("version")
        batch.drop_column("shingles")
        batch.drop_column("signature")
        batch.drop_column("cluster_id")
