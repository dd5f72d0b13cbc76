"""Reading the audit trail: filtered searches, one record's history, verifying the chain."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from app.core.audit import AuditAction, AuditEvent, ChainVerification, record_type_of, verify_chain
from app.core.db import continue_read_only
from app.core.pagination import Page, paginate
from app.extensions import db


@dataclass(frozen=True)
class EventFilters:
    record_type: str | None = None
    record_id: str | None = None
    actor: str | None = None
    action: AuditAction | None = None
    date_from: date | None = None
    date_to: date | None = None


def search_events(filters: EventFilters, page: int, per_page: int) -> Page[AuditEvent]:
    """Events matching `filters`, newest first, one page at a time."""
    statement = select(AuditEvent).order_by(AuditEvent.id.desc())
    if filters.record_type:
        statement = statement.where(AuditEvent.record_type == filters.record_type)
    if filters.record_id:
        statement = statement.where(AuditEvent.record_id == filters.record_id)
    if filters.actor:
        statement = statement.where(AuditEvent.actor == filters.actor.strip().lower())
    if filters.action:
        statement = statement.where(AuditEvent.action == filters.action)
    if filters.date_from:
        start = datetime.combine(filters.date_from, time.min, tzinfo=UTC)
        statement = statement.where(AuditEvent.occurred_at >= start)
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=UTC)
        statement = statement.where(AuditEvent.occurred_at < end)
    return paginate(db.session, statement, page, per_page)


def history_of(record: object) -> list[AuditEvent]:
    """Every event of one record, oldest first: the per-record history pages show."""
    identity = getattr(record, "id", None)
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.record_type == record_type_of(record),
                AuditEvent.record_id == str(identity),
            )
            .order_by(AuditEvent.id)
        )
    )


def record_types() -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.record_type).distinct().order_by(AuditEvent.record_type)
        )
    )


def chain_length() -> int:
    """How many events the trail holds (ids are gapless, so the head's id; cheap at any size)."""
    return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def verify(progress: Callable[[int], None] | None = None) -> ChainVerification:
    """Recompute the whole chain on this session's connection, in a read-only transaction (the
    request has nothing to write, and on SQLite writers need not wait for the seconds it takes)."""
    continue_read_only(db.session)
    return verify_chain(db.session.connection(), progress=progress)


def verification_text(result: ChainVerification) -> str:
    """The verification as an auditor keeps it: the verdict and both hashes, one per line."""
    verdict = (
        f"Intact: {result.count:,} events verified."
        if result.ok
        else f"Broken at event {result.broken_event_id}: {result.problem}. "
        f"The {result.count:,} events before it are intact."
    )
    return (
        f"{verdict}\n"
        f"Head hash (last intact event): {result.head_hash}\n"
        f"First event hash: {result.first_hash or '-'}\n"
    )
