"""The operating model: the departments that carry the strategy (each with its head, the
processes it runs, the initiatives it carries and the recoveries it owns), the capabilities and
stakeholders around them, and the gaps the model shows (docs/strategy.md, "Gap findings"):

- a process with complaints but no department that runs it;
- a recovery (customer, process, employee) that no department owns;
- an initiative that no department carries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.complaints.models import Complaint
from app.core import charts
from app.core.db import ensure_current_version, flush_or_refuse_stale
from app.core.errors import ServiceError
from app.core.validation import checked_record, checked_records
from app.extensions import db
from app.metrics.models import Initiative
from app.organisation.models import Process
from app.strategy.models import (
    Capability,
    Department,
    Recovery,
    RecoveryOwnership,
    Stakeholder,
    StakeholderKind,
    department_initiative,
    department_process,
)

NAME_MAX_LENGTH = 120


def _name(name: str, model: type, exclude_id: int | None, limit: int = NAME_MAX_LENGTH) -> str:
    name = (name or "").strip()
    if not name or len(name) > limit:
        raise ServiceError(f"Give a name of at most {limit} characters.", field="name")
    clash = db.session.scalar(select(model.id).where(model.name == name))
    if clash is not None and clash != exclude_id:
        raise ServiceError(f"{name} exists already.", field="name")
    return name


def _head(head_id: int | str | None) -> User | None:
    head = checked_record(User, head_id, "Choose an active user as the head.", "head_id")
    if head is not None and not head.active:
        raise ServiceError("Choose an active user as the head.", field="head_id")
    return head


def _recoveries(values: Iterable[str]) -> list[Recovery]:
    try:
        return sorted({Recovery(value) for value in values or ()}, key=list(Recovery).index)
    except ValueError:
        raise ServiceError("Choose recoveries from the list.", field="recoveries") from None


def _apply(
    department: Department,
    *,
    description: str,
    head_id: int | str | None,
    process_ids: Iterable,
    initiative_ids: Iterable,
    recoveries: Iterable[str],
) -> None:
    department.description = (description or "").strip()
    department.head = _head(head_id)
    department.processes = checked_records(Process, process_ids, "process_ids")
    department.initiatives = checked_records(Initiative, initiative_ids, "initiative_ids")
    wanted = _recoveries(recoveries)
    kept = [item for item in department.recoveries if item.recovery in wanted]
    have = {item.recovery for item in kept}
    department.recoveries = kept + [
        RecoveryOwnership(recovery=recovery) for recovery in wanted if recovery not in have
    ]


def create_department(
    *,
    name: str,
    description: str = "",
    head_id: int | str | None = None,
    process_ids: Iterable = (),
    initiative_ids: Iterable = (),
    recoveries: Iterable[str] = (),
) -> Department:
    """Add a department. Refuses: a name taken or empty, an inactive head, unknown processes,
    initiatives or recoveries."""
    department = Department(name=_name(name, Department, None))
    _apply(
        department,
        description=description,
        head_id=head_id,
        process_ids=process_ids,
        initiative_ids=initiative_ids,
        recoveries=recoveries,
    )
    db.session.add(department)
    db.session.flush()
    return department


def update_department(
    department: Department,
    *,
    expected_version: object,
    name: str,
    description: str = "",
    head_id: int | str | None = None,
    process_ids: Iterable = (),
    initiative_ids: Iterable = (),
    recoveries: Iterable[str] = (),
) -> Department:
    """Change a department (the rules of `create_department`); refuses a stale form."""
    ensure_current_version(department, expected_version, "The department")
    department.name = _name(name, Department, department.id)
    _apply(
        department,
        description=description,
        head_id=head_id,
        process_ids=process_ids,
        initiative_ids=initiative_ids,
        recoveries=recoveries,
    )
    flush_or_refuse_stale(db.session, "The department")
    return department


def create_capability(
    *, name: str, description: str = "", department_id: int | str | None = None
) -> Capability:
    """Add a capability, held by a department or (a gap worth seeing) by none."""
    department = checked_record(
        Department, department_id, "Choose a department from the list.", "department_id"
    )
    capability = Capability(
        name=_name(name, Capability, None, 200),
        description=(description or "").strip(),
        department=department,
    )
    db.session.add(capability)
    db.session.flush()
    return capability


def create_stakeholder(
    *,
    name: str,
    kind: str,
    interest: str = "",
    department_id: int | str | None = None,
) -> Stakeholder:
    """Add a stakeholder (internal or external), with the department that looks after them."""
    try:
        stakeholder_kind = StakeholderKind(kind)
    except ValueError:
        raise ServiceError("Choose internal or external.", field="kind") from None
    department = checked_record(
        Department, department_id, "Choose a department from the list.", "department_id"
    )
    stakeholder = Stakeholder(
        name=_name(name, Stakeholder, None, 200),
        kind=stakeholder_kind,
        interest=(interest or "").strip(),
        department=department,
    )
    db.session.add(stakeholder)
    db.session.flush()
    return stakeholder


# --- reading the model -------------------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    kind: str  # "process", "recovery", "initiative"
    subject: str
    finding: str


@dataclass(frozen=True)
class OperatingModel:
    departments: list[Department]
    capabilities: list[Capability]
    stakeholders: list[Stakeholder]
    owners: dict[Recovery, list[Department]]
    gaps: list[Gap]

    def diagram_svg(self) -> str:
        return charts.operating_model_svg(
            [
                (
                    department.name,
                    [process.name for process in department.processes],
                    [recovery.label for recovery in department.recovery_kinds],
                )
                for department in self.departments
            ],
            [recovery.label for recovery in Recovery],
            "Operating model: processes, departments and the recoveries they own",
        )


def list_departments() -> list[Department]:
    return list(
        db.session.scalars(
            select(Department)
            .options(
                selectinload(Department.head),
                selectinload(Department.processes),
                selectinload(Department.initiatives),
                selectinload(Department.recoveries),
            )
            .order_by(Department.name)
        )
    )


def gap_findings(departments: list[Department] | None = None) -> list[Gap]:
    """The gaps of the operating model, in the order: processes, recoveries, initiatives."""
    departments = list_departments() if departments is None else departments
    gaps: list[Gap] = []
    run = select(department_process.c.process_id)
    unowned_processes = db.session.execute(
        select(Process.name, func.count(Complaint.id))
        .join(Complaint, Complaint.process_id == Process.id)
        .where(Process.id.not_in(run))
        .group_by(Process.id, Process.name)
        .order_by(Process.name)
    ).all()
    for name, complaints in unowned_processes:
        gaps.append(
            Gap(
                "process",
                name,
                f"{complaints:,} complaint{'s' if complaints != 1 else ''} but no department "
                "runs this process.",
            )
        )
    owned = {item.recovery for department in departments for item in department.recoveries}
    for recovery in Recovery:
        if recovery not in owned:
            gaps.append(
                Gap("recovery", f"{recovery.label} recovery", "No department owns this recovery.")
            )
    carried = select(department_initiative.c.initiative_id)
    for title in db.session.scalars(
        select(Initiative.title).where(Initiative.id.not_in(carried)).order_by(Initiative.id)
    ):
        gaps.append(Gap("initiative", title, "No department carries this initiative."))
    return gaps


def operating_model() -> OperatingModel:
    """The whole model for its page: departments, owners of each recovery, capabilities,
    stakeholders and the gap findings (a fixed number of queries)."""
    departments = list_departments()
    owners = {
        recovery: [d for d in departments if recovery in d.recovery_kinds] for recovery in Recovery
    }
    capabilities = list(
        db.session.scalars(
            select(Capability)
            .options(selectinload(Capability.department))
            .order_by(Capability.name)
        )
    )
    stakeholders = list(
        db.session.scalars(
            select(Stakeholder)
            .options(selectinload(Stakeholder.department))
            .order_by(Stakeholder.kind, Stakeholder.name)
        )
    )
    return OperatingModel(
        departments, capabilities, stakeholders, owners, gaps=gap_findings(departments)
    )
