"""The background service: one scheduler per database, per-source polling state, health notices in the outbox.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "scheduler_lock",
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("acquired_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_scheduler_lock"),
    )
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("poll_every", sa.Float(), nullable=True))
        batch.add_column(sa.Column("next_poll_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("health_status", sa.String(16), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("story_id", existing_type=ID, nullable=True)
        batch.add_column(sa.Column("notice", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE story_id IS NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("notice")
        batch.alter_column("story_id", existing_type=ID, nullable=False)
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("health_status")
        batch.drop_column("next_poll_at")
        batch.drop_column("poll_every")
    op.drop_table("scheduler_lock")
