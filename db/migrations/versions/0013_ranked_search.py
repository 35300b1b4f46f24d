"""PostgreSQL search ranked by its index: a RUM index on stories.search_vector in place of the GIN index, where
the server has the rum extension (db.search says why). Without it the GIN index stays and search ranks with
ts_rank, as before, and the migration says once what to install.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

import logging

from alembic import op

from db.search import RANKED_INDEX, SEARCH_COLUMN, SEARCH_INDEX, rum_installable

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

logger = logging.getLogger("db.migrations")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    installable, reason = rum_installable(bind)
    if not installable:
        logger.warning("search keeps its GIN index and ranks more slowly on common words: %s", reason)
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS rum")
    op.execute(f"CREATE INDEX IF NOT EXISTS {RANKED_INDEX} ON stories USING rum ({SEARCH_COLUMN} rum_tsvector_ops)")
    op.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")  # RUM answers @@ too: one index, not two


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON stories USING gin ({SEARCH_COLUMN})")
    op.execute(f"DROP INDEX IF EXISTS {RANKED_INDEX}")
