"""Objectives, initiatives and SMART metric goals: recording them, and measuring each goal.

A goal's progress and status are computed from the data every time they are shown (never stored),
by the rules documented in docs/metrics.md ("Goal progress and status"):

- the baseline is the KPI over the baseline period (whole UTC days, both ends included);
- the target is the absolute value given, or the baseline improved by the given percentage in the
  KPI's good direction (20 % on a lower-is-better KPI: target = baseline × 0.8);
- the current value is the KPI over the most recent window as long as the baseline period, ending
  today (or at the deadline, once it has passed);
- progress = (current − baseline) / (target − baseline), the share of the planned improvement
  achieved (1 = target reached; negative = worse than the baseline);
- expected = the share of the time from the end of the baseline to the deadline that has elapsed;
- status: ON_TRACK when the target is met, or progress ≥ expected − 0.10; AT_RISK when progress ≥
  expected − 0.25 and the deadline has not passed; OFF_TRACK otherwise (and always once the
  deadline has passed without the target met); NO_DATA when the baseline or current value is
  missing;
- a target no better than the baseline (hold the line) is ON_TRACK while met (progress 1) and
  OFF_TRACK when not (progress 0).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.core.db import ensure_current_version, utcnow
from app.core.errors import ServiceError
from app.extensions import db
from app.metrics import catalogue
from app.metrics.kpis import Scope
from app.metrics.models import Initiative, MetricGoal, Objective, TargetKind
from app.metrics.services import Better, Kpi, Unit, format_value
from app.organisation.models import TQMPrinciple

ON_TRACK_TOLERANCE = 0.10
AT_RISK_TOLERANCE = 0.25
TITLE_MAX_LENGTH = 200


class GoalStatus(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    NO_DATA = "no_data"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


# --- recording -----------------------------------------------------------------------------------


def _principles(ids: Iterable[int | str], required: bool) -> list[TQMPrinciple]:
    wanted = {int(value) for value in ids}
    found = (
        list(db.session.scalars(select(TQMPrinciple).where(TQMPrinciple.id.in_(wanted))))
        if wanted
        else []
    )
    if len(found) != len(wanted):
        raise ServiceError("Choose principles from the list.", field="principle_ids")
    if required and not found:
        raise ServiceError(
            "Map the initiative to at least one TQM principle.", field="principle_ids"
        )
    return sorted(found, key=lambda principle: principle.id)


def _owner(owner_id: int | str | None) -> User:
    owner = db.session.get(User, int(owner_id)) if owner_id else None
    if owner is None or not owner.active:
        raise ServiceError("Choose an active user as the owner.", field="owner_id")
    return owner


def _title(title: str | None) -> str:
    title = (title or "").strip()
    if not title:
        raise ServiceError("Give a title.", field="title")
    if len(title) > TITLE_MAX_LENGTH:
        raise ServiceError(f"Keep the title within {TITLE_MAX_LENGTH} characters.", field="title")
    return title


def create_objective(
    *, title: str, description: str = "", owner_id: int | str, principle_ids: Iterable = ()
) -> Objective:
    """Record a corporate objective (audited on flush)."""
    objective = Objective(
        title=_title(title),
        description=(description or "").strip(),
        owner=_owner(owner_id),
        principles=_principles(principle_ids, required=False),
    )
    db.session.add(objective)
    db.session.flush()
    return objective


def create_initiative(
    objective: Objective,
    *,
    title: str,
    description: str = "",
    owner_id: int | str,
    principle_ids: Iterable,
    start_date: date | None = None,
    end_date: date | None = None,
) -> Initiative:
    """Record an initiative under `objective`. Refuses: no TQM principle, an end before the
    start."""
    if start_date and end_date and end_date < start_date:
        raise ServiceError("The end must not come before the start.", field="end_date")
    initiative = Initiative(
        objective=objective,
        title=_title(title),
        description=(description or "").strip(),
        owner=_owner(owner_id),
        principles=_principles(principle_ids, required=True),
        start_date=start_date,
        end_date=end_date,
    )
    db.session.add(initiative)
    db.session.flush()
    return initiative


def _checked_goal(
    *,
    kpi: str,
    baseline_start: date,
    baseline_end: date,
    target_kind: str,
    target_value: Decimal | float | str,
    deadline: date,
    owner_id: int | str,
) -> dict[str, object]:
    metric = catalogue.kpi(kpi)
    if metric is None:
        raise ServiceError("Choose a KPI from the list.", field="kpi")
    if baseline_end < baseline_start:
        raise ServiceError("The baseline must end after it starts.", field="baseline_end")
    if baseline_end > utcnow().date():
        raise ServiceError("The baseline must lie in the past.", field="baseline_end")
    if deadline <= baseline_end:
        raise ServiceError("The deadline must come after the baseline.", field="deadline")
    try:
        kind = TargetKind(target_kind)
    except ValueError:
        raise ServiceError("Choose absolute or relative.", field="target_kind") from None
    try:
        value = Decimal(str(target_value))
    except InvalidOperation:
        raise ServiceError("Give a number.", field="target_value") from None
    if value < 0:
        raise ServiceError("The target must not be negative.", field="target_value")
    if kind is TargetKind.RELATIVE and value >= 100 and metric.better is Better.LOWER:
        raise ServiceError("A reduction must be below 100 %.", field="target_value")
    if kind is TargetKind.ABSOLUTE and metric.unit is Unit.RATE and value > 100 and metric.computed:
        raise ServiceError("A rate cannot exceed 100 %.", field="target_value")
    return {
        "kpi": kpi,
        "baseline_start": baseline_start,
        "baseline_end": baseline_end,
        "target_kind": kind,
        "target_value": value,
        "deadline": deadline,
        "owner": _owner(owner_id),
    }


def create_goal(initiative: Initiative, **values: Any) -> MetricGoal:
    """Record a SMART metric goal (fields: kpi, baseline_start, baseline_end, target_kind,
    target_value, deadline, owner_id). Refuses: an unknown KPI, a baseline that ends before it
    starts or in the future, a deadline not after the baseline, a negative target, a relative
    reduction of 100 % or more, a rate target above 100 %, an inactive owner."""
    goal = MetricGoal(initiative=initiative, **_checked_goal(**values))
    db.session.add(goal)
    db.session.flush()
    return goal


def update_goal(goal: MetricGoal, *, expected_version: object, **values: Any) -> MetricGoal:
    """Change a goal (same fields and refusals as `create_goal`); refuses a stale form. The
    change is audited field by field."""
    ensure_current_version(goal, expected_version, "The goal")
    for name, value in _checked_goal(**values).items():
        setattr(goal, name, value)
    db.session.flush()
    return goal


# --- reading -------------------------------------------------------------------------------------


def list_objectives() -> list[Objective]:
    """Every objective with its initiatives, goals, owners and principles (a fixed number of
    queries, however many there are)."""
    return list(
        db.session.scalars(
            select(Objective)
            .options(
                selectinload(Objective.owner),
                selectinload(Objective.principles),
                selectinload(Objective.initiatives).selectinload(Initiative.principles),
                selectinload(Objective.initiatives).selectinload(Initiative.owner),
                selectinload(Objective.initiatives)
                .selectinload(Initiative.goals)
                .selectinload(MetricGoal.owner),
            )
            .order_by(Objective.id)
        )
    )


# --- measuring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalProgress:
    goal: MetricGoal
    baseline: float | None
    target: float | None
    current: float | None
    current_scope: Scope
    progress: float | None
    expected: float
    met: bool
    status: GoalStatus

    kpi: Kpi | None = None

    def show(self, value: float | None) -> str:
        metric = self.kpi or catalogue.kpi(self.goal.kpi)
        return format_value(value, metric.unit) if metric else format_value(value, Unit.COUNT)

    @property
    def progress_percent(self) -> int:
        """Progress for a bar: 0–100."""
        return 0 if self.progress is None else round(max(0.0, min(1.0, self.progress)) * 100)

    @property
    def progress_shown(self) -> str:
        """Progress as every page and report prints it: the bar's 0–100 %, saying so when the
        KPI moved away from the target (a negative share would read as nonsense), "–" unmeasured."""
        if self.progress is None:
            return "–"
        if self.progress < 0:
            return f"{self.progress_percent} %, worse than the baseline"
        return f"{self.progress_percent} %"

    @property
    def expected_shown(self) -> str:
        """The share of the goal's time gone, as printed beside the progress."""
        return f"{round(self.expected * 100)} %"


