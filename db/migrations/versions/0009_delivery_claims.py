"""Who is sending an outbox message (``claimed_by``, named like the scheduler lock's holder): a sender that
died is known dead at once on its own host, or when its scheduler lock is taken over, and what it had in
flight is taken back without waiting for its lease to run out.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("claimed_by", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claimed_by")
