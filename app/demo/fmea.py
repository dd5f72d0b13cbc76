"""Demo process FMEAs: two worksheets whose rows link to the seeded failure categories, so the
pages show observed complaints and nonconformities beside each occurrence rating (and flag the
ratings the data contradicts). One preventive CAPA is walked to effective, so its row shows the
risk before and after; the billing FMEA has an approved revision and a working copy after it.

Made through the FMEA and CAPA services; the seed gives the signatures itself (it knows no
passwords), signed by a second quality lead where separation of duties asks for one.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.accounts.models import User
from app.capa import effectiveness
from app.capa import services as capa_services
from app.capa.workflow import CAPA_WORKFLOW
from app.core.db import utcnow
from app.core.signatures import SignatureMeaning, record_signature
from app.extensions import db
from app.fmea import services
from app.fmea.models import Fmea, FmeaRevision
from app.organisation.models import Category, Process

# (failure mode, step, effect, cause, prevention, detection controls, S, O, D, category,
#  recommended action)
BILLING_ROWS = [
    (
        "Invoice shows the wrong amount",
        "Produce the monthly invoice",
        "Customer overcharged; calls and disputes",
        "Tariff change keyed by hand into the billing system",
        "Four-eyes check on tariff changes",
        "Sample of 20 invoices checked each run",
        6,
        2,
        5,
        "Billing error",
        "",
    ),
    (
        "Refund paid twice",
        "Approve refund",
        "Money lost; customer confused by two payments",
        "No check for an earlier refund of the same order",
        "Agent training on refunds",
        "Monthly reconciliation of refunds",
        7,
        4,
        6,
        "Billing error",
        "Block a second refund of the same order in the refund screen",
    ),
    (
        "Price rise applied without notice",
        "Apply a price change",
        "Customer feels misled; may leave",
        "Notice letters sent from a separate list",
        "Notice list built from the billing accounts",
        "Complaints about price rises reviewed weekly",
        5,
        3,
        7,
        "Contract and pricing",
        "",
    ),
    (
        "Data cap charge applied when the cap was not reached",
        "Rate usage",
        "Unexpected charge on the bill",
        "Usage feed delayed; charge computed on a stale total",
        "Feed delay alarm",
        "Customer-facing usage page",
        4,
        3,
        4,
        "Data caps",
        "",
    ),
]
INSTALLATION_ROWS = [
    (
        "Technician misses the appointment window",
        "Visit the customer",
        "Customer waits in; second visit needed",
        "Route plan ignores travel time between jobs",
        "Dispatcher checks the route",
        "Customer calls to ask where the technician is",
        6,
        5,
        8,
        "Missed appointment",
        "Send an SMS with the arrival time and plan routes with travel times",
    ),
    (
        "Router set up with the wrong profile",
        "Configure the equipment",
        "Slow or no service after installation",
        "Profile chosen by hand from a long list",
        "Profile list filtered by product",
        "Speed test at the end of the visit",
        7,
        3,
        5,
        "Installation fault",
        "",
    ),
    (
        "Equipment dead on arrival",
        "Bring the equipment",
        "Visit wasted; new appointment",
        "Boxes not tested before dispatch",
        "Supplier batch certificates",
        "Power-on test at the door",
        8,
        2,
        4,
        "Equipment failure",
        "",
    ),
]


def _people() -> tuple[User, User] | None:
    leads = list(
        db.session.scalars(
            select(User).where(User.role == "quality_lead", User.active.is_(True)).order_by(User.id)
        )
    )
    if not leads:
        return None
    return leads[0], leads[1] if len(leads) > 1 else leads[0]


def _rows(fmea: Fmea, lead: User, rows: list[tuple], categories: dict[str, Category]) -> list:
    made = []
    for mode, step, effect, cause, prevention, detection_controls, s, o, d, name, action in rows:
        category = categories.get(name)
        made.append(
            services.add_row(
                fmea,
                values={
                    "failure_mode": mode,
                    "process_step": step,
                    "effect": effect,
                    "cause": cause,
                    "prevention_controls": prevention,
                    "detection_controls": detection_controls,
                    "severity": s,
                    "occurrence": o,
                    "detection": d,
                    "recommended_action": action,
                },
                category_ids=[category.id] if category else [],
                user=lead,
            )
        )
    return made


def _walk_to_effective(capa, lead: User, verifier: User) -> None:
    capa_services.transition_capa(capa, "start", lead)
    capa_services.transition_capa(capa, "implement", lead)
    check = effectiveness.plan_effectiveness_check(
        capa,
        criterion="No second refund of the same order in the next two payment runs",
        method="manual_review",
        window_days=None,
        due_date=capa_services.today_utc() + timedelta(days=1),
        user=lead,
    )
    capa_services.transition_capa(capa, "verify", lead)
    effectiveness.record_check_result(
        check, result="passed", evidence="Two payment runs reconciled: no double refund.", user=lead
    )
    # The seed cannot wait out the minimum time before effectiveness may be judged.
    capa.implemented_at = utcnow() - timedelta(days=60)
    db.session.flush()
    CAPA_WORKFLOW.fire(capa, "mark_effective", verifier)
    record_signature(
        db.session,
        capa,
        verifier,
        SignatureMeaning.VERIFIED,
        capa_services.EFFECTIVENESS_PURPOSE,
    )


def seed_demo_fmeas() -> int:
    """Two FMEAs (billing, installation); nothing when FMEAs exist or the organisation is not
    seeded. Returns how many FMEAs it made."""
    if db.session.scalar(select(func.count(Fmea.id))):
        return 0
    people = _people()
    processes = {p.name: p for p in db.session.scalars(select(Process))}
    categories = {c.name: c for c in db.session.scalars(select(Category))}
    if people is None or "Billing" not in processes or "Installation" not in processes:
        return 0
    lead, verifier = people
    today = capa_services.today_utc()
    billing = services.create_fmea(
        title="Billing and refunds PFMEA",
        process_id=processes["Billing"].id,
        team="Quinn Lead (quality, facilitator)\nBilling team lead\nRefunds agent",
        scope="From a tariff change or refund request to the customer's invoice and payment.",
        owner_id=lead.id,
        prepared_on=today - timedelta(days=90),
        next_review_on=today + timedelta(days=275),
        user=lead,
    )
    billing_rows = _rows(billing, lead, BILLING_ROWS, categories)
    refund = billing_rows[1]
    capa = services.raise_preventive_capa(
        refund,
        title="Block a second refund of the same order",
        owner_id=lead.id,
        due_date=today + timedelta(days=30),
        principle_ids=[3, 6],
        user=lead,
    )
    _walk_to_effective(capa, lead, verifier)
    services.record_revised_ratings(
        refund,
        severity=7,
        occurrence=2,
        detection=3,
        expected_version=refund.version,
        user=lead,
    )
    _approve(billing, verifier, "First issue, with the refund block verified")
    # The working copy moves on after the approval (revision 2 in preparation).
    first = billing_rows[0]
    services.update_row(
        first,
        values={**services.row_data(first), "detection": 4},
        category_ids=[c.id for c in first.categories],
        expected_version=first.version,
        user=lead,
    )

    installation = services.create_fmea(
        title="Installation visits PFMEA",
        process_id=processes["Installation"].id,
        team="Quinn Lead (quality)\nField scheduling\nSenior technician",
        scope="From booking the appointment to the working service at the customer's premises.",
        owner_id=lead.id,
        prepared_on=today - timedelta(days=30),
        user=lead,
    )
    installation_rows = _rows(installation, lead, INSTALLATION_ROWS, categories)
    services.raise_preventive_capa(
        installation_rows[0],
        title="Arrival-time SMS and routes with travel times",
        owner_id=lead.id,
        due_date=today + timedelta(days=45),
        principle_ids=[1, 3],
        user=lead,
    )
    db.session.flush()
    return 2


def _approve(fmea: Fmea, approver: User, note: str) -> FmeaRevision:
    """Approve as `services.approve_revision` does, the seed giving the signature itself."""
    revision = services.freeze_revision(fmea, approver, note)
    record_signature(
        db.session, revision, approver, SignatureMeaning.APPROVED, services.APPROVAL_PURPOSE
    )
    fmea.revision += 1
    db.session.flush()
    return revision