def target_for(goal: MetricGoal, baseline: float | None) -> float | None:
    """The goal's target in the KPI's unit (rates as 0..1)."""
    kpi = catalogue.kpi(goal.kpi)
    if kpi is None:
        return None
    value = float(goal.target_value)
    if goal.target_kind is TargetKind.ABSOLUTE:
        return value / 100 if kpi.unit is Unit.RATE else value
    if baseline is None:
        return None
    factor = 1 - value / 100 if kpi.better is Better.LOWER else 1 + value / 100
    target = baseline * factor
    return min(target, 1.0) if kpi.unit is Unit.RATE else target


def judge(
    *,
    baseline: float | None,
    target: float | None,
    current: float | None,
    better: Better,
    expected: float,
    deadline_passed: bool,
) -> tuple[float | None, bool, GoalStatus]:
    """(progress, target met, status) by the rules in the module docstring."""
    if baseline is None or current is None or target is None:
        return None, False, GoalStatus.NO_DATA
    met = current <= target if better is Better.LOWER else current >= target
    improvement = baseline - target if better is Better.LOWER else target - baseline
    if improvement <= 0:
        # A hold-the-line target (no better than the baseline): either it holds or it does not.
        return (1.0 if met else 0.0), met, GoalStatus.ON_TRACK if met else GoalStatus.OFF_TRACK
    progress = (current - baseline) / (target - baseline)
    if met or (progress >= expected - ON_TRACK_TOLERANCE and not deadline_passed):
        status = GoalStatus.ON_TRACK
    elif deadline_passed:
        status = GoalStatus.OFF_TRACK
    elif progress >= expected - AT_RISK_TOLERANCE:
        status = GoalStatus.AT_RISK
    else:
        status = GoalStatus.OFF_TRACK
    return progress, met, status


def measure_goal(goal: MetricGoal, today: date | None = None) -> GoalProgress:
    """Baseline, target, current value, progress and status of `goal`, from the data now."""
    today = today or utcnow().date()
    kpi = catalogue.kpi(goal.kpi)
    baseline_scope = Scope.between(goal.baseline_start, goal.baseline_end)
    window_end = min(today, goal.deadline)
    current_scope = Scope.between(window_end - timedelta(days=baseline_scope.days - 1), window_end)
    baseline = catalogue.value(goal.kpi, baseline_scope)
    current = catalogue.value(goal.kpi, current_scope)
    target = target_for(goal, baseline)
    span = (goal.deadline - goal.baseline_end).days
    expected = max(0.0, min(1.0, (today - goal.baseline_end).days / span))
    progress, met, status = judge(
        baseline=baseline,
        target=target,
        current=current,
        better=kpi.better if kpi else Better.HIGHER,
        expected=expected,
        deadline_passed=today > goal.deadline,
    )
    return GoalProgress(
        goal, baseline, target, current, current_scope, progress, expected, met, status, kpi
    )
