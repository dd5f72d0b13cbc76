"""Human reference numbers: CMP-2026-000123, NC-2026-000045, CAPA-2026-000007.

One counter row per (prefix, year), incremented inside the caller's transaction. PostgreSQL locks
the row (`FOR UPDATE`); SQLite transactions are serialised by `BEGIN IMMEDIATE`. Either way two
records can never get the same number, and a rolled-back transaction gives its number back.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.db import Base


class ReferenceCounter(Base):
    __tablename__ = "reference_counter"

    prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


def next_reference(session: Session, prefix: str, year: int) -> str:
    """The next reference for `prefix` in `year`, e.g. next_reference(s, "CMP", 2026)."""
    counter = session.scalar(
        select(ReferenceCounter)
        .where(ReferenceCounter.prefix == prefix, ReferenceCounter.year == year)
        .with_for_update()
    )
    if counter is None:
        counter = ReferenceCounter(prefix=prefix, year=year, last_value=0)
        session.add(counter)
    counter.last_value += 1
    session.flush()
    return format_reference(prefix, year, counter.last_value)


def format_reference(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:06d}"


def next_references(session: Session, prefix: str, year: int, count: int) -> list[str]:
    """`count` consecutive new references for `prefix` in `year`, taken with one counter update
    (bulk imports); the same locking as `next_reference`."""
    if count <= 0:
        return []
    counter = session.scalar(
        select(ReferenceCounter)
        .where(ReferenceCounter.prefix == prefix, ReferenceCounter.year == year)
        .with_for_update()
    )
    if counter is None:
        counter = ReferenceCounter(prefix=prefix, year=year, last_value=0)
        session.add(counter)
    first = counter.last_value + 1
    counter.last_value += count
    session.flush()
    return [format_reference(prefix, year, number) for number in range(first, first + count)]
