"""Demo document control and evidence: controlled documents with several revisions (superseded
ones kept), read-and-understood confirmations, a review that is overdue, a revision in review,
and files attached to complaints and CAPAs.

Revisions go through the real workflow and services; the seed gives the signatures itself (it
knows no passwords) and then moves the history into the past, so the "in force on a date" page
has something to answer. A second quality lead approves: the author may not approve their own
revision.
"""

from __future__ import annotations

import io
import secrets
from datetime import timedelta

from sqlalchemy import func, select

from app.accounts.models import User
from app.accounts.services import create_user
from app.attachments import services as attachments
from app.capa.models import Capa, CapaStatus
from app.complaints.models import Complaint, ComplaintStatus
from app.core.db import utcnow
from app.core.signatures import SignatureMeaning, record_signature
from app.documents import reading, services
from app.documents.models import ControlledDocument, DocumentRevision
from app.documents.workflow import (
    APPROVAL_PURPOSE,
    AUTHOR_PURPOSE,
    REVIEW_PURPOSE,
    REVISION_WORKFLOW,
)
from app.extensions import db
from app.organisation.models import Process

APPROVER = ("approver@loop.example", "Morgan Approver")

POLICY_V1 = """# Quality policy

We put the customer first: every complaint is answered the same working day.

- Failures are recorded as nonconformities and analysed for their cause.
- Corrective actions are checked for effectiveness against data.
"""
POLICY_V2 = (
    POLICY_V1
    + """- Staff are trained on every procedure that changes, and confirm they read it.
"""
)
COMPLAINTS_V1 = """# Handling customer complaints

1. Record the complaint with its channel and severity.
2. Acknowledge it to the customer within 4 working hours.
3. Investigate, resolve and close it with the customer's agreement.
"""
COMPLAINTS_V2 = COMPLAINTS_V1.replace("4 working hours", "2 working hours")
COMPLAINTS_V3 = (
    COMPLAINTS_V2
    + """4. If a refund is due, check for an earlier refund of the same order **before** paying.

| Severity | First response |
|---|---|
| High | 1 hour |
| Medium | 2 hours |
| Low | 1 working day |
"""
)
REFUNDS = """# Approving refunds

Refunds above 200 EUR need a second approval from the billing team lead.
Record the order number and the reason in the complaint.
"""
ESCALATION = """# Escalating complaints

Escalate to level 2 when the customer has called three times about the same fault.
"""


def _approver() -> tuple[User, tuple[str, str, str] | None]:
    existing = db.session.scalar(select(User).where(User.email == APPROVER[0]))
    if existing is not None:
        return existing, None
    password = secrets.token_urlsafe(12)
    user = create_user(APPROVER[0], APPROVER[1], "quality_lead", password)
    return user, (APPROVER[0], "quality_lead", password)


def _release(revision: DocumentRevision, author: User, approver: User) -> None:
    """Submit, review, approve and make effective, with the three signatures."""
    REVISION_WORKFLOW.fire(revision, "submit", author)
    revision.submitted_at = utcnow()
    record_signature(db.session, revision, author, SignatureMeaning.AUTHORED, AUTHOR_PURPOSE)
    record_signature(db.session, revision, approver, SignatureMeaning.REVIEWED, REVIEW_PURPOSE)
    REVISION_WORKFLOW.fire(revision, "approve", approver)
    revision.approved_at = utcnow()
    record_signature(db.session, revision, approver, SignatureMeaning.APPROVED, APPROVAL_PURPOSE)
    services.make_effective(revision, approver)


def _revise(document: ControlledDocument, author: User, reason: str, body: str, capa=None):  # type: ignore[no-untyped-def]
    revision = services.start_revision(
        document,
        change_reason=reason,
        capa_reference=capa.reference if capa else None,
        user=author,
    )
    services.save_draft(
        revision,
        body_markdown=body,
        upload=None,
        change_reason=reason,
        capa_reference=capa.reference if capa else None,
        expected_version=revision.version,
        user=author,
    )
    return revision


def _backdate(document: ControlledDocument, starts_days_ago: list[int]) -> None:
    """Put the document's effective history `starts_days_ago` (one per released revision)."""
    now = utcnow()
    released = [r for r in document.revisions if r.effective_from is not None]
    starts = [now - timedelta(days=days) for days in starts_days_ago]
    document.created_at = starts[0] - timedelta(days=7)
    for index, revision in enumerate(released):
        revision.effective_from = starts[index]
        if revision.effective_until is not None and index + 1 < len(starts):
            revision.effective_until = starts[index + 1]
        for acknowledgement in reading.acknowledgements_of(revision):
            acknowledgement.assigned_at = starts[index]
            acknowledgement.due_date = starts[index].date() + timedelta(days=services.read_days())
    document.review_due = services.add_months(starts[-1].date(), document.review_interval_months)


def _pdf(title: str, lines: list[str]) -> bytes:
    from weasyprint import HTML

    body = "".join(f"<p>{line}</p>" for line in lines)
    return HTML(string=f"<h1>{title}</h1>{body}").write_pdf()


