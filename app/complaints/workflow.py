"""The complaint workflow: received → acknowledged → investigating → resolved → closed, reopened.

First-response and resolution times are stamped here, by the transitions, never typed by hand.
A closed complaint is read-only until it is reopened with a reason.
"""

from __future__ import annotations

from app.complaints.models import Complaint, ComplaintStatus
from app.core.db import utcnow
from app.core.permissions import Permission
from app.core.workflow import Workflow, transition

S = ComplaintStatus


def _stamp_first_response(complaint: Complaint, user: object, previous: str) -> None:
    if complaint.first_response_at is None:
        complaint.first_response_at = utcnow()


def _stamp_resolution(complaint: Complaint, user: object, previous: str) -> None:
    # Resolved straight from "received": the customer's first contact settled it.
    complaint.first_contact_resolution = previous == S.RECEIVED
    complaint.resolved_at = utcnow()
    if complaint.first_response_at is None:
        # Resolving is the first response: one moment, not two a few microseconds apart.
        complaint.first_response_at = complaint.resolved_at


def _stamp_closure(complaint: Complaint, user: object, previous: str) -> None:
    complaint.closed_at = utcnow()


def _clear_resolution(complaint: Complaint, user: object, previous: str) -> None:
    complaint.resolved_at = None
    complaint.closed_at = None
    complaint.first_contact_resolution = False


COMPLAINT_WORKFLOW: Workflow[Complaint] = Workflow(
    record_label="complaint",
    states=tuple(status.value for status in ComplaintStatus),
    initial=S.RECEIVED,
    assignee_of=lambda complaint: (complaint.assignee_id,),
    locked_states=frozenset({S.CLOSED}),
    transitions=(
        transition(
            "acknowledge",
            "Acknowledge",
            S.RECEIVED,
            S.ACKNOWLEDGED,
            Permission.RECORDS_MANAGE,
            assignee_may=True,
            effects=[_stamp_first_response],
        ),
        transition(
            "investigate",
            "Start investigation",
            [S.ACKNOWLEDGED, S.REOPENED],
            S.INVESTIGATING,
            Permission.RECORDS_MANAGE,
            assignee_may=True,
            effects=[_stamp_first_response],
        ),
        transition(
            "resolve",
            "Resolve",
            [S.RECEIVED, S.ACKNOWLEDGED, S.INVESTIGATING],
            S.RESOLVED,
            Permission.RECORDS_MANAGE,
            assignee_may=True,
            effects=[_stamp_resolution],
        ),
        transition(
            "close",
            "Close",
            S.RESOLVED,
            S.CLOSED,
            Permission.RECORDS_MANAGE,
            effects=[_stamp_closure],
        ),
        transition(
            "reopen",
            "Reopen",
            [S.RESOLVED, S.CLOSED],
            S.REOPENED,
            Permission.RECORDS_MANAGE,
            assignee_may=True,
            requires_reason=True,
            effects=[_clear_resolution],
        ),
    ),
)
