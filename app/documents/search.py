"""Full-text search over document titles and text: SQLite FTS5 or PostgreSQL full-text search,
behind one service.

Each document has one search row: its number and title, and the text of the revision in force
(or, before any is, of its latest revision). The row lives outside the ORM's metadata, since the
two databases keep it differently: an FTS5 virtual table on SQLite, a table with a generated
`tsvector` column and a GIN index on PostgreSQL (both created by the migration). Words are
matched whole, all of them (AND), case-insensitively, on both.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Integer, column, text

from app.documents.models import ContentKind, ControlledDocument, RevisionStatus
from app.extensions import db

MAX_RESULTS = 1_000
_WORD = re.compile(r"\w+", re.UNICODE)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _searchable_text(document: ControlledDocument) -> str:
    revisions = document.revisions
    shown = next((r for r in revisions if r.status == RevisionStatus.EFFECTIVE), None)
    shown = shown or (revisions[-1] if revisions else None)
    if shown is None or shown.content_kind == ContentKind.FILE:
        return shown.filename or "" if shown else ""
    return shown.body_markdown


def index_document(document: ControlledDocument) -> None:
    """Bring the document's search row up to date (call after any change of its text)."""
    db.session.flush()
    values = {
        "document_id": document.id,
        "title": f"{document.number} {document.title}",
        "body": _searchable_text(document),
    }
    if _dialect() == "postgresql":
        db.session.execute(
            text(
                "INSERT INTO document_search (document_id, title, body) "
                "VALUES (:document_id, :title, :body) ON CONFLICT (document_id) "
                "DO UPDATE SET title = excluded.title, body = excluded.body"
            ),
            values,
        )
    else:
        db.session.execute(
            text("DELETE FROM document_search WHERE document_id = :document_id"), values
        )
        db.session.execute(
            text(
                "INSERT INTO document_search (document_id, title, body) "
                "VALUES (:document_id, :title, :body)"
            ),
            values,
        )


def _words(query: str) -> list[str]:
    return _WORD.findall(query.lower())[:20]


def _fts5_query(words: list[str]) -> str:
    # Each word quoted, so FTS5 operators typed by a user are just words.
    return " ".join('"' + word.replace('"', "") + '"' for word in words)


def matching_clause(query: str, id_column: Any) -> Any:
    """A WHERE clause keeping the rows whose `id_column` is a document matching every word of
    `query` — for the register, which orders and pages in the database itself (no ranking
    needed, so the search reads only the index)."""
    words = _words(query)
    if not words:
        return id_column.in_([])
    if _dialect() == "postgresql":
        matches = text(
            "SELECT document_id FROM document_search WHERE tsv @@ plainto_tsquery('simple', :q)"
        ).bindparams(q=" ".join(words))
    else:
        matches = text(
            "SELECT document_id FROM document_search WHERE document_search MATCH :q"
        ).bindparams(q=_fts5_query(words))
    return id_column.in_(matches.columns(column("document_id", Integer)))


def matching_documents(query: str) -> list[int]:
    """The ids of documents whose title or text holds every word of `query`, best first."""
    words = _words(query)
    if not words:
        return []
    if _dialect() == "postgresql":
        rows = db.session.execute(
            text(
                "SELECT document_id FROM document_search "
                "WHERE tsv @@ plainto_tsquery('simple', :q) "
                "ORDER BY ts_rank(tsv, plainto_tsquery('simple', :q)) DESC, document_id "
                "LIMIT :limit"
            ),
            {"q": " ".join(words), "limit": MAX_RESULTS},
        )
    else:
        match = _fts5_query(words)
        rows = db.session.execute(
            text(
                "SELECT document_id FROM document_search WHERE document_search MATCH :q "
                "ORDER BY rank, document_id LIMIT :limit"
            ),
            {"q": match, "limit": MAX_RESULTS},
        )
    return [int(row[0]) for row in rows]
