"""Two state machines: a supplier's approval status, and a SCAR's review by the quality lead.

Supplier: approved ⇄ conditional ⇄ disqualified, every change with a reason (stamped on the
supplier with the date, and in the audit trail). Quality leads only.

SCAR: awaiting_response → answered (the supplier's answer, through the response link: not a
user transition, see `app.suppliers.scar.record_supplier_answer`) → accepted, or → returned
(with comments) → answered again …; cancelled with a reason from any open state. Accepted and
cancelled SCARs are read-only. Quality leads fire the transitions."""

from __future__ import annotations

from typing import Any

from app.core.db import utcnow
from app.core.permissions import Permission
from app.core.workflow import Workflow, transition
from app.suppliers.models import Scar, ScarStatus, Supplier, SupplierStatus

S = SupplierStatus
Q = ScarStatus


def _stamp_status(supplier: Supplier, user: Any, previous: str) -> None:
    supplier.status_since = utcnow().date()


SUPPLIER_WORKFLOW: Workflow[Supplier] = Workflow(
    record_label="supplier",
    states=tuple(state.value for state in S),
    initial=S.APPROVED.value,
    transitions=(
        transition(
            "approve",
            "Approve",
            [S.CONDITIONAL, S.DISQUALIFIED],
            S.APPROVED,
            Permission.RECORDS_MANAGE,
            effects=[_stamp_status],
            requires_reason=True,
        ),
        transition(
            "make_conditional",
            "Approve conditionally",
            [S.APPROVED, S.DISQUALIFIED],
            S.CONDITIONAL,
            Permission.RECORDS_MANAGE,
            effects=[_stamp_status],
            requires_reason=True,
        ),
        transition(
            "disqualify",
            "Disqualify",
            [S.APPROVED, S.CONDITIONAL],
            S.DISQUALIFIED,
            Permission.RECORDS_MANAGE,
            effects=[_stamp_status],
            requires_reason=True,
        ),
    ),
)


def _needs_answer(scar: Scar) -> str | None:
    if not (scar.root_cause.strip() and scar.corrective_action.strip()):
        return "The supplier has not answered yet."
    return None


def _stamp_accepted(scar: Scar, user: Any, previous: str) -> None:
    scar.accepted_at = utcnow()


SCAR_WORKFLOW: Workflow[Scar] = Workflow(
    record_label="SCAR",
    states=tuple(state.value for state in Q),
    initial=Q.AWAITING_RESPONSE.value,
    transitions=(
        transition(
            "accept",
            "Accept the answer",
            Q.ANSWERED,
            Q.ACCEPTED,
            Permission.RECORDS_MANAGE,
            guards=[_needs_answer],
            effects=[_stamp_accepted],
        ),
        transition(
            "return",
            "Return to the supplier",
            Q.ANSWERED,
            Q.RETURNED,
            Permission.RECORDS_MANAGE,
            requires_reason=True,
        ),
        transition(
            "cancel",
            "Cancel the SCAR",
            [Q.AWAITING_RESPONSE, Q.ANSWERED, Q.RETURNED],
            Q.CANCELLED,
            Permission.RECORDS_MANAGE,
            requires_reason=True,
        ),
    ),
    locked_states=frozenset({Q.ACCEPTED.value, Q.CANCELLED.value}),
)
