"""Human reference numbers: CMP-2026-000123, NC-2026-000045, CAPA-2026-000007.

One counter row per (prefix, year), incremented inside the caller's transaction by a single
upsert (`take_numbers`): the row stays locked until the transaction ends, so two records can never
get the same number, concurrent first numbers of a year included, and a rolled-back transaction
gives its number back.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.db import Base


class ReferenceCounter(Base):
    __tablename__ = "reference_counter"

    prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


# The same SQL on SQLite and PostgreSQL, written once: the dialects' insert constructs are not
# cached by SQLAlchemy and would be compiled anew for every record.
_TAKE = text(
    "INSERT INTO reference_counter (prefix, year, last_value) VALUES (:prefix, :year, :count) "
    "ON CONFLICT (prefix, year) DO UPDATE "
    "SET last_value = reference_counter.last_value + excluded.last_value "
    "RETURNING last_value"
)


def take_numbers(session: Session, prefix: str, year: int, count: int = 1) -> int:
    """Add `count` to the (prefix, year) counter, creating it at zero, and return its new last
    value: one upsert, so even two transactions taking the first number of a year at once queue
    on the row instead of both inserting it (PostgreSQL answered one of them with a unique
    violation when this was a read-then-insert)."""
    found = session.execute(_TAKE, {"prefix": prefix, "year": year, "count": count})
    return int(found.scalar_one())


def next_reference(session: Session, prefix: str, year: int) -> str:
    """The next reference for `prefix` in `year`, e.g. next_reference(s, "CMP", 2026)."""
    return format_reference(prefix, year, take_numbers(session, prefix, year))


def format_reference(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:06d}"


def next_references(session: Session, prefix: str, year: int, count: int) -> list[str]:
    """`count` consecutive new references for `prefix` in `year`, taken with one counter update
    (bulk imports); the same locking as `next_reference`."""
    if count <= 0:
        return []
    last = take_numbers(session, prefix, year, count)
    return [format_reference(prefix, year, number) for number in range(last - count + 1, last + 1)]
