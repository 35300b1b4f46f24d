"""SQLite's full-text table keeps no copy of the text: a contentless FTS5 table (``content=''``), rebuilt from
the stories. Nothing ever read the copy (search ranks with bm25 in the index and checks each candidate against
stories.text), and it was three tenths of an archive's size. PostgreSQL is unchanged.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from alembic import op
from sqlalchemy.orm import Session

from db.search import SEARCH_TABLE, index_archive

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _rebuild(options: str) -> None:
    op.execute(f"DROP TABLE {SEARCH_TABLE}")
    op.execute(f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5(title, text, tokenize='ascii'{options})")
    index_archive(Session(bind=op.get_bind()))


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(", content=''")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild("")
