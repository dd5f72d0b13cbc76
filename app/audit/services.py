"""Reading the audit trail: filtered searches, one record's history, verifying the chain."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select

from app.audit.checkpoints import TrailVerification, latest_checkpoint
from app.audit.models import AuditCheckpoint
from app.core.audit import AuditAction, AuditEvent, ChainVerification, record_type_of, verify_chain
from app.core.audit_display import ReadableEvent, readable_events, type_label
from app.core.audit_labels import lookup_labels
from app.core.db import continue_read_only, utcnow
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


def _statement(filters: EventFilters) -> Select[Any]:
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
    return statement


@dataclass(frozen=True)
class EventPage:
    """One page of the log: the page of events and the same events as a person reads them."""

    page: Page[AuditEvent]
    items: list[ReadableEvent] = field(default_factory=list)


def search_events(filters: EventFilters, page: int, per_page: int) -> EventPage:
    """Events matching `filters`, newest first, one page at a time, read with one query for the
    names of every record the page mentions."""
    found = paginate(db.session, _statement(filters), page, per_page)
    return EventPage(found, readable_events(found.items))


def export_events(filters: EventFilters, batch_size: int = 1_000) -> Iterator[ReadableEvent]:
    """Every event matching `filters`, newest first, read a batch at a time (one query for the
    events and one for the names per batch), so memory stays flat however many match."""
    statement = _statement(filters)
    before: int | None = None
    while True:
        batch_statement = statement if before is None else statement.where(AuditEvent.id < before)
        batch = list(db.session.scalars(batch_statement.limit(batch_size)))
        yield from readable_events(batch)
        if len(batch) < batch_size:
            return
        before = batch[-1].id


def record_name(record_type: str | None, record_id: str | None) -> str | None:
    """How the log names one record it is filtered to ("CMP-2026-000123", "Customer: Acme")."""
    if not record_type or not record_id:
        return None
    names = lookup_labels(db.session, {record_type: [record_id]})
    name = names.get((record_type, record_id))
    return name if name is not None else f"{type_label(record_type)} {record_id}"


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


def record_types() -> list[tuple[str, str]]:
    """(record type, label) of every type in the trail, for the log's filter, by label."""
    stored = db.session.scalars(select(AuditEvent.record_type).distinct())
    return sorted(((t, type_label(t)) for t in stored), key=lambda pair: pair[1].lower())


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


@dataclass(frozen=True)
class VerificationPage:
    """What the verify page shows: the chain, the checkpoint findings, the latest checkpoint."""

    trail: TrailVerification | None
    chain: ChainVerification
    latest: AuditCheckpoint | None
    latest_age: timedelta | None
    key_problem: str | None = None

    @property
    def age_text(self) -> str:
        return describe_age(self.latest_age) if self.latest_age is not None else ""


def describe_age(age: timedelta) -> str:
    """'4 minutes', '3 hours 5 minutes', '2 days 1 hour': how old a checkpoint is."""
    minutes = max(int(age.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)

    def unit(number: int, name: str) -> str:
        return f"{number} {name}{'' if number == 1 else 's'}"

    if days:
        return unit(days, "day") + (f" {unit(hours, 'hour')}" if hours else "")
    if hours:
        return unit(hours, "hour") + (f" {unit(minutes, 'minute')}" if minutes else "")
    return unit(minutes, "minute") if minutes else "less than a minute"


def verify_with_checkpoints(
    now: datetime | None = None, progress: Callable[[int], None] | None = None
) -> VerificationPage:
    """Recompute the chain and check it against every stored checkpoint (read-only, like
    `verify`). A missing or unreadable key is reported, not raised: the chain is still shown."""
    from flask import current_app

    from app.audit.checkpoints import KeyProblem, trusted_public_key, verify_trail

    latest = latest_checkpoint(db.session)
    age = (now or utcnow()) - latest.created_at if latest is not None else None
    try:
        public_key = trusted_public_key(current_app.config)
    except KeyProblem as problem:
        return VerificationPage(None, verify(progress), latest, age, problem.message)
    continue_read_only(db.session)
    trail = verify_trail(db.session.connection(), public_key, progress=progress)
    return VerificationPage(trail, trail.chain, latest, age)


def checkpoint_text(page: VerificationPage) -> str:
    """What the signed checkpoints say about the trail, one finding per line (after the verdict)."""
    if page.key_problem:
        return f"Checkpoints not checked: {page.key_problem}\n"
    assert page.trail is not None
    return "".join(f"{line}\n" for line in page.trail.lines()[1:])
