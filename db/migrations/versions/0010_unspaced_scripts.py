"""Stories in scripts written without spaces (Chinese, Japanese, Thai, Lao, Khmer, Burmese) indexed again: their
text is now read as overlapping pairs of characters (newsmon.words), so a word inside a sentence is found. Only
the stories holding such letters are read again; the others' index entries are unchanged.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from alembic import op
from sqlalchemy.orm import Session

from db.search import index_archive
from newsmon.words import has_unspaced

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    index_archive(Session(bind=op.get_bind()), which=lambda title, body: has_unspaced(title) or has_unspaced(body),
                  replace=True)


def downgrade() -> None:
    """Nothing to undo: the entries are valid words either way (a search finds less without the pairs)."""
