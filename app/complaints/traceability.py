"""A complaint's three recoveries side by side: customer, process and employee.

Customer recovery lives on the complaint itself (recovery actions, CSAT). Process recovery is the
nonconformities raised from it, their root causes and the CAPAs that fix them; employee recovery is
the training those CAPAs assigned. The page says plainly which recovery is still missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.capa.models import Capa, CapaStatus, CheckResult, EffectivenessCheck, TrainingAssignment
from app.complaints.models import Complaint
from app.extensions import db
from app.nonconformities.models import Nonconformity, complaint_nonconformity
from app.rca.models import RootCause, RootCauseAnalysis


@dataclass(frozen=True)
class CapaTrace:
    capa: Capa
    latest_check: EffectivenessCheck | None

    @property
    def verified_effective(self) -> bool:
        # A CAPA may also be closed as ineffective (after its follow-up was raised).
        passed = self.latest_check is not None and self.latest_check.result == CheckResult.PASSED
        return self.capa.status == CapaStatus.EFFECTIVE or (
            self.capa.status == CapaStatus.CLOSED and passed
        )

    @property
    def effectiveness(self) -> str:
        """What is known of the CAPA's effectiveness, in words."""
        if self.verified_effective:
            return "Verified effective"
        if self.capa.status == CapaStatus.INEFFECTIVE:
            return "Ineffective: a follow-up action is needed"
        if self.capa.status == CapaStatus.CLOSED:
            return "Closed as ineffective: see its follow-up"
        if self.latest_check is None:
            return "No effectiveness check planned"
        if self.latest_check.result == CheckResult.PENDING:
            return f"Check due {self.latest_check.due_date.isoformat()}"
        return f"Check {self.latest_check.result.label.lower()}"


@dataclass(frozen=True)
class NonconformityTrace:
    nonconformity: Nonconformity
    root_causes: list[RootCause]
    capas: list[CapaTrace]


@dataclass(frozen=True)
class RecoveryState:
    """One recovery's verdict: done, in progress or missing, with a sentence that says why."""

    state: str  # "done", "in_progress" or "missing"
    summary: str

    @property
    def label(self) -> str:
        return {"done": "Done", "in_progress": "In progress", "missing": "Missing"}[self.state]


@dataclass(frozen=True)
class Traceability:
    customer: RecoveryState
    process: RecoveryState
    employee: RecoveryState
    nonconformities: list[NonconformityTrace] = field(default_factory=list)
    trainings: list[TrainingAssignment] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        """The recoveries not yet started, in the order the page shows them."""
        names = {"customer": self.customer, "process": self.process, "employee": self.employee}
        return [name for name, state in names.items() if state.state == "missing"]


def _customer_state(complaint: Complaint) -> RecoveryState:
    actions = complaint.recovery_actions
    if not actions:
        return RecoveryState(
            "missing", "No recovery action recorded: the customer has not been made whole."
        )
    kinds = ", ".join(dict.fromkeys(action.kind.label.lower() for action in actions))
    if complaint.csat_score is None:
        return RecoveryState("in_progress", f"Done: {kinds}. Satisfaction not asked yet.")
    return RecoveryState("done", f"Done: {kinds}. Satisfaction {complaint.csat_score} of 5.")


def _process_state(traces: list[NonconformityTrace]) -> RecoveryState:
    if not traces:
        return RecoveryState("missing", "No nonconformity raised: the cause is not being fixed.")
    capas = [trace for nc in traces for trace in nc.capas]
    if not capas:
        return RecoveryState(
            "in_progress", "Nonconformity raised, but no CAPA planned to fix the cause yet."
        )
    effective = [trace for trace in capas if trace.verified_effective]
    noun = "CAPA" if len(capas) == 1 else "CAPAs"
    if len(effective) == len(capas):
        return RecoveryState("done", f"{len(capas)} {noun} verified effective.")
    return RecoveryState(
        "in_progress", f"{len(effective)} of {len(capas)} {noun} verified effective so far."
    )


def _employee_state(trainings: list[TrainingAssignment]) -> RecoveryState:
    if not trainings:
        return RecoveryState("missing", "No training assigned: staff are not yet prepared.")
    done = sum(1 for training in trainings if training.completed_at is not None)
    if done == len(trainings):
        return RecoveryState("done", f"{done} training completed.")
    return RecoveryState("in_progress", f"{done} of {len(trainings)} training completed.")


def complaint_traceability(complaint: Complaint) -> Traceability:
    """The complaint's three recoveries, loaded in a fixed number of queries."""
    nonconformities = list(
        db.session.scalars(
            select(Nonconformity)
            .join(
                complaint_nonconformity,
                complaint_nonconformity.c.nonconformity_id == Nonconformity.id,
            )
            .where(complaint_nonconformity.c.complaint_id == complaint.id)
            .options(
                selectinload(Nonconformity.analyses).selectinload(RootCauseAnalysis.root_causes),
                selectinload(Nonconformity.capas).options(
                    selectinload(Capa.principles),
                    selectinload(Capa.checks),
                    selectinload(Capa.owner),
                    selectinload(Capa.trainings).selectinload(TrainingAssignment.staff),
                ),
            )
            .order_by(Nonconformity.id)
        )
    )
    traces = []
    trainings: dict[int, TrainingAssignment] = {}
    for nc in nonconformities:
        capa_traces = []
        for capa in nc.capas:
            latest = max(capa.checks, key=lambda check: check.id, default=None)
            capa_traces.append(CapaTrace(capa, latest))
            for training in capa.trainings:
                trainings[training.id] = training
        root_causes = [cause for analysis in nc.analyses for cause in analysis.root_causes]
        traces.append(NonconformityTrace(nc, root_causes, capa_traces))
    ordered_trainings = sorted(trainings.values(), key=lambda training: training.id)
    return Traceability(
        customer=_customer_state(complaint),
        process=_process_state(traces),
        employee=_employee_state(ordered_trainings),
        nonconformities=traces,
        trainings=ordered_trainings,
    )
