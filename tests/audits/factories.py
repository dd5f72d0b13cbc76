"""Records for audit tests, built through the services as the app builds them."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from app.audits import library, services
from app.audits.models import Audit, AuditProgramme, ChecklistTemplate, Clause, Standard
from app.extensions import db
from app.organisation.models import Process
from tests import factories

_sequence = itertools.count(1)


def clause(number: str) -> Clause:
    """A clause of the shipped ISO 9001:2015."""
    found = db.session.scalar(
        select(Clause).join(Standard).where(Standard.builtin.is_(True), Clause.number == number)
    )
    assert found is not None, number
    return found


def user(role: str = "quality_lead", name: str | None = None):
    return factories.create_user(role, full_name=name or f"Test {role} {next(_sequence)}")


def process(name: str | None = None, owner=None) -> Process:
    record = Process(name=name or f"Audited process {next(_sequence)}", owner=owner)
    db.session.add(record)
    db.session.flush()
    return record


def programme(year: int = 2026) -> AuditProgramme:
    return services.get_programme(year) or services.create_programme(year)


def template(name: str | None = None, questions: int = 2) -> ChecklistTemplate:
    numbers = ["8.5", "9.1", "7.5", "10.2"]
    return library.create_template(
        name or f"Checklist {next(_sequence)}",
        "Service delivery checks",
        [
            (f"Question {index + 1}: is clause {numbers[index]} met?", clause(numbers[index]).id)
            for index in range(questions)
        ],
    )


def audit(lead=None, *, processes=None, team=(), start=date(2026, 3, 2), **fields: Any) -> Audit:
    lead = lead or user("contributor", "Ada Auditor")
    return services.plan_audit(
        programme(start.year),
        title=fields.pop("title", "Billing process audit"),
        planned_start=start,
        planned_end=fields.pop("end", None) or start + timedelta(days=2),
        lead_auditor_id=lead.id,
        team_ids=[member.id for member in team],
        process_ids=[item.id for item in (processes if processes is not None else [process()])],
        clause_ids=fields.pop("clause_ids", [clause("8.5").id]),
        **fields,
    )


def audit_in_progress(lead_user, **fields: Any) -> Audit:
    """An audit with one checklist, started by `lead_user` (a quality lead)."""
    record = audit(**fields)
    services.add_checklist(record, template().id, user=lead_user)
    services.transition_audit(record, "prepare", lead_user)
    services.transition_audit(record, "start", lead_user)
    return record
