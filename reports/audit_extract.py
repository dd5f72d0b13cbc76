"""The audit-trail extract: every event of one record, or of a period, with its field changes, and
the verification of the hash chain.

The verification has two parts. The whole chain is recomputed (`app.core.audit.verify_chain`),
which proves that nothing before the chain's head was changed, removed or reordered. Then each event
of the extract is hashed again (`event_hash`) and, for a period (whose events are consecutive),
each event's `prev_hash` is checked against the event before it. The first and last hashes of the
extract are printed so they can be compared with the live trail later."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from app.audit.checkpoints import covering_checkpoint, latest_checkpoint
from app.capa import services as capa_services
from app.complaints import services as complaint_services
from app.core.audit import AuditEvent, event_hash, verify_chain
from app.core.audit_display import readable_events
from app.core.db import utcnow
from app.extensions import db
from app.nonconformities import services as nc_services
from reports.base import Report, ReportError, event_data, report_data, when

# An extract prints every event with its changes; beyond this, ask for a narrower period.
MAX_EVENTS = 5_000
RECORD_TYPE_MAX_LENGTH = 80


@dataclass(frozen=True)
class ExtractScope:
    """One record (by type and id, `label` naming it) and/or a period of whole UTC days."""

    record_type: str | None = None
    record_id: str | None = None
    label: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    @property
    def is_record(self) -> bool:
        return bool(self.record_type and self.record_id)


def record_scope(reference: str) -> tuple[str, str, str]:
    """(record_type, record_id, reference) of the complaint, nonconformity or CAPA `reference`.

    Raises ReportError (field "reference") when no such record exists."""
    text = (reference or "").strip().upper()
    found: Any = None
    record_type = ""
    if text.startswith("CMP-"):
        found, record_type = complaint_services.get_by_reference(text), "complaint"
    elif text.startswith("NC-"):
        found, record_type = nc_services.get_by_reference(text), "nonconformity"
    elif text.startswith("CAPA-"):
        found, record_type = capa_services.capa_by_reference(text), "capa"
    if found is None:
        raise ReportError(
            f"No complaint, nonconformity or CAPA has the reference “{reference}”.",
            field="reference",
        )
    return record_type, str(found.id), found.reference


def check_scope(scope: ExtractScope) -> None:
    """Refuse a scope that is neither a record nor a complete period (ReportError)."""
    if bool(scope.record_type) != bool(scope.record_id):
        raise ReportError("Give both the record type and the record id.", field="record_id")
    if scope.record_type and len(scope.record_type) > RECORD_TYPE_MAX_LENGTH:
        raise ReportError("That record type is too long.", field="record_type")
    if not scope.is_record and not (scope.date_from and scope.date_to):
        raise ReportError(
            "Choose a record, or a period with both a start and an end date.", field="date_from"
        )
    if scope.date_from and scope.date_to and scope.date_to < scope.date_from:
        raise ReportError("The end date is before the start date.", field="date_to")


def _statement(scope: ExtractScope) -> Any:
    conditions = []
    if scope.is_record:
        conditions.append(AuditEvent.record_type == scope.record_type)
        conditions.append(AuditEvent.record_id == scope.record_id)
    if scope.date_from:
        start = datetime.combine(scope.date_from, time.min, tzinfo=UTC)
        conditions.append(AuditEvent.occurred_at >= start)
    if scope.date_to:
        end = datetime.combine(scope.date_to + timedelta(days=1), time.min, tzinfo=UTC)
        conditions.append(AuditEvent.occurred_at < end)
    return conditions


def _filters(scope: ExtractScope) -> list[tuple[str, str]]:
    filters = []
    if scope.is_record:
        filters.append(("Record", scope.label or f"{scope.record_type} {scope.record_id}"))
        filters.append(("Record type", str(scope.record_type)))
    if scope.date_from:
        filters.append(("From", scope.date_from.isoformat()))
    if scope.date_to:
        filters.append(("To", scope.date_to.isoformat()))
    return filters


def _extract_verification(events: list[AuditEvent], consecutive: bool) -> dict[str, Any]:
    mismatched = [
        event.id
        for event in events
        if event_hash(
            {
                "id": event.id,
                "occurred_at": event.occurred_at,
                "actor": event.actor,
                "actor_user_id": event.actor_user_id,
                "action": event.action,
                "record_type": event.record_type,
                "record_id": event.record_id,
                "changes": event.changes,
                "reason": event.reason,
                "request_id": event.request_id,
                "remote_addr": event.remote_addr,
                "prev_hash": event.prev_hash,
            }
        )
        != event.hash
    ]
    broken_links = (
        [
            later.id
            for earlier, later in itertools.pairwise(events)
            if later.prev_hash != earlier.hash or later.id != earlier.id + 1
        ]
        if consecutive
        else []
    )
    return {
        "events_recomputed": len(events),
        "mismatched_event_ids": mismatched,
        "links_checked": consecutive,
        "broken_link_event_ids": broken_links,
        "first_event_id": events[0].id if events else None,
        "last_event_id": events[-1].id if events else None,
        "first_hash": events[0].hash if events else None,
        "last_hash": events[-1].hash if events else None,
        "first_prev_hash": events[0].prev_hash if events else None,
    }


def extract_size(scope: ExtractScope) -> int:
    """How many events the extract of `scope` holds (check the scope first)."""
    return (
        db.session.scalar(select(func.count()).select_from(AuditEvent).where(*_statement(scope)))
        or 0
    )


def _checkpoint_data(last_event_id: int) -> dict[str, Any]:
    """The signed checkpoint that covers the extract's last event (so all of it), if one does."""
    found = covering_checkpoint(db.session, last_event_id)
    if found is None:
        latest = latest_checkpoint(db.session)
        note = (
            "No signed checkpoint covers these events yet (the latest, "
            f"#{latest.id}, ends at event {latest.head_event_id})."
            if latest is not None
            else "No signed checkpoint exists yet: nothing outside the database anchors the trail."
        )
        return {"covered": False, "note": note}
    return {
        "covered": True,
        "id": found.id,
        "created_at": found.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        "event_count": found.event_count,
        "head_event_id": found.head_event_id,
        "head_hash": found.head_hash,
        "key_id": found.key_id,
        "signature": found.signature,
    }


