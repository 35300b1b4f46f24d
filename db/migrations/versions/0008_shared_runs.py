"""Crawl runs shared by several workers (scale-out, ``newsmon run --role``): a run is opened by the scheduler
with one pending request (its listing), every worker adds what it did and what it queued, and the run is
finished by whichever worker brings ``pending`` to zero (see db.runs). The listing's validators and freshness
wait on the run until then.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN on both engines: runs of the single-machine mode leave them empty.
    op.add_column("crawl_runs", sa.Column("pending", sa.Integer(), nullable=True))
    op.add_column("crawl_runs", sa.Column("not_modified", sa.Boolean(), nullable=True))
    op.add_column("crawl_runs", sa.Column("etag", sa.Text(), nullable=True))
    op.add_column("crawl_runs", sa.Column("last_modified", sa.Text(), nullable=True))
    op.add_column("crawl_runs", sa.Column("max_age", sa.Float(), nullable=True))
    op.add_column("crawl_runs", sa.Column("retry_after", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch:
        for column in ("retry_after", "max_age", "last_modified", "etag", "not_modified", "pending"):
            batch.drop_column(column)
