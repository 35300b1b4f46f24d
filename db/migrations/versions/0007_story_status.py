"""Stories say what they are (article | teaser | paywalled | not_article) and when the page says it was last
updated, apart from when it was published (see crawler.extract).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN on both engines: no copy of the stories table (SQLite's batch mode would rebuild it).
    op.add_column("stories", sa.Column("status", sa.String(16), nullable=False, server_default="article"))
    op.add_column("stories", sa.Column("modified_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.drop_column("modified_at")
        batch.drop_column("status")
