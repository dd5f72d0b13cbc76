"""The pages a person walks through, with records behind them, for the browser tests that check
every page (accessibility, layout at two screen sizes).

`seed_site` builds, in the live server's own database, one finished quality loop (a closed
complaint chain with signatures) and one just begun (a new complaint, an open nonconformity with
a 5 Whys analysis, a planned CAPA), with names made unique so the tests can run in any order and
on either database. It returns the paths of every page, grouped by who opens them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from app.complaints import services as complaint_services
from app.core.db import utcnow
from app.extensions import db
from app.fmea import services as fmea_services
from app.metrics import objectives
from app.nonconformities import services as nc_services
from app.organisation.models import Category, Process
from app.rca import services as rca_services
from app.rca.models import RootCauseAnalysis
from tests import factories
from tests.browser.conftest import LiveServer
from tests.capa.factories import plan
from tests.reports.story import build_story


@dataclass(frozen=True)
class SiteMap:
    lead_email: str
    admin_email: str
    auditor_email: str
    lists: list[str] = field(default_factory=list)
    records: list[str] = field(default_factory=list)
    open_records: dict[str, str] = field(default_factory=dict)  # kind -> path
    forms: list[str] = field(default_factory=list)
    admin_pages: list[str] = field(default_factory=list)
    audit_pages: list[str] = field(default_factory=list)


def seed_site(live_server: LiveServer) -> SiteMap:
    suffix = f" {uuid.uuid4().hex[:6]}"
    with live_server.app.app_context():
        story = build_story(suffix=suffix)
        lead = factories.create_user("quality_lead", full_name=f"Lee Layout{suffix}")
        process = Process(name=f"Layout process{suffix}")
        category = Category(name=f"Layout category{suffix}")
        db.session.add_all([process, category])
        db.session.flush()
        complaint = complaint_services.record_complaint(
            user=lead,
            title="The engineer came on the wrong day and the invoice still charged the visit",
            channel="phone",
            severity="medium",
            process_id=process.id,
            category_id=category.id,
        )
        nc = nc_services.raise_nonconformity(
            title="Visits booked on the wrong day",
            source="customer_complaint",
            detected_at=utcnow(),
            severity=6,
            occurrence=5,
            detection=4,
            process_id=process.id,
            category_id=category.id,
            owner_id=lead.id,
            containment_action="",
            complaint_ids=[complaint.id],
            user=lead,
        )
        analysis = rca_services.start_analysis(nc, "five_whys", "Why the wrong day?", lead)
        capa = plan(lead, nonconformity_ids=[nc.id], title="Confirm every visit by text message")
        objective = objectives.create_objective(
            title=f"Visits on the agreed day{suffix}",
            description="",
            owner_id=lead.id,
            principle_ids=[1],
        )
        fmea = fmea_services.create_fmea(
            title=f"Visit booking PFMEA{suffix}", process_id=process.id, user=lead
        )
        fmea_row = fmea_services.add_row(
            fmea,
            values={
                "process_step": "Book the visit",
                "failure_mode": "Visit booked on a day the customer did not agree",
                "effect": "Customer waits in; second visit",
                "cause": "Date typed by hand",
                "severity": 6,
                "occurrence": 2,
                "detection": 7,
                "recommended_action": "Confirm every visit by text message",
            },
            category_ids=[category.id],
            user=lead,
        )
        fmea_services.raise_preventive_capa(
            fmea_row,
            title="Confirm visits by text",
            owner_id=lead.id,
            due_date=utcnow().date() + timedelta(days=30),
            principle_ids=[1],
            user=lead,
        )
        from app.suppliers import scar as scar_services
        from app.suppliers import services as supplier_services

        supplier = supplier_services.create_supplier(
            name=f"Layout supplier{suffix}", contact_email="layout@supplier.example", user=lead
        )
        supplier_services.attribute(supplier, "nonconformity", nc.reference, user=lead)
        scar = scar_services.issue_scar(
            nc,
            problem="Parts arrive late.",
            due_date=utcnow().date(),
            owner_id=lead.id,
            user=lead,
        ).scar
        closed_analysis = (
            db.session.query(RootCauseAnalysis).filter_by(nonconformity_id=story.nc_id).one()
        )
        db.session.commit()
        paths = SiteMap(
            lead_email=lead.email,
            admin_email=factories.create_user("admin").email,
            auditor_email=factories.create_user("auditor").email,
            lists=[
                "/",
                "/complaints",
                "/nonconformities",
                "/capa",
                "/my-work",
                "/customers",
                "/objectives",
                "/financial-case",
                "/principle-coverage",
                "/principles",
                "/sites",
                "/processes",
                "/categories",
                "/notifications",
                "/tasks",
                "/import/mappings",
                "/fmea",
                "/strategy",
                "/strategy/assessment",
                "/strategy/operating-model",
                "/strategy/metrics",
                "/strategy/map",
                "/suppliers",
                "/suppliers/scars",
            ],
            records=[
                f"/complaints/{story.complaint}",
                f"/nonconformities/{story.nc}",
                f"/nonconformities/{story.nc}/analyses/{closed_analysis.id}",
                f"/capa/{story.capa}",
                f"/complaints/{complaint.reference}",
                f"/nonconformities/{nc.reference}",
                f"/nonconformities/{nc.reference}/analyses/{analysis.id}",
                f"/capa/{capa.reference}",
                f"/objectives/{objective.id}",
                f"/fmea/{fmea.reference}",
                f"/suppliers/{supplier.id}",
                f"/suppliers/scars/{scar.reference}",
            ],
            open_records={
                "complaint": f"/complaints/{complaint.reference}",
                "nonconformity": f"/nonconformities/{nc.reference}",
                "capa": f"/capa/{capa.reference}",
            },
            forms=[
                "/complaints/new",
                "/nonconformities/new",
                "/capa/new",
                "/customers/new",
                "/categories/new",
                "/objectives/new",
                "/import",
                f"/fmea/{fmea.reference}/rows/new",
                "/strategy/assessment/new",
                "/strategy/departments/new",
                "/strategy/metrics/new",
                "/suppliers/new",
            ],
            admin_pages=[
                "/admin/users",
                "/admin/users/new",
                "/sites/new",
                "/processes/new",
                "/admin/scheduler",
                "/admin/tokens",
                "/admin/tokens/new",
            ],
            audit_pages=["/audit", "/audit/verify", "/reports"],
        )
        db.session.commit()
        return paths
