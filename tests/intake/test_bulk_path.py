"""The import writes complaints with one INSERT per chunk; it must write exactly what the ORM
would: the same row and the same audit event."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.complaints.models import Channel, Complaint, ComplaintStatus, Severity
from app.core.audit import AuditAction, AuditEvent
from app.core.references import next_reference
from app.extensions import db


def test_an_imported_complaint_has_the_row_and_audit_event_the_orm_writes(
    session, run_import
) -> None:
    content = b"Ref,Title,Received,Via,State\nX-1,Lid broken,2025-10-01 08:30,Internet,Solved\n"
    job = run_import(
        "one.csv",
        {
            "source_system": "desk",
            "date_formats": ["%Y-%m-%d %H:%M"],
            "fields": {
                "external_id": "Ref",
                "title": "Title",
                "received_at": "Received",
                "channel": {"column": "Via", "values": {"Internet": "web_form"}},
                "severity": {"value": "high"},
                "status": {"column": "State", "values": {"Solved": "resolved"}},
            },
        },
        content=content,
    )
    imported = session.scalar(select(Complaint).where(Complaint.external_id == "X-1"))
    received = datetime(2025, 10, 1, 8, 30, tzinfo=UTC)
    orm = Complaint(
        reference=next_reference(db.session, "CMP", 2025),
        title="Lid broken",
        received_at=received,
        channel=Channel.WEB_FORM,
        severity=Severity.HIGH,
        status=ComplaintStatus.RESOLVED,
        # The file gives no response or resolution time, nor whether it was the first contact.
        first_response_at=None,
        resolved_at=None,
        source_system="desk",
        external_id="X-2",
        escalation_level=0,
        first_contact_resolution=None,
        created_at=imported.created_at,
        updated_at=imported.updated_at,
    )
    db.session.add(orm)
    db.session.flush()

    def event(complaint: Complaint) -> dict:
        found = session.scalar(
            select(AuditEvent).where(
                AuditEvent.record_type == "complaint",
                AuditEvent.record_id == str(complaint.id),
                AuditEvent.action == AuditAction.CREATE,
            )
        )
        changes = found.changes_dict
        for key in ("id", "reference", "external_id"):
            changes.pop(key)
        return changes

    assert event(imported) == event(orm)
    assert imported.version == orm.version == 1
    assert imported.reference.startswith("CMP-2025-")
    assert job.imported_count == 1


def test_an_imported_complaint_stores_the_durations_of_its_times(session, run_import) -> None:
    content = (
        b"Ref,Title,Received,Answered,Solved,State\n"
        b"D-1,Lid broken,2025-10-01 08:30,2025-10-01 10:45,2025-10-04 09:00,Solved\n"
        b"D-2,No signal,2025-10-02 12:00,,,New\n"
    )
    run_import(
        "durations.csv",
        {
            "source_system": "desk",
            "date_formats": ["%Y-%m-%d %H:%M"],
            "fields": {
                "external_id": "Ref",
                "title": "Title",
                "received_at": "Received",
                "first_response_at": "Answered",
                "resolved_at": "Solved",
                "channel": {"value": "email"},
                "severity": {"value": "high"},
                "status": {"column": "State", "values": {"Solved": "resolved", "New": "received"}},
            },
        },
        content=content,
    )
    solved = session.scalar(select(Complaint).where(Complaint.external_id == "D-1"))
    new = session.scalar(select(Complaint).where(Complaint.external_id == "D-2"))
    assert _durations(session, solved) == (2 * 3600 + 15 * 60, 3 * 86400 + 30 * 60)
    assert _durations(session, new) == (None, None)


def _durations(session, complaint: Complaint) -> tuple[int | None, int | None]:
    return (
        session.execute(
            select(Complaint.first_response_seconds, Complaint.resolution_seconds).where(
                Complaint.id == complaint.id
            )
        )
        .one()
        ._tuple()
    )
