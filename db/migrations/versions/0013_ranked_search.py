"""PostgreSQL search ranked by its index: a RUM index on stories.search_vector in place of the GIN index, where
the server has the rum extension (db.search says why). Without it the GIN index stays and search ranks with
ts_rank, as before, and the migration says once what to install; `newsmon db upgrade` makes the index later.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

import logging

from alembic import op

from db.search import RANKED_INDEX, SEARCH_COLUMN, SEARCH_INDEX, ensure_ranked_index

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

logger = logging.getLogger("db.migrations")


def upgrade() -> None:
    ranked, reason = ensure_ranked_index(op.get_bind())
    if not ranked:
        logger.warning("search keeps its GIN index and ranks more slowly on common words: %s; install it and "
                       "run `newsmon db upgrade` again", reason)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON stories USING gin ({SEARCH_COLUMN})")
    op.execute(f"DROP INDEX IF EXISTS {RANKED_INDEX}")
