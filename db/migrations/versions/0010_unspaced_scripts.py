"""Stories in scripts written without spaces (Chinese, Japanese, Thai, Lao, Khmer, Burmese) indexed again: their
text is now read as overlapping pairs of characters (newsmon.words), so a word inside a sentence is found. Only
the stories holding such letters are read again; the others' index entries are unchanged.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from db.search import index_stories
from newsmon.words import has_unspaced

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    session = Session(bind=bind)
    last_id = 0
    while True:
        rows = bind.execute(
            sa.text("SELECT id, title, text FROM stories WHERE id > :last ORDER BY id LIMIT 500"), {"last": last_id}
        ).all()
        unspaced = [(row[0], row[1], row[2]) for row in rows if has_unspaced(row[1]) or has_unspaced(row[2])]
        index_stories(session, unspaced, replace=True)
        if len(rows) < 500:
            break
        last_id = rows[-1][0]
    session.flush()


def downgrade() -> None:
    """Nothing to undo: the entries are valid words either way (a search finds less without the pairs)."""