def gather_audit_extract(scope: ExtractScope, now: datetime | None = None) -> Report:
    """The extract of the events `scope` selects, oldest first, with the chain verification.

    Raises ReportError for an incomplete or reversed scope, or one with more than MAX_EVENTS."""
    check_scope(scope)
    conditions = _statement(scope)
    total = extract_size(scope)
    if total and total > MAX_EVENTS:
        raise ReportError(
            f"{total:,} events match; an extract holds at most {MAX_EVENTS:,}. "
            "Choose a shorter period.",
            field="date_from",
        )
    events = list(db.session.scalars(select(AuditEvent).where(*conditions).order_by(AuditEvent.id)))
    chain = verify_chain(db.session.connection())
    extract = _extract_verification(events, consecutive=not scope.is_record)
    extract_ok = not extract["mismatched_event_ids"] and not extract["broken_link_event_ids"]
    checkpoint = _checkpoint_data(events[-1].id if events else 0)
    filters = _filters(scope)
    labels = {(scope.record_type, scope.record_id): scope.label} if scope.is_record else {}
    data = report_data(
        filters,
        scope={
            "record_type": scope.record_type,
            "record_id": scope.record_id,
            "record": scope.label,
            "date_from": scope.date_from.isoformat() if scope.date_from else None,
            "date_to": scope.date_to.isoformat() if scope.date_to else None,
        },
        count=len(events),
        events=[
            event_data(event, labels.get((event.record_type, event.record_id)), readable)
            for event, readable in zip(events, readable_events(events), strict=True)
        ],
        checkpoint=checkpoint,
        verification={
            "verified_at": when(now or utcnow()),
            "chain_ok": chain.ok,
            "chain_events": chain.count,
            "chain_head": chain.head_hash,
            "chain_first_hash": chain.first_hash,
            "broken_event_id": chain.broken_event_id,
            "problem": chain.problem,
            "summary": chain.summary(),
            "extract_ok": extract_ok,
            **extract,
        },
    )
    subject = scope.label or (
        f"{scope.date_from} to {scope.date_to}"
        if not scope.is_record
        else f"{scope.record_type} {scope.record_id}"
    )
    return Report(
        kind="audit_extract",
        title=f"Audit-trail extract: {subject}",
        template="audit_extract.html",
        data=data,
        filters=filters,
        record_type=scope.record_type if scope.is_record else "audit_event",
        record_id=scope.record_id if scope.is_record else None,
        filename_stem="audit-trail-extract",
        subject=f"Audit-trail extract: {subject}",
    )