def seed_demo_documents() -> tuple[int, list[tuple[str, str, str]]]:
    """Five documents and some attachments; does nothing when documents exist. Returns how many
    documents it made and the credentials of a user it created (the approver)."""
    if db.session.scalar(select(func.count(ControlledDocument.id))):
        return 0, []
    lead = db.session.scalar(
        select(User).where(User.role == "quality_lead", User.active).order_by(User.id)
    )
    staff = db.session.scalar(
        select(User).where(User.role == "contributor", User.active).order_by(User.id)
    )
    if lead is None:
        return 0, []
    approver, credentials = _approver()
    processes = {p.name: p for p in db.session.scalars(select(Process))}
    capa = db.session.scalar(select(Capa).order_by(Capa.id))

    def process_ids(*names: str) -> list[int]:
        return [processes[name].id for name in names if name in processes]

    policy = services.create_document(
        doc_type="policy",
        title="Quality policy",
        owner_id=lead.id,
        reader_roles=["contributor", "quality_lead"],
        review_interval_months=24,
        change_reason="First issue of the quality policy",
        body_markdown=POLICY_V1,
        user=lead,
    )
    _release(policy.revisions[0], lead, approver)
    _release(
        _revise(policy, lead, "Add the training commitment (TQM principle 2)", POLICY_V2),
        lead,
        approver,
    )
    _backdate(policy, [420, 120])

    handling = services.create_document(
        doc_type="procedure",
        title="Handling customer complaints",
        owner_id=lead.id,
        process_ids=process_ids("Customer care", "Billing"),
        reader_roles=["contributor"],
        review_interval_months=12,
        change_reason="New procedure",
        body_markdown=COMPLAINTS_V1,
        user=lead,
    )
    _release(handling.revisions[0], lead, approver)
    _release(
        _revise(handling, lead, "Faster first response after the CSAT review", COMPLAINTS_V2),
        lead,
        approver,
    )
    _release(
        _revise(
            handling, lead, "Check for earlier refunds (duplicate refunds)", COMPLAINTS_V3, capa
        ),
        lead,
        approver,
    )
    _backdate(handling, [300, 160, 20])

    refunds = services.create_document(
        doc_type="work_instruction",
        title="Approving refunds",
        owner_id=lead.id,
        process_ids=process_ids("Billing"),
        reader_roles=["contributor"],
        review_interval_months=6,
        change_reason="New work instruction",
        body_markdown=REFUNDS,
        user=lead,
    )
    _release(refunds.revisions[0], lead, approver)
    _backdate(refunds, [220])  # six-month review: overdue now

    call_form = services.create_document(
        doc_type="form",
        title="Customer call record",
        owner_id=lead.id,
        process_ids=process_ids("Customer care"),
        review_interval_months=36,
        change_reason="New form",
        upload=(
            io.BytesIO(_pdf("Customer call record", ["Date:", "Customer:", "Summary:"])),
            "customer-call-record.pdf",
        ),
        user=lead,
    )
    _release(call_form.revisions[0], lead, approver)
    _backdate(call_form, [90])

    escalation = services.create_document(
        doc_type="procedure",
        title="Escalating complaints",
        owner_id=lead.id,
        reader_roles=["contributor"],
        change_reason="New procedure",
        body_markdown=ESCALATION,
        user=lead,
    )
    REVISION_WORKFLOW.fire(escalation.revisions[0], "submit", lead)
    escalation.revisions[0].submitted_at = utcnow()
    record_signature(
        db.session, escalation.revisions[0], lead, SignatureMeaning.AUTHORED, AUTHOR_PURPOSE
    )

    # Some readers have confirmed: the contributor read the policy and the refund instruction.
    if staff is not None:
        for document in (policy, refunds):
            revision = services.effective_revision(document)
            if revision is not None and reading.own_acknowledgement(revision, staff):
                reading.acknowledge(revision, staff)

    _seed_attachments(lead)
    db.session.flush()
    return 5, [credentials] if credentials else []


def _seed_attachments(lead: User) -> None:
    complaints = list(
        db.session.scalars(
            select(Complaint)
            .where(Complaint.status.in_([ComplaintStatus.INVESTIGATING, ComplaintStatus.RESOLVED]))
            .order_by(Complaint.id)
            .limit(3)
        )
    )
    for number, complaint in enumerate(complaints, start=1):
        notes = (
            f"Call notes for {complaint.reference}\n"
            f"Customer explained: {complaint.title}.\n"
            "Agreed next step: call back within one working day.\n"
        ).encode()
        files = [(io.BytesIO(notes), f"call-notes-{complaint.reference}.txt")]
        if number == 1:
            letter = _pdf(
                "Apology and explanation",
                [f"Regarding {complaint.reference}: we are sorry for the trouble caused."],
            )
            files.append((io.BytesIO(letter), "apology-letter.pdf"))
        attachments.attach_files(attachments.TARGETS["complaints"], complaint, files, lead)
    # CAPAs not signed yet: a file added after a signature would show it as changed.
    unsigned = [CapaStatus.PLANNED, CapaStatus.IN_PROGRESS, CapaStatus.IMPLEMENTED]
    open_capas = select(Capa).where(Capa.status.in_(unsigned)).order_by(Capa.id).limit(2)
    for capa in db.session.scalars(open_capas):
        plan = f"Action plan for {capa.reference}: {capa.title}\n".encode()
        attachments.attach_files(
            attachments.TARGETS["capa"], capa, [(io.BytesIO(plan), "action-plan.txt")], lead
        )
