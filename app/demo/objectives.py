"""Demo objectives, initiatives and SMART goals, measured against the demo complaints."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.accounts.models import User
from app.core.db import utcnow
from app.extensions import db
from app.metrics import objectives
from app.metrics.models import Objective


def seed_demo_objectives() -> int:
    """Two objectives, three initiatives and five goals (baselines 180–91 days ago, deadlines
    90 days ahead), owned by the demo quality lead. Does nothing when objectives exist; returns
    how many goals it made."""
    if db.session.scalar(select(func.count(Objective.id))):
        return 0
    owner = db.session.scalar(
        select(User).where(User.role == "quality_lead", User.active).order_by(User.id)
    )
    if owner is None:
        return 0
    today = utcnow().date()
    baseline = {
        "baseline_start": today - timedelta(days=180),
        "baseline_end": today - timedelta(days=91),
    }
    deadline = today + timedelta(days=90)
    fast = objectives.create_objective(
        title="Customers get their problem solved fast",
        description="Every complaint answered the same day and solved within the week.",
        owner_id=owner.id,
        principle_ids=[1, 3],
    )
    first_contact = objectives.create_initiative(
        fast,
        title="Resolve at first contact",
        description="Give front-line staff the authority and the knowledge to solve on the spot.",
        owner_id=owner.id,
        principle_ids=[2, 6],
        start_date=baseline["baseline_end"],
        end_date=deadline,
    )
    playbook = objectives.create_initiative(
        fast,
        title="Recovery playbook for front-line staff",
        description="Apologise, explain, fix and follow up: the same four steps everywhere.",
        owner_id=owner.id,
        principle_ids=[2, 8],
    )
    lasting = objectives.create_objective(
        title="Failures do not come back",
        description="Fix the process, prove the fix with data.",
        owner_id=owner.id,
        principle_ids=[6, 7],
    )
    verify = objectives.create_initiative(
        lasting,
        title="Verify every CAPA against the data",
        owner_id=owner.id,
        principle_ids=[3, 7],
    )
    goals = [
        (first_contact, "first_contact_resolution_rate", "relative", Decimal(20)),
        (first_contact, "resolution_median_days", "relative", Decimal(15)),
        (playbook, "csat_mean", "absolute", Decimal("4.2")),
        (verify, "capa_on_time_rate", "absolute", Decimal(90)),
        (verify, "recurrence_rate", "absolute", Decimal(50)),
    ]
    for initiative, kpi, kind, value in goals:
        objectives.create_goal(
            initiative,
            kpi=kpi,
            target_kind=kind,
            target_value=value,
            deadline=deadline,
            owner_id=owner.id,
            **baseline,
        )
    return len(goals)
