"""Records for nonconformity and analysis tests.

Nonconformities and analyses are built through their services, as the app does. Complaints and
CAPAs are built directly with their models (their domains' services are another engineer's work).
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from app.accounts.models import User
from app.capa.models import Capa, CapaKind, CapaStatus, RecoveryDimension
from app.complaints.models import Channel, Complaint, Severity
from app.core.db import utcnow
from app.core.references import next_reference
from app.extensions import db
from app.nonconformities import services
from app.nonconformities.models import Nonconformity
from app.organisation.models import Category, Process
from app.rca import services as rca_services
from app.rca.models import AnalysisMethod, RootCauseAnalysis

_sequence = itertools.count(1)


def make_process(name: str | None = None, **fields: Any) -> Process:
    process = Process(name=name or f"Process {next(_sequence)}", **fields)
    db.session.add(process)
    db.session.flush()
    return process


def make_category(name: str | None = None, **fields: Any) -> Category:
    category = Category(name=name or f"Category {next(_sequence)}", **fields)
    db.session.add(category)
    db.session.flush()
    return category


def make_complaint(**fields: Any) -> Complaint:
    received_at = fields.pop("received_at", None) or utcnow() - timedelta(days=2)
    complaint = Complaint(
        reference=next_reference(db.session, "CMP", received_at.year),
        title=fields.pop("title", "Invoice sent twice"),
        description=fields.pop("description", "The customer was billed twice for March."),
        received_at=received_at,
        channel=fields.pop("channel", Channel.EMAIL),
        severity=fields.pop("severity", Severity.MEDIUM),
        **fields,
    )
    db.session.add(complaint)
    db.session.flush()
    return complaint


def make_capa(nc: Nonconformity, status: CapaStatus = CapaStatus.PLANNED, **fields: Any) -> Capa:
    capa = Capa(
        reference=next_reference(db.session, "CAPA", utcnow().year),
        title=fields.pop("title", "Check invoices before sending"),
        kind=fields.pop("kind", CapaKind.CORRECTIVE),
        recovery_dimension=fields.pop("recovery_dimension", RecoveryDimension.PROCESS),
        status=status,
        **fields,
    )
    capa.nonconformities.append(nc)
    db.session.add(capa)
    db.session.flush()
    return capa


def raise_nc(
    *, detected_at: datetime | None = None, user: User | None = None, **fields: Any
) -> Nonconformity:
    values: dict[str, Any] = {
        "title": "Invoices duplicated by the billing run",
        "source": "process_monitoring",
        "detected_at": detected_at or utcnow() - timedelta(hours=3),
        "severity": 7,
        "occurrence": 5,
        "detection": 4,
        "description": "The nightly billing run sent 40 invoices twice.",
    }
    values.update(fields)
    return services.raise_nonconformity(user=user, **values)


def start(
    nc: Nonconformity, method: str | AnalysisMethod = "five_whys", user: User | None = None
) -> RootCauseAnalysis:
    return rca_services.start_analysis(
        nc,
        method,
        "Customers received duplicate invoices",
        user,  # type: ignore[arg-type]
    )
