"""The supplier register: records, approval status, attribution, the computed scorecard, and
bad input (refused with a clear message, nothing changed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from app.capa import services as capa_services
from app.capa.models import CapaStatus
from app.core.db import utcnow
from app.core.errors import ServiceError
from app.core.workflow import TransitionRefused
from app.extensions import db
from app.suppliers import scar as scar_services
from app.suppliers import services
from app.suppliers.models import Supplier, SupplierStatus
from tests import factories
from tests.suppliers.helpers import ANSWER, issue, raise_nc, supplier_with_nc


def test_a_supplier_needs_a_unique_name_a_valid_e_mail_and_a_reason_unless_approved(
    session,
) -> None:
    lead = factories.create_user("quality_lead")
    services.create_supplier(name="Acme Parts", user=lead)
    with pytest.raises(ServiceError, match="already a supplier called ACME parts"):
        services.create_supplier(name="ACME parts", user=lead)
    with pytest.raises(ServiceError, match="valid e-mail"):
        services.create_supplier(name="Other", contact_email="not an address", user=lead)
    with pytest.raises(ServiceError, match="reason for the status is required"):
        services.create_supplier(name="Other", status="conditional", user=lead)
    contributor = factories.create_user("contributor")
    with pytest.raises(ServiceError, match="Only a quality lead"):
        services.create_supplier(name="Other", user=contributor)


def test_the_approval_status_changes_with_a_reason_and_date(session) -> None:
    lead = factories.create_user("quality_lead")
    supplier = services.create_supplier(name="Acme Parts", user=lead)
    with pytest.raises(TransitionRefused, match="not possible while the supplier is approved"):
        services.change_status(
            supplier, "approve", "Fine", user=lead, expected_version=supplier.version
        )
    services.change_status(
        supplier,
        "disqualify",
        "Three cracked lots in a quarter",
        user=lead,
        expected_version=supplier.version,
    )
    assert supplier.status == SupplierStatus.DISQUALIFIED
    assert supplier.status_reason == "Three cracked lots in a quarter"
    assert supplier.status_since == utcnow().date()
    with pytest.raises(ServiceError, match="reason is required"):
        services.change_status(
            supplier, "approve", " ", user=lead, expected_version=supplier.version
        )


def test_a_stale_edit_is_refused_and_changes_nothing(client, login, committed) -> None:
    login("quality_lead")

    def make():
        return services.create_supplier(name="Acme Parts").id

    supplier_id = committed(make)
    form = {"name": "Acme Parts Ltd", "contact_email": "qa@acme.example", "version": "0"}
    response = client.post(f"/suppliers/{supplier_id}/edit", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The supplier Acme Parts was changed by someone else since you opened it." in page
    assert 'data-testid="stale-notice"' in page
    assert committed(lambda: db.session.get(Supplier, supplier_id).name) == "Acme Parts"


def test_a_failure_is_attributed_to_one_supplier_only(session) -> None:
    setup = supplier_with_nc()
    other = services.create_supplier(name="Other Parts", user=setup.lead)
    with pytest.raises(ServiceError, match="already attributed to Acme Parts"):
        services.attribute(other, "nonconformity", setup.nc.reference, user=setup.lead)
    with pytest.raises(ServiceError, match="There is no complaint CMP-1"):
        services.attribute(other, "complaint", "cmp-1", user=setup.lead)
    issue(setup)
    with pytest.raises(ServiceError, match="cancel it before"):
        services.remove_attribution(
            setup.supplier, "nonconformity", setup.nc.reference, user=setup.lead
        )


def test_the_scorecard_is_computed_from_the_records_in_a_fixed_number_of_queries(
    session,
) -> None:
    setup = supplier_with_nc()
    lead = setup.lead
    today = utcnow().date()
    old = raise_nc(lead, title="Old failure", detected_at=datetime.now(UTC) - timedelta(days=400))
    services.attribute(setup.supplier, "nonconformity", old.reference, user=lead)
    late_nc = raise_nc(lead, title="Wrong labels")
    services.attribute(setup.supplier, "nonconformity", late_nc.reference, user=lead)
    # One SCAR answered on time and accepted with an effective CAPA, one overdue and unanswered.
    scar, token = issue(setup)
    link = scar_services.resolve_link(token)
    scar_services.record_supplier_answer(link, scar_services.SupplierAnswer(**ANSWER))
    scar_services.accept_scar(
        scar,
        user=lead,
        expected_version=scar.version,
        capa_due_date=today + timedelta(days=30),
        principle_ids=[6],
    )
    scar.capa.status = CapaStatus.EFFECTIVE
    overdue_scar, _ = issue(
        type(setup)(lead, setup.supplier, late_nc), due=today + timedelta(days=1)
    )
    overdue_scar.due_date = today - timedelta(days=2)
    quiet = services.create_supplier(name="Quiet Supplies", user=lead)
    db.session.flush()

    statements: list[str] = []
    engine = db.session.get_bind()

    def count_statement(*args) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        cards = services.scorecards(
            [setup.supplier.id, quiet.id], services.period_of(12, today), today
        )
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
    card = cards[setup.supplier.id]
    assert (card.nonconformities, card.complaints) == (2, 0)  # the 400-day-old one is outside
    assert (card.scars_open, card.scars_overdue) == (1, 1)
    assert (card.responses_on_time, card.responses_due) == (1, 2)
    assert card.on_time_rate == 0.5
    assert (card.actions_effective, card.actions_judged) == (1, 1)
    assert cards[quiet.id].on_time_rate is None
    assert len(statements) == 5
    assert capa_services.is_quality_lead(lead)


def test_the_register_page_lists_suppliers_with_their_scorecards(client, login, committed) -> None:
    login("contributor")

    def make():
        setup = supplier_with_nc()
        issue(setup)

    committed(make)
    page = client.get("/suppliers").get_data(as_text=True)
    assert "Acme Parts" in page
    assert 'data-testid="supplier-row"' in page
    assert "New supplier" not in page  # contributors read, quality leads keep the register


def test_the_complaint_page_names_the_supplier_it_is_attributed_to(
    client, login, committed
) -> None:
    login("contributor")

    def make():
        from app.complaints import services as complaint_services

        lead = factories.create_user("quality_lead")
        complaint = complaint_services.record_complaint(
            user=lead, title="Router keeps rebooting", channel="phone", severity="low"
        )
        supplier = services.create_supplier(name="RouterWorks Ltd", user=lead)
        services.attribute(supplier, "complaint", complaint.reference, user=lead)
        return complaint.reference

    reference = committed(make)
    page = client.get(f"/complaints/{reference}").get_data(as_text=True)
    assert 'data-testid="complaint-supplier"' in page and "RouterWorks Ltd" in page
