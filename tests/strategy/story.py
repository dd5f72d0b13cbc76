"""One objective's whole line, for the strategy map tests: objective → initiative (with a goal)
→ CAPA → nonconformity → complaint, plus a second CAPA not yet linked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from app.accounts.models import User
from app.capa import services as capa_services
from app.complaints import services as complaint_services
from app.metrics import objectives
from app.nonconformities import services as nc_services
from app.strategy import strategy_map


@dataclass(frozen=True)
class Line:
    objective_id: int
    initiative_id: int
    capa: str
    complaint: str
    unlinked_capa: str
    unlinked_complaint: str


def _capa_answering(owner: User, complaint_title: str, capa_title: str) -> tuple[str, str]:
    complaint = complaint_services.record_complaint(
        user=owner, title=complaint_title, channel="email", severity="high"
    )
    nc = nc_services.raise_nonconformity(
        title=f"NC for {complaint_title}",
        source="customer_complaint",
        detected_at=datetime.now(UTC),
        severity=6,
        occurrence=4,
        detection=5,
        owner_id=owner.id,
        complaint_ids=[complaint.id],
        user=owner,
    )
    capa = capa_services.plan_capa(
        kind="corrective",
        recovery_dimension="process",
        title=capa_title,
        owner_id=owner.id,
        due_date=capa_services.today_utc() + timedelta(days=30),
        principle_ids=[3],
        nonconformity_ids=[nc.id],
        user=owner,
    )
    return capa.reference, complaint.reference


def build_line(owner: User, title: str = "Increase customer retention and loyalty") -> Line:
    """The line (flushed, not committed)."""
    objective = objectives.create_objective(title=title, owner_id=owner.id, principle_ids=[1])
    initiative = objectives.create_initiative(
        objective,
        title=f"Fix the billing process ({title})",
        owner_id=owner.id,
        principle_ids=[3, 6],
    )
    today = date.today()
    objectives.create_goal(
        initiative,
        kpi="complaints",
        baseline_start=today - timedelta(days=60),
        baseline_end=today - timedelta(days=31),
        target_kind="relative",
        target_value=20,
        deadline=today + timedelta(days=60),
        owner_id=owner.id,
    )
    capa, complaint = _capa_answering(
        owner, f"Charged twice for one order ({title})", "Make charging idempotent"
    )
    strategy_map.link_capa(initiative, capa)
    unlinked_capa, unlinked_complaint = _capa_answering(
        owner, f"Refund never arrived ({title})", "Automate refund follow-up"
    )
    return Line(objective.id, initiative.id, capa, complaint, unlinked_capa, unlinked_complaint)
