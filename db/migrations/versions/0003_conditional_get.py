"""Conditional GET: each source keeps the ETag and Last-Modified of its last complete listing read.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("etag", sa.Text(), nullable=True))
        batch.add_column(sa.Column("last_modified", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("last_modified")
        batch.drop_column("etag")
