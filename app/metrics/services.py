"""Figures for the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.extensions import db
from app.organisation.models import Customer, Process, Site


@dataclass(frozen=True)
class Tile:
    label: str
    value: int
    note: str


def overview_tiles() -> list[Tile]:
    """The start page's counts, each one query the database aggregates."""
    week_ago = utcnow() - timedelta(days=7)

    def count(statement) -> int:
        return db.session.scalar(statement) or 0

    return [
        Tile(
            "Active customers",
            count(select(func.count(Customer.id)).where(Customer.active)),
            "in the customer register",
        ),
        Tile(
            "Processes",
            count(select(func.count(Process.id)).where(Process.active)),
            "defined and owned",
        ),
        Tile(
            "Sites", count(select(func.count(Site.id)).where(Site.active)), "where the work happens"
        ),
        Tile(
            "Audit events this week",
            count(select(func.count(AuditEvent.id)).where(AuditEvent.occurred_at >= week_ago)),
            "changes recorded in the trail",
        ),
    ]
