"""Records the FMEA tests need, made through the FMEA services."""

from __future__ import annotations

from typing import Any

from app.fmea import services
from app.fmea.models import Fmea, FmeaRow
from app.organisation.models import Category, Process


def make_fmea(lead, process: Process, **fields: Any) -> Fmea:
    return services.create_fmea(
        title=fields.pop("title", "Refund handling PFMEA"),
        process_id=process.id,
        team=fields.pop("team", "Quinn Lead (quality), Casey Staff (billing)"),
        scope=fields.pop("scope", "Refunds from request to payment"),
        user=lead,
        **fields,
    )


def row_values(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "process_step": "Approve refund",
        "failure_mode": "Refund paid twice",
        "effect": "Money lost; customer confused",
        "cause": "No check for an earlier refund of the order",
        "prevention_controls": "Agent training",
        "detection_controls": "Monthly reconciliation",
        "recommended_action": "Block a second refund for the same order in the system",
        "severity": 7,
        "occurrence": 5,
        "detection": 6,
    }
    values.update(overrides)
    return values


def make_row(
    fmea: Fmea, lead, categories: list[Category] | None = None, **overrides: Any
) -> FmeaRow:
    return services.add_row(
        fmea,
        values=row_values(**overrides),
        category_ids=[c.id for c in categories or []],
        user=lead,
    )
