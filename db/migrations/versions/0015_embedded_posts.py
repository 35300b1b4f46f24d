"""The posts a story embeds (tweets, Instagram, Telegram...), kept apart from its text: shown with the story,
never matched by the rules or found by search (crawler.embeds). Stories stored before keep them in their text.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("stories", sa.Column("embedded", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.drop_column("embedded")
