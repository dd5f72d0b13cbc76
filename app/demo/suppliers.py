"""Demo suppliers: four suppliers with failures attributed to them (so their scorecards have
figures), one SCAR answered and waiting for the quality lead's review, one accepted with its
corrective CAPA, and one overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from app.accounts.models import User
from app.complaints.models import Complaint
from app.core.db import utcnow
from app.extensions import db
from app.nonconformities import services as nc_services
from app.nonconformities.models import Nonconformity
from app.notifications.services import discard_queued_mail
from app.organisation.models import Category, Process
from app.suppliers import scar as scars
from app.suppliers import services as suppliers
from app.suppliers.models import Supplier

# name, contact, e-mail, what they supply, processes, status, reason, failure category
SUPPLIERS = [
    (
        "RouterWorks Ltd",
        "Dana Hughes",
        "quality@routerworks.example",
        "Routers and set-top boxes shipped to customers.",
        ["Installation", "Field repair"],
        "approved",
        "",
        "Equipment failure",
    ),
    (
        "FibreLink Contractors",
        "Marek Nowak",
        "service@fibrelink.example",
        "Subcontracted installation crews (north region).",
        ["Installation"],
        "conditional",
        "Installation faults above target for two quarters; improvement plan agreed.",
        "Installation fault",
    ),
    (
        "PayGate Services",
        "Ines Ortega",
        "ops@paygate.example",
        "Card payments and direct-debit collection.",
        ["Billing"],
        "approved",
        "",
        "Billing error",
    ),
    (
        "Parcel Express",
        "",
        "",
        "Courier for replacement equipment (until March).",
        ["Field repair"],
        "disqualified",
        "Repeated lost parcels; contract ended.",
        None,
    ),
]

SCAR_TITLES = {
    "RouterWorks Ltd": "Routers of batch R-2291 reset at customers' homes",
    "FibreLink Contractors": "Fibre terminations fail the light-level test",
    "PayGate Services": "Direct debits collected twice",
}

ANSWER = scars.SupplierAnswer(
    answered_by="Dana Hughes",
    containment="Batch R-2291 recalled from your stock; 140 units replaced.",
    root_cause="A firmware image without the power-management fix was flashed on line 2.",
    corrective_action="Image checksum verified by the flashing station before every batch.",
    verification="Burn-in test of 3 batches (600 units): no resets.",
)


@dataclass
class SupplierSeedResult:
    suppliers: int = 0
    attributed: int = 0
    scars: int = 0


def _ncs(category: str, limit: int) -> list[Nonconformity]:
    return list(
        db.session.scalars(
            select(Nonconformity)
            .join(Category, Category.id == Nonconformity.category_id)
            .where(Category.name == category)
            .order_by(Nonconformity.detected_at.desc())
            .limit(limit)
        )
    )


def _supplier_nc(lead: User, title: str, category: str, process_id: int | None) -> Nonconformity:
    """A fresh, open nonconformity found at the supplier's door (the one its SCAR is about)."""
    category_id = db.session.scalar(select(Category.id).where(Category.name == category))
    return nc_services.raise_nonconformity(
        title=title,
        source="supplier",
        detected_at=utcnow() - timedelta(days=3),
        severity=7,
        occurrence=4,
        detection=5,
        process_id=process_id,
        category_id=category_id,
        owner_id=lead.id,
        user=lead,
    )


def _complaints(category: str, limit: int) -> list[Complaint]:
    return list(
        db.session.scalars(
            select(Complaint)
            .join(Category, Category.id == Complaint.category_id)
            .where(Category.name == category)
            .order_by(Complaint.received_at.desc())
            .limit(limit)
        )
    )


def seed_demo_suppliers() -> SupplierSeedResult:
    """The demo suppliers and SCARs; does nothing when suppliers exist or no quality lead does."""
    result = SupplierSeedResult()
    lead = db.session.scalar(
        select(User).where(User.role == "quality_lead", User.active.is_(True)).order_by(User.id)
    )
    if lead is None or db.session.scalar(select(func.count(Supplier.id))):
        return result
    processes = {p.name: p.id for p in db.session.scalars(select(Process))}
    today = utcnow().date()
    made: dict[str, tuple[Supplier, list[Nonconformity]]] = {}
    for name, contact, email, supplies, served, status, reason, category in SUPPLIERS:
        supplier = suppliers.create_supplier(
            name=name,
            contact_name=contact,
            contact_email=email,
            supplies=supplies,
            process_ids=[processes[p] for p in served if p in processes],
            status=status,
            status_reason=reason,
            user=lead,
        )
        result.suppliers += 1
        ncs = []
        if category:
            served_id = processes.get(served[0])
            fresh = _supplier_nc(lead, SCAR_TITLES[name], category, served_id)
            ncs = [fresh, *(nc for nc in _ncs(category, 4) if nc.id != fresh.id)][:4]
        for nc in ncs:
            suppliers.attribute(supplier, "nonconformity", nc.reference, user=lead)
            result.attributed += 1
        for complaint in _complaints(category, 6) if category else []:
            suppliers.attribute(supplier, "complaint", complaint.reference, user=lead)
            result.attributed += 1
        made[name] = (supplier, ncs)

    # RouterWorks answered: waiting for the quality lead to accept or return it.
    _, router_ncs = made["RouterWorks Ltd"]
    if router_ncs:
        issued = scars.issue_scar(
            router_ncs[0],
            problem="Routers of batch R-2291 reset every few hours at customers' homes.",
            due_date=today + timedelta(days=10),
            owner_id=lead.id,
            user=lead,
        )
        scars.record_supplier_answer(scars.resolve_link(issued.token), ANSWER)
        result.scars += 1
    # PayGate answered and was accepted: the corrective action is a CAPA on the nonconformity.
    _, pay_ncs = made["PayGate Services"]
    if pay_ncs:
        issued = scars.issue_scar(
            pay_ncs[0],
            problem="Direct debits of 2 May were collected twice for 38 customers.",
            due_date=today + timedelta(days=5),
            owner_id=lead.id,
            user=lead,
        )
        scars.record_supplier_answer(
            scars.resolve_link(issued.token),
            scars.SupplierAnswer(
                answered_by="Ines Ortega",
                containment="Duplicate collections refunded within 24 hours.",
                root_cause="A retried batch file was not checked against the batch already sent.",
                corrective_action="Batch files carry a unique id; the gateway refuses repeats.",
                verification="Replay test of 20 old batches: every repeat refused.",
            ),
        )
        scars.accept_scar(
            issued.scar,
            user=lead,
            expected_version=issued.scar.version,
            capa_due_date=today + timedelta(days=30),
            principle_ids=[3, 6],
            comments="Thank you for the quick refunds.",
        )
        result.scars += 1
    # FibreLink has not answered, and the answer is overdue.
    _, fibre_ncs = made["FibreLink Contractors"]
    if fibre_ncs:
        issued = scars.issue_scar(
            fibre_ncs[0],
            problem="Fibre terminations installed in April fail the light-level test.",
            due_date=today,
            owner_id=lead.id,
            user=lead,
        )
        issued.scar.due_date = today - timedelta(days=6)
        result.scars += 1
    db.session.flush()
    # The demo's suppliers are invented: never e-mail them.
    discard_queued_mail(db.session)
    return result
