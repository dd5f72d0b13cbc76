"""Full-text search: SQLite FTS5 or PostgreSQL full-text search, behind one mechanism.

Each searchable kind of record (documents, complaints) has one search table, named by a
`SearchIndex`, with one row per record: its key, a `title` (weighted higher) and a `body`. The
table lives outside the ORM's metadata, since the two databases keep it differently: an FTS5
virtual table on SQLite, a table with a generated `tsvector` column and a GIN index on PostgreSQL
(both created by the migrations; see `app.core.migration_support.UNMANAGED_TABLE_PREFIXES`).
Words are matched whole, all of them (AND), case-insensitively, on both; whatever a user types
is reduced to its words first, so quotes and FTS operators are never syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, column, text

from app.extensions import db

MAX_RESULTS = 1_000
MAX_WORDS = 20
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class SearchIndex:
    """One search table: `table` holds a row per record, keyed by the integer `key` column."""

    table: str
    key: str


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def words(query: str) -> list[str]:
    """The words of a typed query, lower-cased (punctuation, quotes and emoji dropped)."""
    return _WORD.findall((query or "").lower())[:MAX_WORDS]


def _fts5_query(found: list[str]) -> str:
    # Each word quoted, so FTS5 operators typed by a user are just words.
    return " ".join('"' + word.replace('"', "") + '"' for word in found)


def write_row(index: SearchIndex, key: int, title: str, body: str) -> None:
    """Replace the record's search row (for indexes kept by the application, not triggers)."""
    values = {"key": key, "title": title, "body": body}
    if _dialect() == "postgresql":
        db.session.execute(
            text(
                f"INSERT INTO {index.table} ({index.key}, title, body) "
                f"VALUES (:key, :title, :body) ON CONFLICT ({index.key}) "
                "DO UPDATE SET title = excluded.title, body = excluded.body"
            ),
            values,
        )
    else:
        db.session.execute(text(f"DELETE FROM {index.table} WHERE {index.key} = :key"), values)
        db.session.execute(
            text(
                f"INSERT INTO {index.table} ({index.key}, title, body) VALUES (:key, :title, :body)"
            ),
            values,
        )


def _matches(index: SearchIndex, found: list[str]) -> Any:
    if _dialect() == "postgresql":
        return text(
            f"SELECT {index.key} FROM {index.table} WHERE tsv @@ plainto_tsquery('simple', :q)"
        ).bindparams(q=" ".join(found))
    return text(f"SELECT {index.key} FROM {index.table} WHERE {index.table} MATCH :q").bindparams(
        q=_fts5_query(found)
    )


def matching_clause(index: SearchIndex, query: str, id_column: Any) -> Any:
    """A WHERE clause keeping the rows whose `id_column` is a record matching every word of
    `query` (none when the query has no words) — for lists that order and page in the database
    themselves, so the search reads only the index."""
    found = words(query)
    if not found:
        return id_column.in_([])
    return id_column.in_(_matches(index, found).columns(column(index.key, Integer)))


def matching_ids(index: SearchIndex, query: str) -> list[int]:
    """The keys of the records holding every word of `query`, best first (at most
    MAX_RESULTS; none when the query has no words)."""
    found = words(query)
    if not found:
        return []
    if _dialect() == "postgresql":
        rows = db.session.execute(
            text(
                f"SELECT {index.key} FROM {index.table} "
                "WHERE tsv @@ plainto_tsquery('simple', :q) "
                f"ORDER BY ts_rank(tsv, plainto_tsquery('simple', :q)) DESC, {index.key} "
                "LIMIT :limit"
            ),
            {"q": " ".join(found), "limit": MAX_RESULTS},
        )
    else:
        rows = db.session.execute(
            text(
                f"SELECT {index.key} FROM {index.table} WHERE {index.table} MATCH :q "
                f"ORDER BY rank, {index.key} LIMIT :limit"
            ),
            {"q": _fts5_query(found), "limit": MAX_RESULTS},
        )
    return [int(row[0]) for row in rows]
