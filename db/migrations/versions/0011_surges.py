"""Surge alerts: a rule with ``surge:`` remembers when it last fired, so that it fires once per surge and again
only after its window has passed with fewer outlets.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from db.models import Identifier, UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "surges",
        sa.Column("rule", sa.String(200), primary_key=True),
        sa.Column("fired_at", UTCDateTime(), nullable=False),
        sa.Column("story_id", Identifier, sa.ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("surges")
