"""Records the supplier tests share: a lead, a nonconformity attributed to a supplier, a SCAR."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from app.accounts.models import User
from app.core.db import utcnow
from app.extensions import db
from app.nonconformities import services as nc_services
from app.nonconformities.models import Nonconformity
from app.suppliers import scar as scar_services
from app.suppliers import services
from app.suppliers.models import Scar, Supplier
from tests import factories

LINK = re.compile(r"https?://[^\s]+/supplier-response/([A-Za-z0-9_\-]+)")


def raise_nc(lead: User, title: str = "Cracked housings", detected_at: datetime | None = None):
    return nc_services.raise_nonconformity(
        title=title,
        source="supplier",
        detected_at=detected_at or datetime.now(UTC) - timedelta(days=1),
        severity=6,
        occurrence=4,
        detection=3,
        owner_id=lead.id,
        user=lead,
    )


@dataclass
class Setup:
    lead: User
    supplier: Supplier
    nc: Nonconformity


def supplier_with_nc(
    *, email: str = "quality@acme-parts.example", name: str = "Acme Parts"
) -> Setup:
    lead = factories.create_user("quality_lead", full_name="Quinn Lead")
    supplier = services.create_supplier(
        name=name, contact_name="Sam Supplier", contact_email=email, user=lead
    )
    nc = raise_nc(lead, title="Secret internal title: housing cracks at Plant 7")
    services.attribute(supplier, "nonconformity", nc.reference, user=lead)
    return Setup(lead, supplier, nc)


def issue(setup: Setup, due: date | None = None) -> tuple[Scar, str]:
    issued = scar_services.issue_scar(
        setup.nc,
        problem="Housings of lot 4711 crack when fitted.",
        due_date=due or utcnow().date() + timedelta(days=14),
        owner_id=setup.lead.id,
        user=setup.lead,
    )
    db.session.flush()
    return issued.scar, issued.token


ANSWER = {
    "answered_by": "Sam Supplier",
    "containment": "Lot 4711 quarantined and replaced.",
    "root_cause": "Moulding temperature drifted; no SPC on the press.",
    "corrective_action": "SPC on press 3 with alarm limits.",
    "verification": "Three lots inspected, no cracks.",
}
