"""Raising, pre-filling, editing and linking nonconformities; who may change them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.core.audit import AuditAction, AuditEvent
from app.core.db import utcnow
from app.core.errors import ServiceError, StaleRecord
from app.nonconformities import services
from app.nonconformities.models import Nonconformity, NonconformitySource, NonconformityStatus
from tests import factories as user_factories
from tests.nonconformities.factories import (
    make_category,
    make_complaint,
    make_process,
    raise_nc,
)


def _nc_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Nonconformity))


def test_raise_gives_a_reference_and_stores_every_field(session) -> None:
    owner = user_factories.create_user("contributor")
    process, category = make_process("Billing"), make_category("Duplicate charge")
    detected = utcnow() - timedelta(days=1)

    nc = raise_nc(
        detected_at=detected,
        process_id=process.id,
        category_id=category.id,
        owner_id=owner.id,
        containment_action="Hold the billing run",
    )

    prefix, year, number = nc.reference.split("-")
    assert (prefix, year, len(number)) == ("NC", str(utcnow().year), 6)
    assert nc.status == NonconformityStatus.OPEN
    assert (nc.title, nc.source) == (
        "Invoices duplicated by the billing run",
        NonconformitySource.PROCESS_MONITORING,
    )
    assert (nc.process, nc.category, nc.owner) == (process, category, owner)
    assert nc.detected_at == detected
    assert nc.containment_action == "Hold the billing run"
    assert raise_nc().reference == f"NC-{year}-{int(number) + 1:06d}"


def test_the_risk_priority_number_is_computed_and_banded(session) -> None:
    nc = raise_nc(severity=7, occurrence=5, detection=4)
    session.expire(nc)
    assert nc.rpn == 140
    assert services.rpn_band(nc.rpn) == "medium"
    assert [services.rpn_band(n) for n in (1, 99, 100, 199, 200, 1000)] == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "high",
    ]


def test_raise_is_recorded_in_the_audit_trail(session) -> None:
    nc = raise_nc()
    event = session.scalar(
        select(AuditEvent)
        .where(AuditEvent.record_type == "nonconformity", AuditEvent.record_id == str(nc.id))
        .order_by(AuditEvent.id)
    )
    assert event.action == AuditAction.CREATE
    assert event.changes_dict["reference"] == [None, nc.reference]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": "  "}, "title", "A title is required."),
        ({"title": "x" * 201}, "title", "at most 200 characters"),
        ({"source": "gossip"}, "source", "Choose where"),
        ({"severity": 0}, "severity", "Severity must be a whole number from 1 to 10."),
        ({"occurrence": 11}, "occurrence", "Occurrence must be a whole number from 1 to 10."),
        ({"detection": "many"}, "detection", "Detection must be a whole number from 1 to 10."),
        ({"detection": 2.5}, "detection", "Detection must be a whole number"),
        ({"process_id": 999_999}, "process_id", "The chosen process does not exist."),
        ({"category_id": 999_999}, "category_id", "The chosen category does not exist."),
        ({"owner_id": 999_999}, "owner_id", "The chosen owner does not exist."),
        ({"complaint_ids": [999_999]}, "complaints", "No complaint with id 999999."),
    ],
)
def test_raise_refuses_bad_values_and_saves_nothing(session, fields, field, message) -> None:
    with pytest.raises(ServiceError) as refused:
        raise_nc(**fields)
    assert refused.value.field == field
    assert message in refused.value.message
    session.rollback()
    assert _nc_count(session) == 0


def test_detection_cannot_be_in_the_future(session) -> None:
    with pytest.raises(ServiceError) as refused:
        raise_nc(detected_at=utcnow() + timedelta(minutes=5))
    assert refused.value.field == "detected_at"
    assert refused.value.message == "The detection time cannot be in the future."


def test_a_naive_detection_time_is_taken_as_utc(session) -> None:
    nc = raise_nc(detected_at=datetime(2025, 3, 1, 9, 30))
    assert nc.detected_at == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def test_inactive_process_and_category_and_an_auditor_owner_are_refused(session) -> None:
    process = make_process(active=False)
    category = make_category(active=False)
    auditor = user_factories.create_user("auditor")
    for fields, field in (
        ({"process_id": process.id}, "process_id"),
        ({"category_id": category.id}, "category_id"),
        ({"owner_id": auditor.id}, "owner_id"),
    ):
        with pytest.raises(ServiceError) as refused:
            raise_nc(**fields)
        assert refused.value.field == field


def test_auditors_may_not_raise_nonconformities(session) -> None:
    auditor = user_factories.create_user("auditor")
    with pytest.raises(services.NotPermitted):
        raise_nc(user=auditor)
    contributor = user_factories.create_user("contributor")
    assert raise_nc(user=contributor).status == NonconformityStatus.OPEN


def test_prefill_from_complaint(session) -> None:
    process, category = make_process(), make_category()
    complaint = make_complaint(
        title="Charged twice",
        description="Two debits on 3 March",
        process_id=process.id,
        category_id=category.id,
    )

    values = services.prefill_from_complaint(complaint)

    assert values == {
        "source": "customer_complaint",
        "process_id": process.id,
        "category_id": category.id,
        "title": "Charged twice",
        "description": "Two debits on 3 March",
        "detected_at": complaint.received_at,
        "complaint_ids": [complaint.id],
    }
    nc = raise_nc(**{**values, "severity": 5, "occurrence": 5, "detection": 5})
    assert nc.source == NonconformitySource.CUSTOMER_COMPLAINT
    assert nc.complaints == [complaint]


def _edit(nc, **changes):
    values = {
        "title": nc.title,
        "description": nc.description,
        "process_id": nc.process_id,
        "category_id": nc.category_id,
        "owner_id": nc.owner_id,
        "severity": nc.severity,
        "occurrence": nc.occurrence,
        "detection": nc.detection,
        "containment_action": nc.containment_action,
        "expected_version": nc.version,
    }
    values.update(changes)
    return services.update_nonconformity(nc, **values)


def test_update_changes_the_editable_fields_but_never_the_status(session) -> None:
    nc = raise_nc()
    owner = user_factories.create_user("contributor")
    process = make_process()
    version = nc.version

    _edit(
        nc,
        title="Duplicate invoices",
        severity=9,
        occurrence=9,
        detection=3,
        owner_id=owner.id,
        process_id=process.id,
        containment_action="Stop the run",
    )
    session.expire(nc)

    assert (nc.title, nc.rpn, nc.owner_id, nc.process_id) == (
        "Duplicate invoices",
        243,
        owner.id,
        process.id,
    )
    assert nc.containment_action == "Stop the run"
    assert nc.status == NonconformityStatus.OPEN
    assert nc.version == version + 1
    with pytest.raises(TypeError):
        _edit(nc, status="closed")


def test_a_stale_update_is_refused(session) -> None:
    nc = raise_nc()
    stale_version = nc.version
    _edit(nc, title="First edit")
    with pytest.raises(StaleRecord) as refused:
        _edit(nc, title="Second edit", expected_version=stale_version)
    assert "changed by someone else" in refused.value.message
    assert nc.title == "First edit"


def test_may_edit_quality_lead_or_owner(session) -> None:
    owner = user_factories.create_user("contributor")
    other = user_factories.create_user("contributor")
    lead = user_factories.create_user("quality_lead")
    auditor = user_factories.create_user("auditor")
    admin = user_factories.create_user("admin")
    nc = raise_nc(owner_id=owner.id)

    assert services.may_edit(lead, nc)
    assert services.may_edit(owner, nc)
    assert not services.may_edit(other, nc)
    assert not services.may_edit(auditor, nc)
    assert not services.may_edit(admin, nc)
    with pytest.raises(services.NotPermitted):
        _edit(nc, title="Not mine", user=other)
    assert _edit(nc, title="Mine", user=owner).title == "Mine"


def test_link_and_unlink_complaints(session) -> None:
    nc = raise_nc()
    first, second = make_complaint(), make_complaint(title="Second")

    services.link_complaints(nc, [first.id, second.id])
    services.link_complaints(nc, [first.id])  # already linked: no duplicate
    assert sorted(c.id for c in nc.complaints) == sorted([first.id, second.id])

    services.unlink_complaint(nc, first.id)
    assert [c.id for c in nc.complaints] == [second.id]
    with pytest.raises(ServiceError, match="not linked"):
        services.unlink_complaint(nc, first.id)


def test_linking_is_recorded_in_the_nonconformity_history(session) -> None:
    nc = raise_nc()
    complaint = make_complaint()
    services.link_complaints(nc, [complaint.id])
    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.record_type == "nonconformity", AuditEvent.record_id == str(nc.id))
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event.changes_dict["complaints"] == {
        "added": [{"id": complaint.id, "label": complaint.reference}]
    }


def test_a_contributor_who_does_not_own_it_may_not_link(session) -> None:
    nc = raise_nc()
    complaint = make_complaint()
    with pytest.raises(services.NotPermitted):
        services.link_complaints(nc, [complaint.id], user=user_factories.create_user("contributor"))


def test_get_by_reference(session) -> None:
    nc = raise_nc()
    assert services.get_by_reference(nc.reference) is nc
    assert services.get_by_reference(nc.reference.lower()) is nc
    assert services.get_by_reference("NC-1999-000001") is None


def test_the_containment_action_cannot_be_emptied_once_contained(session) -> None:
    lead = user_factories.create_user("quality_lead")
    nc = raise_nc(containment_action="Hold the run")
    services.transition_nonconformity(nc, "contain", lead)
    with pytest.raises(ServiceError) as refused:
        _edit(nc, containment_action="  ")
    assert refused.value.field == "containment_action"
    assert _edit(nc, containment_action="Hold the run and re-check").containment_action == (
        "Hold the run and re-check"
    )
