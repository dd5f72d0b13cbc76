"""Records the CAPA tests need. Complaints, nonconformities and analyses are built directly with
their models (their domains' services are written in parallel); CAPAs go through the services."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from app.accounts.models import User
from app.capa import effectiveness as capa_effectiveness
from app.capa import services
from app.capa import training as capa_training
from app.capa.models import Capa, CapaStatus, CheckResult, EffectivenessCheck
from app.complaints.models import Channel, Complaint, Severity
from app.core.db import utcnow
from app.core.references import next_reference
from app.extensions import db
from app.nonconformities.models import Nonconformity, NonconformitySource
from app.organisation.models import Category, Process
from app.rca.models import AnalysisMethod, RootCause, RootCauseAnalysis
from tests.conftest import TEST_PASSWORD
from tests.factories import other_lead

_names = itertools.count(1)


def make_process(name: str | None = None) -> Process:
    process = Process(name=name or f"Process {next(_names)}")
    db.session.add(process)
    db.session.flush()
    return process


def make_category(name: str | None = None) -> Category:
    category = Category(name=name or f"Category {next(_names)}")
    db.session.add(category)
    db.session.flush()
    return category


def make_nonconformity(
    *,
    process: Process | None = None,
    category: Category | None = None,
    detected_at: datetime | None = None,
    title: str = "Refunds paid twice",
    complaints: list[Complaint] | None = None,
) -> Nonconformity:
    detected = detected_at or utcnow()
    nc = Nonconformity(
        reference=next_reference(db.session, "NC", detected.year),
        title=title,
        source=NonconformitySource.CUSTOMER_COMPLAINT,
        process_id=process.id if process else None,
        category_id=category.id if category else None,
        detected_at=detected,
        severity=5,
        occurrence=4,
        detection=3,
    )
    nc.complaints = list(complaints or [])
    db.session.add(nc)
    db.session.flush()
    return nc


def make_complaint(
    *,
    process: Process | None = None,
    category: Category | None = None,
    received_at: datetime | None = None,
    title: str = "Charged twice for one order",
) -> Complaint:
    received = received_at or utcnow()
    complaint = Complaint(
        reference=next_reference(db.session, "CMP", received.year),
        title=title,
        received_at=received,
        channel=Channel.EMAIL,
        severity=Severity.MEDIUM,
        process_id=process.id if process else None,
        category_id=category.id if category else None,
    )
    db.session.add(complaint)
    db.session.flush()
    return complaint


def make_root_cause(nc: Nonconformity, statement: str = "No duplicate-payment check") -> RootCause:
    analysis = RootCauseAnalysis(nonconformity=nc, method=AnalysisMethod.FIVE_WHYS)
    cause = RootCause(analysis=analysis, statement=statement, cause_category="method")
    db.session.add_all([analysis, cause])
    db.session.flush()
    return cause


def plan(owner: User, **overrides: Any) -> Capa:
    values: dict[str, Any] = {
        "kind": "corrective",
        "recovery_dimension": "process",
        "title": "Add a duplicate-payment check",
        "description": "Block a second refund for the same order.",
        "owner_id": owner.id,
        "due_date": services.today_utc() + timedelta(days=30),
        "principle_ids": [3, 6],
    }
    values.update(overrides)
    return services.plan_capa(**values)


def advance(
    capa: Capa,
    status: CapaStatus,
    lead: User,
    *,
    check_result: str = "passed",
    signer: User | None = None,
) -> Capa:
    """Walk `capa` through the workflow up to `status` as quality lead `lead`; the signatures
    are given by `signer` (default: another quality lead, as separation of duties asks)."""
    order = [
        CapaStatus.PLANNED,
        CapaStatus.IN_PROGRESS,
        CapaStatus.IMPLEMENTED,
        CapaStatus.VERIFYING,
        CapaStatus.EFFECTIVE,
        CapaStatus.CLOSED,
    ]
    if status == CapaStatus.INEFFECTIVE:
        advance(capa, CapaStatus.VERIFYING, lead)
        check = pending_check(capa, lead)
        capa_effectiveness.record_check_result(
            check, result="failed", evidence="Came back", user=lead
        )
        return capa
    target = order.index(status)
    if target >= 1 and capa.status == CapaStatus.PLANNED:
        services.transition_capa(capa, "start", lead)
    if target >= 2 and capa.status == CapaStatus.IN_PROGRESS:
        for training in capa.trainings:
            if training.completed_at is None:
                capa_training.complete_training(training, lead)
        services.transition_capa(capa, "implement", lead)
    if target >= 3 and capa.status == CapaStatus.IMPLEMENTED:
        pending_check(capa, lead)
        services.transition_capa(capa, "verify", lead)
    if target >= 4 and capa.status == CapaStatus.VERIFYING:
        check = pending_check(capa, lead)
        capa_effectiveness.record_check_result(
            check, result=check_result, evidence="Audited", user=lead
        )
        signer = signer or other_lead(capa.owner, capa.implemented_by)
        services.verify_effectiveness(capa, signer, TEST_PASSWORD, "verified")
    if target >= 5 and capa.status == CapaStatus.EFFECTIVE:
        signer = signer or other_lead(capa.owner, capa.implemented_by)
        services.close_capa(capa, signer, TEST_PASSWORD, "approved")
    return capa


def pending_check(capa: Capa, lead: User) -> EffectivenessCheck:
    """A pending manual check of `capa`, planned now if it has none."""
    for check in capa.checks:
        if check.result == CheckResult.PENDING:
            return check
    return capa_effectiveness.plan_effectiveness_check(
        capa,
        criterion="No duplicate refunds in the next payment run",
        method="manual_review",
        window_days=None,
        due_date=services.today_utc() + timedelta(days=10),
        user=lead,
    )
