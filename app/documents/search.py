"""Full-text search over document titles and text, on the shared mechanism of `app.core.search`.

Each document has one search row: its number and title, and the text of the revision in force
(or, before any is, of its latest revision), written by the document services on every change.
"""

from __future__ import annotations

from typing import Any

from app.core import search
from app.documents.models import ContentKind, ControlledDocument, RevisionStatus
from app.extensions import db

DOCUMENT_INDEX = search.SearchIndex(table="document_search", key="document_id")
MAX_RESULTS = search.MAX_RESULTS


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
    search.write_row(
        DOCUMENT_INDEX,
        document.id,
        f"{document.number} {document.title}",
        _searchable_text(document),
    )


def matching_clause(query: str, id_column: Any) -> Any:
    """A WHERE clause keeping the rows whose `id_column` is a document matching every word of
    `query` — for the register, which orders and pages in the database itself."""
    return search.matching_clause(DOCUMENT_INDEX, query, id_column)


def matching_documents(query: str) -> list[int]:
    """The ids of documents whose title or text holds every word of `query`, best first."""
    return search.matching_ids(DOCUMENT_INDEX, query)
