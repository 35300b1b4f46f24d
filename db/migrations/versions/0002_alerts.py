"""Alerts: when a story was matched, which rules matched it, the outbox and its delivery attempts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("matched_at", UTCDateTime(), nullable=True))
        batch.create_index("ix_stories_matched_at", ["matched_at"])
    # Stories archived before alerts existed count as seen: upgrading must not flood the channels.
    op.execute("UPDATE stories SET matched_at = fetched_at")
    op.create_table(
        "rule_matches",
        sa.Column("id", ID, nullable=False),
        sa.Column("story_id", ID, nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("matched_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rule_matches"),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name="fk_rule_matches_story_id_stories", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("rule", "story_id", name="uq_rule_matches_rule_story_id"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", ID, nullable=False),
        sa.Column("story_id", ID, nullable=False),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], name="fk_outbox_story_id_stories", ondelete="CASCADE"),
        sa.UniqueConstraint("story_id", "channel", "digest", name="uq_outbox_story_id_channel_digest"),
    )
    op.create_index("ix_outbox_status_due_at", "outbox", ["status", "due_at"])
    op.create_table(
        "delivery_attempts",
        sa.Column("id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("attempted_at", UTCDateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_attempts"),
        sa.ForeignKeyConstraint(
            ["message_id"], ["outbox.id"], name="fk_delivery_attempts_message_id_outbox", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_delivery_attempts_message_id", "delivery_attempts", ["message_id"])


def downgrade() -> None:
    op.drop_table("delivery_attempts")
    op.drop_table("outbox")
    op.drop_table("rule_matches")
    with op.batch_alter_table("stories") as batch:
        batch.drop_index("ix_stories_matched_at")
        batch.drop_column("matched_at")
