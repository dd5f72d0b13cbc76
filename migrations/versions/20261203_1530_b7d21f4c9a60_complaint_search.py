"""complaint search

Full-text search over complaint reference, title, external id, customer name (the weighted
"title") and description (the "body"), on the mechanism of app.core.search: an FTS5 virtual
table on SQLite, a table with a generated tsvector and a GIN index on PostgreSQL, both kept out
of the models' metadata. Triggers keep it current on every write path (forms, API, import, bulk
seeding, customer renames); the upgrade indexes the complaints already stored. On PostgreSQL
the document search's tsvector now splits words as FTS5 does (ids like "SOP-0042" are found).

Revision ID: b7d21f4c9a60
Revises: e4a6c8f0b213
Create Date: 2026-12-03 15:30:00.000000+00:00
"""

from alembic import op

revision = "b7d21f4c9a60"
down_revision = "e4a6c8f0b213"
branch_labels = None
depends_on = None

# The searched fields of complaint row `c`, with `customer_name` its customer's name or NULL.
_TITLE = "{c}.reference || ' ' || {c}.title || ' ' || coalesce({c}.external_id, '') || ' ' || coalesce({n}, '')"
_BODY = "coalesce({c}.description, '')"
_CUSTOMER_NAME = "(SELECT name FROM customer WHERE customer.id = {c}.customer_id)"
_WATCHED = "reference, title, description, external_id, customer_id"


def _title(row: str, name: str | None = None) -> str:
    return _TITLE.format(c=row, n=name or _CUSTOMER_NAME.format(c=row))


def _body(row: str) -> str:
    return _BODY.format(c=row)


# PostgreSQL's parser reads "CFPB-3141592" as a word and a negative number, and "comcast.net" as
# one host name; splitting at every non-word character first makes its words those of FTS5's
# unicode61 tokenizer and of app.core.search.words, so a pasted id or address is found alike.
_WORDS_ONLY = "regexp_replace({field}, '[^[:alnum:]_]+', ' ', 'g')"
_TSV = (
    "setweight(to_tsvector('simple', {title}), 'A') || "
    "setweight(to_tsvector('simple', {body}), 'B')"
)
_TSV_WORDS = _TSV.format(
    title=_WORDS_ONLY.format(field="title"), body=_WORDS_ONLY.format(field="body")
)


def _rebuild_document_tsv(expression: str) -> None:
    op.execute("ALTER TABLE document_search DROP COLUMN tsv")
    op.execute(
        f"ALTER TABLE document_search ADD COLUMN tsv tsvector GENERATED ALWAYS AS ({expression})"
        " STORED"
    )
    op.execute("CREATE INDEX ix_document_search_tsv ON document_search USING gin (tsv)")


def _upgrade_postgresql() -> None:
    _rebuild_document_tsv(_TSV_WORDS)
    op.execute(
        "CREATE TABLE complaint_search ("
        " complaint_id INTEGER PRIMARY KEY REFERENCES complaint (id) ON DELETE CASCADE,"
        " title TEXT NOT NULL,"
        " body TEXT NOT NULL,"
        f" tsv tsvector GENERATED ALWAYS AS ({_TSV_WORDS}) STORED)"
    )
    op.execute("CREATE INDEX ix_complaint_search_tsv ON complaint_search USING gin (tsv)")
    upsert = (
        "INSERT INTO complaint_search (complaint_id, title, body) {rows} "
        "ON CONFLICT (complaint_id) DO UPDATE SET title = excluded.title, body = excluded.body"
    )
    op.execute(
        "CREATE FUNCTION complaint_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        + upsert.format(rows=f"VALUES (NEW.id, {_title('NEW')}, {_body('NEW')})")
        + "; RETURN NEW; END $$"
    )
    op.execute(
        f"CREATE TRIGGER complaint_search_refresh AFTER INSERT OR UPDATE OF {_WATCHED} "
        "ON complaint FOR EACH ROW EXECUTE FUNCTION complaint_search_refresh()"
    )
    op.execute(
        "CREATE FUNCTION complaint_search_customer_renamed() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        + upsert.format(
            rows=f"SELECT c.id, {_title('c', 'NEW.name')}, {_body('c')} "
            "FROM complaint c WHERE c.customer_id = NEW.id"
        )
        + "; RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER complaint_search_customer_renamed AFTER UPDATE OF name ON customer "
        "FOR EACH ROW EXECUTE FUNCTION complaint_search_customer_renamed()"
    )
    op.execute(upsert.format(rows=f"SELECT c.id, {_title('c')}, {_body('c')} FROM complaint c"))


def _upgrade_sqlite() -> None:
    # The FTS5 rowid is the complaint id, so a trigger replaces a row by rowid (no table scan).
    op.execute(
        "CREATE VIRTUAL TABLE complaint_search USING fts5("
        "complaint_id UNINDEXED, title, body, tokenize = 'unicode61 remove_diacritics 2')"
    )
    insert = "INSERT INTO complaint_search (rowid, complaint_id, title, body) "
    op.execute(
        "CREATE TRIGGER complaint_search_insert AFTER INSERT ON complaint BEGIN "
        + insert
        + f"VALUES (NEW.id, NEW.id, {_title('NEW')}, {_body('NEW')}); END"
    )
    op.execute(
        f"CREATE TRIGGER complaint_search_update AFTER UPDATE OF {_WATCHED} ON complaint BEGIN "
        "DELETE FROM complaint_search WHERE rowid = OLD.id; "
        + insert
        + f"VALUES (NEW.id, NEW.id, {_title('NEW')}, {_body('NEW')}); END"
    )
    op.execute(
        "CREATE TRIGGER complaint_search_delete AFTER DELETE ON complaint BEGIN "
        "DELETE FROM complaint_search WHERE rowid = OLD.id; END"
    )
    op.execute(
        "CREATE TRIGGER complaint_search_customer_renamed AFTER UPDATE OF name ON customer BEGIN "
        "DELETE FROM complaint_search WHERE rowid IN "
        "(SELECT id FROM complaint WHERE customer_id = NEW.id); "
        + insert
        + f"SELECT c.id, c.id, {_title('c', 'NEW.name')}, {_body('c')} "
        "FROM complaint c WHERE c.customer_id = NEW.id; END"
    )
    op.execute(insert + f"SELECT c.id, c.id, {_title('c')}, {_body('c')} FROM complaint c")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER complaint_search_customer_renamed ON customer")
        op.execute("DROP TRIGGER complaint_search_refresh ON complaint")
        op.execute("DROP FUNCTION complaint_search_customer_renamed()")
        op.execute("DROP FUNCTION complaint_search_refresh()")
        _rebuild_document_tsv(_TSV.format(title="title", body="body"))
    else:
        for trigger in ("insert", "update", "delete", "customer_renamed"):
            op.execute(f"DROP TRIGGER complaint_search_{trigger}")
    op.execute("DROP TABLE complaint_search")
