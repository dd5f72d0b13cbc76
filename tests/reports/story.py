"""One complete quality loop for the report tests: a complaint with customer recovery, a
nonconformity with an 8D analysis and a verified root cause, a CAPA with training, a passed check
and two signatures, and the nonconformity closed under signature. Built through the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from app.capa import services as capa_services
from app.capa import training as capa_training
from app.capa.models import CapaStatus
from app.complaints import services as complaint_services
from app.core.db import utcnow
from app.extensions import db
from app.nonconformities import services as nc_services
from app.organisation.models import Category, Process
from app.rca import services as rca_services
from tests import factories as users
from tests.capa.factories import advance, plan
from tests.conftest import TEST_PASSWORD


@dataclass(frozen=True)
class Story:
    lead_name: str
    signer_name: str
    staff_name: str
    complaint: str
    complaint_id: int
    nc: str
    nc_id: int
    capa: str
    capa_id: int


def build_story(suffix: str = "") -> Story:
    lead = users.create_user("quality_lead", full_name=f"Quinn Leadbetter{suffix}")
    staff = users.create_user("contributor", full_name=f"Casey Staffordshire{suffix}")
    # Separation of duties: the owner does not sign; a second quality lead does.
    signer = users.create_user("quality_lead", full_name=f"Sasha Signwell{suffix}")
    process = Process(name=f"Refund handling{suffix}")
    category = Category(name=f"Duplicate payment{suffix}")
    db.session.add_all([process, category])
    db.session.flush()
    complaint = complaint_services.record_complaint(
        user=lead,
        title="Refunded twice for order 4411",
        channel="email",
        severity="high",
        process_id=process.id,
        category_id=category.id,
    )
    complaint_services.add_recovery_action(
        complaint, user=lead, kind="apology", description="Called the customer to apologise"
    )
    complaint_services.add_recovery_action(
        complaint, user=lead, kind="goodwill", amount="25.00", currency="EUR"
    )
    nc = nc_services.raise_nonconformity(
        title="Refunds paid twice",
        source="customer_complaint",
        detected_at=utcnow() - timedelta(hours=2),
        severity=7,
        occurrence=4,
        detection=5,
        process_id=process.id,
        category_id=category.id,
        owner_id=lead.id,
        containment_action="Second approval on every refund above 20 EUR",
        complaint_ids=[complaint.id],
        user=lead,
    )
    analysis = rca_services.start_analysis(nc, "eight_d", "Refund paid twice", lead)
    for key, text in {
        "D1": "Quinn (champion), Casey (refund desk), finance controller",
        "D3": "Refunds above 20 EUR need a second approval until the fix is live",
        "D8": "The refund desk was thanked at the monthly quality meeting",
    }.items():
        rca_services.save_eight_d_section(analysis, key, text, user=lead)
    root_cause = rca_services.add_root_cause(
        analysis, "The refund tool has no duplicate-payment check", "method", user=lead
    )
    rca_services.verify_root_cause(root_cause, lead)
    nc_services.transition_nonconformity(nc, "contain", lead)
    nc_services.transition_nonconformity(nc, "investigate", lead)
    capa = plan(lead, nonconformity_ids=[nc.id], root_cause_ids=[root_cause.id])
    capa_training.assign_training(
        capa,
        staff_id=staff.id,
        topic="Spotting duplicate refunds",
        due_date=capa_services.today_utc() + timedelta(days=5),
        user=lead,
    )
    nc_services.transition_nonconformity(nc, "plan_action", lead)
    advance(capa, CapaStatus.IMPLEMENTED, lead)
    nc_services.transition_nonconformity(nc, "verify", lead)
    advance(capa, CapaStatus.CLOSED, lead, signer=signer)
    nc_services.close_nonconformity(nc, signer, TEST_PASSWORD, "approved")
    db.session.flush()
    return Story(
        lead_name=lead.full_name,
        signer_name=signer.full_name,
        staff_name=staff.full_name,
        complaint=complaint.reference,
        complaint_id=complaint.id,
        nc=nc.reference,
        nc_id=nc.id,
        capa=capa.reference,
        capa_id=capa.id,
    )
