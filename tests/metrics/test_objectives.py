"""Goals: their recording rules, and progress and status computed from the data."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core.audit import AuditEvent
from app.core.errors import ServiceError
from app.extensions import db
from app.metrics import objectives
from app.metrics.objectives import GoalStatus, judge
from app.metrics.services import Better, Unit, format_value
from tests.metrics import dataset


@pytest.mark.parametrize(
    ("current", "expected", "passed", "status", "progress"),
    [
        # baseline 10, target 8 (lower is better): 2 units of planned improvement.
        (8.0, 0.5, False, GoalStatus.ON_TRACK, 1.0),  # target met
        (9.0, 0.5, False, GoalStatus.ON_TRACK, 0.5),  # progress 0.5 ≥ 0.5 − 0.10
        (9.2, 0.5, False, GoalStatus.ON_TRACK, 0.4),  # 0.4 ≥ 0.40: the edge is on track
        (9.4, 0.5, False, GoalStatus.AT_RISK, 0.3),  # 0.3 ≥ 0.25 but < 0.40
        (9.6, 0.5, False, GoalStatus.OFF_TRACK, 0.2),  # 0.2 < 0.25
        (11.0, 0.1, False, GoalStatus.OFF_TRACK, -0.5),  # worse than the baseline
        (9.0, 1.0, True, GoalStatus.OFF_TRACK, 0.5),  # the deadline passed unmet
        (7.5, 1.0, True, GoalStatus.ON_TRACK, 1.25),  # met, even after the deadline
    ],
)
def test_status_rules(current, expected, passed, status, progress) -> None:
    got_progress, _, got_status = judge(
        baseline=10.0,
        target=8.0,
        current=current,
        better=Better.LOWER,
        expected=expected,
        deadline_passed=passed,
    )
    assert got_status is status
    assert got_progress == pytest.approx(progress)


def test_a_hold_the_line_target_is_met_or_not() -> None:
    # Baseline 5 days, target "at most 6 days": no improvement asked for.
    assert judge(
        baseline=5.0,
        target=6.0,
        current=5.5,
        better=Better.LOWER,
        expected=0.5,
        deadline_passed=False,
    ) == (1.0, True, GoalStatus.ON_TRACK)
    assert judge(
        baseline=5.0,
        target=6.0,
        current=6.5,
        better=Better.LOWER,
        expected=0.5,
        deadline_passed=False,
    ) == (0.0, False, GoalStatus.OFF_TRACK)


def test_status_for_a_higher_is_better_kpi_and_missing_data() -> None:
    # FCR from 20 % to 30 %: at 26 % the goal is 60 % of the way.
    progress, met, status = judge(
        baseline=0.2,
        target=0.3,
        current=0.26,
        better=Better.HIGHER,
        expected=0.8,
        deadline_passed=False,
    )
    assert progress == pytest.approx(0.6) and not met and status is GoalStatus.AT_RISK
    assert (
        judge(
            baseline=None,
            target=0.3,
            current=0.2,
            better=Better.HIGHER,
            expected=0.5,
            deadline_passed=False,
        )[2]
        is GoalStatus.NO_DATA
    )
    assert (
        judge(
            baseline=0.2,
            target=0.3,
            current=None,
            better=Better.HIGHER,
            expected=0.5,
            deadline_passed=False,
        )[2]
        is GoalStatus.NO_DATA
    )


@pytest.fixture()
def initiative(session, make_user):
    owner = make_user("quality_lead")
    owner = db.session.merge(owner)
    objective = objectives.create_objective(
        title="Solve problems fast", owner_id=owner.id, principle_ids=[1, 7]
    )
    return objectives.create_initiative(
        objective, title="Resolution sprint", owner_id=owner.id, principle_ids=[3, 6]
    )


def test_a_goal_is_measured_from_the_data(initiative) -> None:
    dataset.build()
    goal = objectives.create_goal(
        initiative,
        kpi="resolution_mean_days",
        baseline_start=date(2026, 2, 19),
        baseline_end=date(2026, 2, 28),
        target_kind="relative",
        target_value=Decimal(20),
        deadline=date(2026, 4, 30),
        owner_id=initiative.owner_id,
    )
    result = objectives.measure_goal(goal, today=date(2026, 3, 10))
    assert result.baseline == pytest.approx(5.0)  # c6, the only complaint in the baseline
    assert result.target == pytest.approx(4.0)  # 20 % lower
    assert result.current == pytest.approx((1 + 3 + 0.25) / 3)  # 1–10 March: c1, c2, c3
    assert result.current_scope.days == 10
    assert result.met and result.status is GoalStatus.ON_TRACK
    assert result.expected == pytest.approx(10 / 61)  # 10 of the 61 days to the deadline
    absolute = objectives.create_goal(
        initiative,
        kpi="escalation_rate",
        baseline_start=date(2026, 2, 19),
        baseline_end=date(2026, 2, 28),
        target_kind="absolute",
        target_value=Decimal(10),
        deadline=date(2026, 3, 12),
        owner_id=initiative.owner_id,
    )
    result = objectives.measure_goal(absolute, today=date(2026, 3, 10))
    assert result.baseline == pytest.approx(0.0)  # c6 was not escalated
    assert result.target == pytest.approx(0.10)  # rates are entered in %
    assert result.current == pytest.approx(0.4)  # 2 of 5
    # Worse than the baseline with 10 of 12 days gone: off track.
    assert result.status is GoalStatus.OFF_TRACK


def test_goals_objectives_and_initiatives_are_audited(initiative) -> None:
    goal = objectives.create_goal(
        initiative,
        kpi="csat_mean",
        baseline_start=date(2026, 1, 1),
        baseline_end=date(2026, 1, 31),
        target_kind="absolute",
        target_value=Decimal("4.2"),
        deadline=date.today() + timedelta(days=90),
        owner_id=initiative.owner_id,
    )
    db.session.flush()
    recorded = {
        (event.record_type, event.record_id)
        for event in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "create"))
    }
    assert ("objective", str(initiative.objective_id)) in recorded
    assert ("initiative", str(initiative.id)) in recorded
    assert ("metric_goal", str(goal.id)) in recorded


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kpi": "happiness"}, "kpi"),
        ({"baseline_end": date(2025, 12, 1)}, "baseline_end"),
        ({"deadline": date(2026, 1, 15)}, "deadline"),
        ({"target_value": Decimal(100)}, "target_value"),  # a 100 % reduction
        (
            {"kpi": "escalation_rate", "target_kind": "absolute", "target_value": Decimal(120)},
            "target_value",
        ),
        ({"owner_id": 0}, "owner_id"),
    ],
)
def test_goal_refusals(initiative, changes, field) -> None:
    values = {
        "kpi": "resolution_median_days",
        "baseline_start": date(2026, 1, 1),
        "baseline_end": date(2026, 1, 31),
        "target_kind": "relative",
        "target_value": Decimal(20),
        "deadline": date(2026, 12, 31),
        "owner_id": initiative.owner_id,
        **changes,
    }
    with pytest.raises(ServiceError) as raised:
        objectives.create_goal(initiative, **values)
    assert raised.value.field == field


def test_an_initiative_needs_a_principle(session, make_user) -> None:
    owner = db.session.merge(make_user("quality_lead"))
    objective = objectives.create_objective(title="Objective", owner_id=owner.id)
    with pytest.raises(ServiceError) as raised:
        objectives.create_initiative(
            objective, title="No principle", owner_id=owner.id, principle_ids=[]
        )
    assert raised.value.field == "principle_ids"


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (0.8, Unit.COUNT, "0.8"),  # 20 % fewer than one complaint: not "0"
        (2.7, Unit.COUNT, "2.7"),
        (1200, Unit.COUNT, "1,200"),
        (0.125, Unit.RATE, "12.5 %"),
        (None, Unit.COUNT, "–"),
    ],
)
def test_goal_figures_are_shown_without_truncation(value, unit, shown) -> None:
    assert format_value(value, unit) == shown
