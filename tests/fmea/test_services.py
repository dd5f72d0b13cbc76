"""FMEA services without HTTP: scales, RPN/AP before and after a preventive CAPA is effective,
stale saves, the audit trail and signed revisions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.capa import services as capa_services
from app.capa.models import CapaKind, CapaStatus, RecoveryDimension
from app.core.audit import AuditEvent
from app.core.errors import NotPermitted, ServiceError, StaleRecord
from app.extensions import db
from app.fmea import services
from app.fmea.action_priority import ActionPriority
from app.fmea.models import FmeaRow
from tests.capa.factories import advance, make_category, make_process
from tests.conftest import TEST_PASSWORD
from tests.factories import create_user
from tests.fmea.factories import make_fmea, make_row, row_values

DUE = capa_services.today_utc() + timedelta(days=30)


@pytest.fixture()
def lead(session):
    return create_user("quality_lead", full_name="Quinn Lead")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("severity", 0),
        ("severity", 11),
        ("occurrence", "11"),
        ("occurrence", "-1"),
        ("detection", 5.5),
        ("detection", "high"),
        ("detection", ""),
        ("severity", None),
    ],
)
def test_ratings_off_the_1_to_10_scale_are_refused_on_their_field(lead, field, value):
    fmea = make_fmea(lead, make_process())
    with pytest.raises(ServiceError) as error:
        make_row(fmea, lead, **{field: value})
    assert error.value.field == field
    assert "whole number from 1 to 10" in error.value.message
    assert db.session.scalar(select(FmeaRow).where(FmeaRow.fmea_id == fmea.id)) is None


def test_only_quality_leads_maintain_fmeas(lead):
    process = make_process()
    for role in ("contributor", "auditor", "admin"):
        with pytest.raises(NotPermitted):
            make_fmea(create_user(role), process)
    fmea = make_fmea(lead, process)
    assert fmea.reference.startswith("FMEA-") and fmea.revision == 1
    with pytest.raises(NotPermitted):
        make_row(fmea, create_user("contributor"))


def test_rpn_and_ap_before_and_after_an_effective_preventive_capa(lead):
    fmea = make_fmea(lead, make_process())
    row = make_row(fmea, lead, severity=8, occurrence=6, detection=7)
    assert row.rpn == 336 and row.ap == ActionPriority.HIGH
    owner = create_user("contributor")
    capa = services.raise_preventive_capa(
        row,
        title="Duplicate-refund block",
        owner_id=owner.id,
        due_date=capa_services.today_utc() + timedelta(days=30),
        principle_ids=[3, 6],
        user=lead,
    )
    assert capa.kind == CapaKind.PREVENTIVE
    assert capa.recovery_dimension == RecoveryDimension.PROCESS
    assert [p.id for p in capa.principles] == [3, 6]
    assert "Refund paid twice" in capa.description and "AP H" in capa.description
    assert [action.capa for action in row.actions] == [capa]

    # Not effective yet: the "after" column cannot be filled in.
    with pytest.raises(ServiceError, match="once a preventive CAPA of this row is effective"):
        services.record_revised_ratings(
            row, severity=8, occurrence=2, detection=3, expected_version=row.version, user=lead
        )
    advance(capa, CapaStatus.VERIFYING, lead)
    with pytest.raises(ServiceError, match="is effective"):
        services.record_revised_ratings(
            row, severity=8, occurrence=2, detection=3, expected_version=row.version, user=lead
        )
    advance(capa, CapaStatus.EFFECTIVE, lead)
    assert services.effective_capa_ids([capa.id]) == {capa.id}
    with pytest.raises(ServiceError) as error:
        services.record_revised_ratings(
            row, severity=8, occurrence=11, detection=3, expected_version=row.version, user=lead
        )
    assert error.value.field == "occurrence"
    assert row.revised_severity is None
    services.record_revised_ratings(
        row, severity=8, occurrence=2, detection=3, expected_version=row.version, user=lead
    )
    assert (row.severity, row.occurrence, row.detection) == (8, 6, 7)
    assert row.rpn == 336 and row.ap == ActionPriority.HIGH
    assert row.revised_rpn == 48 and row.revised_ap == ActionPriority.LOW
    assert row.revised_at is not None
    # Closed after being effective still counts as effective.
    advance(capa, CapaStatus.CLOSED, lead)
    assert services.effective_capa_ids([capa.id]) == {capa.id}


def test_a_capa_needs_the_rows_recommended_action(lead):
    fmea = make_fmea(lead, make_process())
    row = make_row(fmea, lead, recommended_action="")
    with pytest.raises(ServiceError, match="recommended action"):
        services.raise_preventive_capa(
            row, title="x", owner_id=lead.id, due_date=DUE, principle_ids=[3], user=lead
        )


def test_stale_row_and_header_saves_are_refused(lead):
    fmea = make_fmea(lead, make_process())
    row = make_row(fmea, lead)
    opened = row.version
    services.update_row(
        row,
        values=row_values(occurrence=3),
        category_ids=[],
        expected_version=opened,
        user=lead,
    )
    with pytest.raises(StaleRecord, match="changed by someone else"):
        services.update_row(
            row,
            values=row_values(occurrence=9),
            category_ids=[],
            expected_version=opened,
            user=lead,
        )
    assert row.occurrence == 3
    with pytest.raises(StaleRecord):
        services.update_fmea(
            fmea,
            title="Changed",
            process_id=fmea.process_id,
            process_step="",
            team="",
            scope="",
            owner_id=None,
            prepared_on=fmea.prepared_on,
            next_review_on=None,
            expected_version=fmea.version + 5,
            user=lead,
        )


def test_edits_are_in_the_audit_trail_with_their_old_and_new_values(lead):
    category = make_category("Billing error")
    fmea = make_fmea(lead, make_process())
    row = make_row(fmea, lead, [category])
    services.update_row(
        row,
        values=row_values(occurrence=2),
        category_ids=[category.id],
        expected_version=row.version,
        user=lead,
    )
    db.session.flush()
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.record_type == "fmea_row", AuditEvent.record_id == str(row.id)
        )
    ).all()
    assert [str(e.action) for e in events][:2] == ["create", "update"]
    assert events[1].changes_dict["occurrence"] == [5, 2]
    other = make_category("Service outage")
    services.update_row(
        row,
        values=row_values(occurrence=2),
        category_ids=[other.id],
        expected_version=row.version,
        user=lead,
    )
    db.session.flush()
    latest = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.record_type == "fmea_row", AuditEvent.record_id == str(row.id))
        .order_by(AuditEvent.id.desc())
    ).first()
    assert "categories" in latest.changes_dict, latest.changes_dict


def test_a_row_with_a_capa_cannot_be_removed_and_others_can(lead):
    fmea = make_fmea(lead, make_process())
    keep = make_row(fmea, lead)
    services.raise_preventive_capa(
        keep, title="Block", owner_id=lead.id, due_date=DUE, principle_ids=[3], user=lead
    )
    with pytest.raises(ServiceError, match="traced"):
        services.delete_row(keep, expected_version=keep.version, user=lead)
    gone = make_row(fmea, lead, failure_mode="Refund to the wrong account")
    services.delete_row(gone, expected_version=gone.version, user=lead)
    assert db.session.get(FmeaRow, gone.id) is None


def test_approving_a_revision_signs_a_frozen_copy_and_opens_the_next(lead):
    fmea = make_fmea(lead, make_process())
    with pytest.raises(ServiceError, match="without rows"):
        services.approve_revision(
            fmea, lead, TEST_PASSWORD, change_note="First", expected_version=fmea.version
        )
    row = make_row(fmea, lead, occurrence=4)
    with pytest.raises(ServiceError, match="password"):
        services.approve_revision(
            fmea, lead, "wrong password", change_note="First", expected_version=fmea.version
        )
    assert fmea.revisions == [] and fmea.revision == 1
    with pytest.raises(NotPermitted):
        services.approve_revision(
            fmea,
            create_user("auditor"),
            TEST_PASSWORD,
            change_note="First",
            expected_version=fmea.version,
        )
    with pytest.raises(StaleRecord):
        services.approve_revision(
            fmea, lead, TEST_PASSWORD, change_note="First", expected_version=fmea.version - 1
        )
    revision, signature = services.approve_revision(
        fmea, lead, TEST_PASSWORD, change_note="First issue", expected_version=fmea.version
    )
    assert revision.number == 1 and revision.label == f"{fmea.reference} rev 1"
    assert fmea.revision == 2
    assert signature.meaning.value == "approved" and signature.signer_name == "Quinn Lead"
    # The working copy changes; revision 1 still reads as approved.
    services.update_row(
        row,
        values=row_values(occurrence=9),
        category_ids=[],
        expected_version=row.version,
        user=lead,
    )
    frozen = services.revision_of(fmea, 1).snapshot
    assert frozen["rows"][0]["occurrence"] == 4 and frozen["revision"] == 1
    assert frozen["rows"][0]["ap"] == "M"
    assert row.occurrence == 9
