"""The strategy map: each corporate objective down its whole line, with the figures at each step
(docs/strategy.md, "The strategy map"):

objective → initiatives (the departments that carry them) → TQM principles → SMART goals with
their status → the CAPAs that serve each initiative → the document changes those CAPAs caused →
the complaints those CAPAs answer (through their nonconformities), with whether the customer was
recovered and stayed.

An initiative is served by the CAPAs a quality lead links to it (`link_capa`). Read in a fixed
number of queries however long the lines are.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Table, select
from sqlalchemy.orm import selectinload

from app.capa.models import Capa, CapaStatus, capa_nonconformity
from app.complaints.models import Complaint, RetentionStatus
from app.complaints.services import RESOLVED_STATUSES
from app.core.audit import AuditAction, record_event
from app.core.errors import ServiceError
from app.documents.models import DocumentRevision
from app.extensions import db
from app.metrics.models import Initiative, Objective
from app.metrics.objectives import GoalProgress, GoalStatus, list_objectives, measure_goal
from app.metrics.rollup import RECOVERED_MIN_CSAT
from app.nonconformities.models import complaint_nonconformity
from app.strategy.models import Department, department_initiative, initiative_capa

EFFECTIVE_STATUSES = frozenset({CapaStatus.EFFECTIVE, CapaStatus.CLOSED})


@dataclass
class ComplaintStep:
    complaint: Complaint

    @property
    def recovered(self) -> bool:
        """Resolved and rated at least RECOVERED_MIN_CSAT after recovery (docs/metrics.md)."""
        return (
            self.complaint.status in RESOLVED_STATUSES
            and (self.complaint.csat_score or 0) >= RECOVERED_MIN_CSAT
        )

    @property
    def stayed(self) -> bool:
        return self.complaint.retention_status is RetentionStatus.STAYED


@dataclass
class CapaStep:
    capa: Capa
    document_changes: list[DocumentRevision] = field(default_factory=list)
    complaints: list[ComplaintStep] = field(default_factory=list)

    @property
    def effective(self) -> bool:
        return self.capa.status in EFFECTIVE_STATUSES


@dataclass
class InitiativeStep:
    initiative: Initiative
    departments: list[Department]
    goals: list[GoalProgress]
    capas: list[CapaStep]


@dataclass
class Figures:
    """The figures printed at the head of an objective's line."""

    goals: int = 0
    goals_on_track: int = 0
    capas: int = 0
    capas_effective: int = 0
    document_changes: int = 0
    complaints: int = 0
    recovered: int = 0
    stayed: int = 0


@dataclass
class ObjectiveLine:
    objective: Objective
    initiatives: list[InitiativeStep]
    figures: Figures


def _links(table: Table, left: str, right: str, ids: list[int]) -> dict[int, list[int]]:
    """`left` id → the `right` ids an association table pairs it with (one query)."""
    found: dict[int, list[int]] = defaultdict(list)
    if ids:
        for key, value in db.session.execute(
            select(table.c[left], table.c[right]).where(table.c[left].in_(ids))
        ):
            found[key].append(value)
    return found


def strategy_map(today: date | None = None) -> list[ObjectiveLine]:
    """Every objective's line with its figures (rules in the module docstring)."""
    objectives = list_objectives()
    initiative_ids = [i.id for o in objectives for i in o.initiatives]
    capa_links = _links(initiative_capa, "initiative_id", "capa_id", initiative_ids)
    department_links = _links(
        department_initiative, "initiative_id", "department_id", initiative_ids
    )
    capa_ids = sorted({capa_id for ids in capa_links.values() for capa_id in ids})
    department_ids = sorted({d for ids in department_links.values() for d in ids})
    capas = (
        {
            capa.id: capa
            for capa in db.session.scalars(
                select(Capa).options(selectinload(Capa.owner)).where(Capa.id.in_(capa_ids))
            )
        }
        if capa_ids
        else {}
    )
    departments = (
        {
            d.id: d
            for d in db.session.scalars(select(Department).where(Department.id.in_(department_ids)))
        }
        if department_ids
        else {}
    )
    revisions: dict[int, list[DocumentRevision]] = defaultdict(list)
    complaints: dict[int, list[Complaint]] = defaultdict(list)
    if capa_ids:
        for revision in db.session.scalars(
            select(DocumentRevision)
            .where(DocumentRevision.capa_id.in_(capa_ids))
            .order_by(DocumentRevision.id)
        ):
            revisions[revision.capa_id].append(revision)  # type: ignore[index]
        rows = db.session.execute(
            select(capa_nonconformity.c.capa_id, Complaint)
            .join(
                complaint_nonconformity,
                complaint_nonconformity.c.nonconformity_id == capa_nonconformity.c.nonconformity_id,
            )
            .join(Complaint, Complaint.id == complaint_nonconformity.c.complaint_id)
            .where(capa_nonconformity.c.capa_id.in_(capa_ids))
            .order_by(Complaint.received_at, Complaint.id)
            .distinct()
        ).all()
        for capa_id, complaint in rows:
            complaints[capa_id].append(complaint)

    lines = []
    for objective in objectives:
        figures = Figures()
        seen_complaints: dict[int, ComplaintStep] = {}
        steps = []
        for initiative in objective.initiatives:
            goals = [measure_goal(goal, today) for goal in initiative.goals]
            figures.goals += len(goals)
            figures.goals_on_track += sum(1 for g in goals if g.status is GoalStatus.ON_TRACK)
            capa_steps = []
            for capa_id in sorted(
                capa_links.get(initiative.id, []), key=lambda i: capas[i].reference
            ):
                step = CapaStep(
                    capas[capa_id],
                    revisions.get(capa_id, []),
                    [ComplaintStep(c) for c in complaints.get(capa_id, [])],
                )
                capa_steps.append(step)
                figures.capas += 1
                figures.capas_effective += step.effective
                figures.document_changes += len(step.document_changes)
                for item in step.complaints:
                    seen_complaints[item.complaint.id] = item
            steps.append(
                InitiativeStep(
                    initiative,
                    sorted(
                        (departments[d] for d in department_links.get(initiative.id, [])),
                        key=lambda d: d.name,
                    ),
                    goals,
                    capa_steps,
                )
            )
        figures.complaints = len(seen_complaints)
        figures.recovered = sum(item.recovered for item in seen_complaints.values())
        figures.stayed = sum(item.stayed for item in seen_complaints.values())
        lines.append(ObjectiveLine(objective, steps, figures))
    return lines


def link_capa(initiative: Initiative, reference: str) -> Capa:
    """Record that the CAPA `reference` serves `initiative` (audited on the initiative as a
    change of its CAPAs). Refuses an unknown reference and a CAPA linked already."""
    reference = (reference or "").strip().upper()
    capa = db.session.scalar(select(Capa).where(Capa.reference == reference))
    if capa is None:
        raise ServiceError(f"There is no CAPA {reference or '(none given)'}.", field="reference")
    linked = db.session.scalar(
        select(initiative_capa.c.capa_id).where(
            initiative_capa.c.initiative_id == initiative.id, initiative_capa.c.capa_id == capa.id
        )
    )
    if linked is not None:
        raise ServiceError(f"{capa.reference} serves this initiative already.", field="reference")
    db.session.execute(
        initiative_capa.insert().values(initiative_id=initiative.id, capa_id=capa.id)
    )
    record_event(
        db.session,
        AuditAction.UPDATE,
        "initiative",
        str(initiative.id),
        changes={"capa_linked": capa.reference},
    )
    db.session.flush()
    return capa
