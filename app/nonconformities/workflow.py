"""The nonconformity workflow: open → contained → under_investigation → action_planned →
verifying → closed, or cancelled with a reason. It cannot close while a linked CAPA is open.

Closed and cancelled nonconformities are read-only until reopened with a reason (back to under
investigation), which voids the closure signature. Separation of duties: the closure is signed by
a quality lead other than the nonconformity's owner."""

from __future__ import annotations

from app.capa.models import CapaStatus
from app.core.db import utcnow
from app.core.permissions import Permission
from app.core.workflow import Workflow, signer_other_than, transition
from app.nonconformities.models import Nonconformity, NonconformityStatus

S = NonconformityStatus
_IMPLEMENTED_OR_LATER = {
    CapaStatus.IMPLEMENTED,
    CapaStatus.VERIFYING,
    CapaStatus.EFFECTIVE,
    CapaStatus.CLOSED,
}


def _needs_containment(nc: Nonconformity) -> str | None:
    if not nc.containment_action.strip():
        return "Describe the containment action first."
    return None


def _needs_a_capa(nc: Nonconformity) -> str | None:
    if not nc.capas:
        return "Plan at least one CAPA for this nonconformity first."
    return None


def _needs_implemented_capas(nc: Nonconformity) -> str | None:
    pending = [capa.reference for capa in nc.capas if capa.status not in _IMPLEMENTED_OR_LATER]
    if pending:
        return f"These CAPAs are not implemented yet: {', '.join(pending)}."
    return None


def _needs_closed_capas(nc: Nonconformity) -> str | None:
    still_open = [capa.reference for capa in nc.capas if capa.status != CapaStatus.CLOSED]
    if still_open:
        return f"A nonconformity cannot close while a linked CAPA is open: {', '.join(still_open)}."
    return None


def _stamp_containment(nc: Nonconformity, user: object, previous: str) -> None:
    nc.contained_at = utcnow()


def _stamp_closure(nc: Nonconformity, user: object, previous: str) -> None:
    nc.closed_at = utcnow()


def _clear_closure(nc: Nonconformity, user: object, previous: str) -> None:
    nc.closed_at = None


_signer_not_owner = signer_other_than(lambda nc: [("the nonconformity's owner", nc.owner)])


NONCONFORMITY_WORKFLOW: Workflow[Nonconformity] = Workflow(
    record_label="nonconformity",
    states=tuple(status.value for status in NonconformityStatus),
    initial=S.OPEN,
    assignee_of=lambda nc: (nc.owner_id,),
    locked_states=frozenset({S.CLOSED, S.CANCELLED}),
    transitions=(
        transition(
            "contain",
            "Mark contained",
            S.OPEN,
            S.CONTAINED,
            Permission.RECORDS_MANAGE,
            assignee_may=True,
            guards=[_needs_containment],
            effects=[_stamp_containment],
        ),
        transition(
            "investigate",
            "Start investigation",
            [S.OPEN, S.CONTAINED],
            S.UNDER_INVESTIGATION,
            Permission.RECORDS_MANAGE,
            assignee_may=True,
        ),
        transition(
            "plan_action",
            "Mark action planned",
            S.UNDER_INVESTIGATION,
            S.ACTION_PLANNED,
            Permission.RECORDS_MANAGE,
            guards=[_needs_a_capa],
        ),
        transition(
            "verify",
            "Start verification",
            S.ACTION_PLANNED,
            S.VERIFYING,
            Permission.RECORDS_MANAGE,
            guards=[_needs_implemented_capas],
        ),
        transition(
            "close",
            "Close",
            S.VERIFYING,
            S.CLOSED,
            Permission.RECORDS_MANAGE,
            guards=[_needs_closed_capas],
            duties=[_signer_not_owner],
            effects=[_stamp_closure],
        ),
        transition(
            "cancel",
            "Cancel",
            [S.OPEN, S.CONTAINED, S.UNDER_INVESTIGATION, S.ACTION_PLANNED, S.VERIFYING],
            S.CANCELLED,
            Permission.RECORDS_MANAGE,
            requires_reason=True,
        ),
        transition(
            "reopen",
            "Reopen",
            [S.CLOSED, S.CANCELLED],
            S.UNDER_INVESTIGATION,
            Permission.RECORDS_MANAGE,
            requires_reason=True,
            voids_signatures=True,
            effects=[_clear_closure],
        ),
    ),
)
