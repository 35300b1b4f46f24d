"""When a story's listing (feed item, sitemap entry) dated it, beside its page's own date: a story is news when
either is recent (alerts.max_age), so an old page that a listing brings up again as new alerts.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("stories", sa.Column("listed_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.drop_column("listed_at")
