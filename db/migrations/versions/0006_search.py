"""Full-text search: an FTS5 table on SQLite, a tsvector column with a GIN index on PostgreSQL, filled with
the stories already stored (see db.search).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from alembic import op
from sqlalchemy.orm import Session

from db.search import SEARCH_COLUMN, SEARCH_INDEX, SEARCH_TABLE, index_archive

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"ALTER TABLE stories ADD COLUMN {SEARCH_COLUMN} tsvector")
        op.execute(f"CREATE INDEX {SEARCH_INDEX} ON stories USING gin ({SEARCH_COLUMN})")
    else:
        # The folded words are split at their spaces by the ascii tokenizer (every non-ASCII character is part
        # of a word to it, so Cyrillic, Greek and Devanagari words stay whole).
        op.execute(f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5(title, text, tokenize='ascii')")
    index_archive(Session(bind=bind))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX {SEARCH_INDEX}")
        op.execute(f"ALTER TABLE stories DROP COLUMN {SEARCH_COLUMN}")
    else:
        op.execute(f"DROP TABLE {SEARCH_TABLE}")
