"""A counter of changes to controlled records, kept in the database so every worker and host sees
the same value: caches of figures derived from the records (the dashboard's) key their entries by
it, so a write anywhere makes every cached figure stale at once.

It is bumped in the transaction of every audited create, update, delete or transition (by
`app.core.audit.append_events`, the one place every audited write passes through: ORM capture, the
bulk import and the demo seeding alike). Audit writers already serialise on the chain head, so the
extra UPDATE adds no contention of its own.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.db import Base

RECORDS = "records"


class DataVersion(Base):
    __tablename__ = "data_version"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


def bump(connection: Connection, name: str = RECORDS) -> None:
    """Count one more change (in the connection's current transaction)."""
    changed = connection.execute(
        update(DataVersion).where(DataVersion.name == name).values(version=DataVersion.version + 1)
    )
    if changed.rowcount == 0:  # the migration seeds the row; a database made otherwise may not
        connection.execute(DataVersion.__table__.insert().values(name=name, version=1))


def current(session: Session, name: str = RECORDS) -> int:
    """The counter as this transaction sees it (0 before the first change)."""
    return session.scalar(select(DataVersion.version).where(DataVersion.name == name)) or 0
