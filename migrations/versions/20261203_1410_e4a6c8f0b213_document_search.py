"""document search

Full-text search over document titles and text: an FTS5 virtual table on SQLite, a table with a
generated tsvector and a GIN index on PostgreSQL. Kept out of the models' metadata (see
app.core.migration_support.include_name), since each database holds it differently.

Revision ID: e4a6c8f0b213
Revises: 9cf074dcfd08
Create Date: 2026-12-03 14:10:00.000000+00:00
"""

from alembic import op

revision = "e4a6c8f0b213"
down_revision = "9cf074dcfd08"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE document_search ("
            " document_id INTEGER PRIMARY KEY REFERENCES controlled_document (id),"
            " title TEXT NOT NULL,"
            " body TEXT NOT NULL,"
            " tsv tsvector GENERATED ALWAYS AS"
            " (setweight(to_tsvector('simple', title), 'A') ||"
            " setweight(to_tsvector('simple', body), 'B')) STORED)"
        )
        op.execute("CREATE INDEX ix_document_search_tsv ON document_search USING gin (tsv)")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE document_search USING fts5("
            "document_id UNINDEXED, title, body, tokenize = 'unicode61 remove_diacritics 2')"
        )


def downgrade() -> None:
    op.execute("DROP TABLE document_search")
