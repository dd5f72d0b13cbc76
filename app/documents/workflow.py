"""The revision workflow: draft → in review → approved → effective → superseded, or obsolete.

Submitting, reviewing and approving are signed (meanings authored, reviewed, approved); the
services pair each with its signature. Approval needs a review signature first and, unless
LOOP_DOCUMENT_SELF_APPROVAL allows it, an approver other than the revision's author.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context

from app.core.permissions import Permission
from app.core.workflow import Workflow, transition
from app.documents.models import DocumentRevision, RevisionStatus

S = RevisionStatus
REVIEW_PURPOSE = "document_review"
APPROVAL_PURPOSE = "document_approval"
AUTHOR_PURPOSE = "document_authored"


def self_approval_allowed() -> bool:
    if not has_app_context():
        return False
    return bool(current_app.config.get("LOOP_DOCUMENT_SELF_APPROVAL", False))


def _reviewed(revision: DocumentRevision) -> str | None:
    from app.documents.services import has_valid_signature

    if not has_valid_signature(revision, REVIEW_PURPOSE):
        return "A reviewer must sign the revision (meaning “reviewed”) before it is approved."
    return None


def _not_the_author(revision: DocumentRevision, user: Any) -> str | None:
    if self_approval_allowed() or user is None:
        return None
    if revision.author_id is not None and revision.author_id == user.id:
        return (
            "You wrote this revision: someone other than its author must approve it "
            "(LOOP_DOCUMENT_SELF_APPROVAL is off)."
        )
    return None


def _editors(revision: DocumentRevision) -> list[int | None]:
    return [revision.document.owner_id, revision.author_id]


REVISION_WORKFLOW: Workflow[DocumentRevision] = Workflow(
    record_label="revision",
    states=tuple(S),
    initial=S.DRAFT,
    assignee_of=_editors,
    transitions=(
        transition(
            "submit",
            "Submit for review",
            S.DRAFT,
            S.IN_REVIEW,
            Permission.RECORDS_MANAGE,
            assignee_may=True,
        ),
        transition(
            "return_to_draft",
            "Return to draft",
            S.IN_REVIEW,
            S.DRAFT,
            Permission.RECORDS_SIGN,
            requires_reason=True,
            voids_signatures=True,
        ),
        transition(
            "approve",
            "Approve",
            S.IN_REVIEW,
            S.APPROVED,
            Permission.RECORDS_SIGN,
            guards=[_reviewed],
            duties=[_not_the_author],
        ),
        transition(
            "make_effective", "Make effective", S.APPROVED, S.EFFECTIVE, Permission.RECORDS_MANAGE
        ),
        transition("supersede", "Supersede", S.EFFECTIVE, S.SUPERSEDED, Permission.RECORDS_MANAGE),
        transition(
            "obsolete",
            "Withdraw (obsolete)",
            S.EFFECTIVE,
            S.OBSOLETE,
            Permission.RECORDS_MANAGE,
            requires_reason=True,
        ),
    ),
)
