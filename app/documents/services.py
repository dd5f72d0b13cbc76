"""Controlled documents and their revisions: creating, drafting, signing through the workflow,
making a revision effective (superseding the one before), and what was in force on a date.

The rules callers may rely on: only a draft's content changes, and a save from a stale form is
refused; every new revision states its reason and may cite the CAPA that caused it; submitting,
reviewing and approving are electronic signatures (the password re-entered); one revision of a
document is effective at a time, and making one effective supersedes the previous, which stays
readable; an effective revision sets the document's next review date and asks its readers to
confirm they read and understood it (app.documents.reading).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import IO, Any

from flask import current_app, has_app_context
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.accounts.services import sign_record, signatures_of
from app.capa import services as capa_services
from app.capa.models import Capa
from app.core.db import all_or_nothing, ensure_current_version, utcnow
from app.core.errors import ServiceError
from app.core.files import check_upload, store
from app.core.permissions import Permission, Role, role_can
from app.core.references import take_numbers
from app.core.signatures import Signature, SignatureMeaning, changed_after_signature
from app.core.validation import checked_text
from app.core.workflow import TransitionRefused
from app.documents.models import (
    DEFAULT_PREFIXES,
    ContentKind,
    ControlledDocument,
    DocumentRevision,
    DocumentType,
    RevisionStatus,
)
from app.documents.search import index_document, matching_clause
from app.documents.workflow import (
    APPROVAL_PURPOSE,
    AUTHOR_PURPOSE,
    REVIEW_PURPOSE,
    REVISION_WORKFLOW,
)
from app.extensions import db
from app.organisation.models import Process

TITLE_MAX_LENGTH = 200
REASON_MAX_LENGTH = 2_000
BODY_MAX_LENGTH = 200_000
IN_PROGRESS = frozenset({RevisionStatus.DRAFT, RevisionStatus.IN_REVIEW, RevisionStatus.APPROVED})
PURPOSE_LABELS = {
    AUTHOR_PURPOSE: "Authored",
    REVIEW_PURPOSE: "Reviewed",
    APPROVAL_PURPOSE: "Approved",
}


class DocumentNotAllowed(ServiceError):
    """The user may not change this document (views answer 403)."""


Upload = tuple[IO[bytes], str | None]


# --- settings and numbers ----------------------------------------------------------------------


def prefix_of(doc_type: DocumentType) -> str:
    configured: dict[str, str] = {}
    if has_app_context():
        configured = current_app.config.get("LOOP_DOCUMENT_PREFIXES") or {}
    return configured.get(doc_type.value, DEFAULT_PREFIXES[doc_type])


def next_number(doc_type: DocumentType) -> str:
    """The next number of the type, e.g. DOC-PRO-0007 (a counter row per prefix, year 0)."""
    prefix = prefix_of(doc_type)
    return f"{prefix}-{take_numbers(db.session, prefix, 0):04d}"


def read_days() -> int:
    if has_app_context():
        return int(current_app.config.get("LOOP_DOCUMENT_READ_DAYS", 14))
    return 14


# --- who may do what ---------------------------------------------------------------------------


def may_edit(user: Any, document: ControlledDocument) -> bool:
    """A quality lead, or the document's owner where their role records things."""
    if user is None or not getattr(user, "is_authenticated", True):
        return False
    if role_can(user.role, Permission.RECORDS_MANAGE):
        return True
    return document.owner_id == user.id and role_can(user.role, Permission.RECORDS_CREATE)


def _require_edit(user: Any, document: ControlledDocument, action: str) -> None:
    if not may_edit(user, document):
        raise DocumentNotAllowed(
            f"Only a quality lead or the owner of {document.number} may {action}."
        )


# --- lookups -----------------------------------------------------------------------------------


def get_by_number(number: str) -> ControlledDocument | None:
    return db.session.scalar(
        select(ControlledDocument)
        .where(ControlledDocument.number == number.strip().upper())
        .options(selectinload(ControlledDocument.revisions))
    )


def get_revision(document: ControlledDocument, number: int) -> DocumentRevision | None:
    return next((rev for rev in document.revisions if rev.number == number), None)


def effective_revision(document: ControlledDocument) -> DocumentRevision | None:
    return next((r for r in document.revisions if r.status == RevisionStatus.EFFECTIVE), None)


def latest_revision(document: ControlledDocument) -> DocumentRevision | None:
    return document.revisions[-1] if document.revisions else None


def revision_in_progress(document: ControlledDocument) -> DocumentRevision | None:
    return next((r for r in document.revisions if r.status in IN_PROGRESS), None)


def owner_choices() -> list[User]:
    return list(
        db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.full_name))
    )


def process_choices() -> list[Process]:
    return list(db.session.scalars(select(Process).order_by(Process.name)))


def revisions_caused_by(capa: Capa) -> list[DocumentRevision]:
    """The document revisions that cite `capa` as their cause (process recovery made visible)."""
    return list(
        db.session.scalars(
            select(DocumentRevision)
            .where(DocumentRevision.capa_id == capa.id)
            .order_by(DocumentRevision.id)
        )
    )


# --- checks ------------------------------------------------------------------------------------


def _checked_roles(roles: Iterable[str]) -> str:
    chosen = []
    for role in roles:
        try:
            chosen.append(Role(role).value)
        except ValueError:
            raise ServiceError(f"“{role}” is not a role.", field="reader_roles") from None
    return ",".join(sorted(set(chosen)))


def _checked_processes(process_ids: Iterable[int]) -> list[Process]:
    ids = sorted(set(process_ids))
    processes = list(db.session.scalars(select(Process).where(Process.id.in_(ids)))) if ids else []
    if len(processes) != len(ids):
        raise ServiceError("Choose processes from the list.", field="process_ids")
    return processes


def _checked_interval(months: int | None) -> int:
    if months is None or not 1 <= int(months) <= 120:
        raise ServiceError(
            "The review interval must be between 1 and 120 months.",
            field="review_interval_months",
        )
    return int(months)


def _checked_capa(reference: str | None) -> Capa | None:
    reference = (reference or "").strip()
    if not reference:
        return None
    capa = capa_services.capa_by_reference(reference)
    if capa is None:
        raise ServiceError(f"There is no CAPA {reference}.", field="capa_reference")
    return capa


def _apply_content(
    revision: DocumentRevision, body_markdown: str | None, upload: Upload | None
) -> None:
    """Put the text or the file on the revision: a file, when one is given, replaces the text."""
    if upload is not None:
        stream, name = upload
        checked = check_upload(stream, name)
        stored = store(db.session, stream, checked)
        revision.content_kind = ContentKind.FILE
        revision.file_sha256 = stored.sha256
        revision.filename = checked.filename
        revision.body_markdown = ""
        return
    body = checked_text(body_markdown, "The text", "body_markdown", BODY_MAX_LENGTH, required=False)
    if revision.content_kind == ContentKind.FILE and not body:
        return  # a file revision keeps its file when no new text is given
    if not body:
        raise ServiceError("Write the document's text or upload its file.", field="body_markdown")
    revision.content_kind = ContentKind.MARKDOWN
    revision.body_markdown = body
    revision.file_sha256 = None
    revision.filename = None


# --- documents and revisions -------------------------------------------------------------------


def create_document(
    *,
    doc_type: str,
    title: str,
    owner_id: int | None,
    process_ids: Iterable[int] = (),
    reader_roles: Iterable[str] = (),
    review_interval_months: int | None = 12,
    change_reason: str = "New document",
    body_markdown: str | None = None,
    upload: Upload | None = None,
    user: User,
) -> ControlledDocument:
    """A new document with its first revision, a draft. All or nothing."""
    if not role_can(user.role, Permission.RECORDS_MANAGE):
        raise DocumentNotAllowed("Only a quality lead may create controlled documents.")
    try:
        kind = DocumentType(doc_type)
    except ValueError:
        raise ServiceError("Choose the document type.", field="doc_type") from None
    title = checked_text(title, "A title", "title", TITLE_MAX_LENGTH)
    owner = db.session.get(User, owner_id) if owner_id else None
    if owner is None or not owner.active:
        raise ServiceError("Choose the document's owner.", field="owner_id")
    reason = checked_text(change_reason, "A change reason", "change_reason", REASON_MAX_LENGTH)
    with all_or_nothing(db.session):
        document = ControlledDocument(
            number=next_number(kind),
            doc_type=kind,
            title=title,
            owner_id=owner.id,
            review_interval_months=_checked_interval(review_interval_months),
            reader_roles=_checked_roles(reader_roles),
        )
        document.processes = _checked_processes(process_ids)
        db.session.add(document)
        db.session.flush()
        revision = DocumentRevision(
            document=document,
            number=1,
            label=f"{document.number} rev 1",
            change_reason=reason,
            content_kind=ContentKind.MARKDOWN,
            author_id=user.id,
        )
        db.session.add(revision)
        with db.session.no_autoflush:
            _apply_content(revision, body_markdown, upload)
        db.session.flush()
        index_document(document)
    return document


def update_document(
    document: ControlledDocument,
    *,
    title: str,
    owner_id: int | None,
    process_ids: Iterable[int],
    reader_roles: Iterable[str],
    review_interval_months: int | None,
    expected_version: object,
    user: User,
) -> ControlledDocument:
    _require_edit(user, document, "change it")
    ensure_current_version(document, expected_version, f"The document {document.number}")
    owner = db.session.get(User, owner_id) if owner_id else None
    if owner is None or not owner.active:
        raise ServiceError("Choose the document's owner.", field="owner_id")
    document.title = checked_text(title, "A title", "title", TITLE_MAX_LENGTH)
    document.owner_id = owner.id
    document.processes = _checked_processes(process_ids)
    document.reader_roles = _checked_roles(reader_roles)
    document.review_interval_months = _checked_interval(review_interval_months)
    db.session.flush()
    index_document(document)
    return document


def start_revision(
    document: ControlledDocument, *, change_reason: str, capa_reference: str | None, user: User
) -> DocumentRevision:
    """A new draft revision, starting from the latest revision's content. Needs a reason; one
    revision at a time may be in progress."""
    _require_edit(user, document, "revise it")
    busy = revision_in_progress(document)
    if busy is not None:
        raise ServiceError(
            f"Revision {busy.number} is still {busy.status.label.lower()}; finish or return it "
            "before starting another.",
            field="change_reason",
        )
    reason = checked_text(change_reason, "A change reason", "change_reason", REASON_MAX_LENGTH)
    capa = _checked_capa(capa_reference)
    latest = latest_revision(document)
    number = (latest.number if latest else 0) + 1
    revision = DocumentRevision(
        document=document,
        number=number,
        label=f"{document.number} rev {number}",
        change_reason=reason,
        capa_id=capa.id if capa else None,
        content_kind=latest.content_kind if latest else ContentKind.MARKDOWN,
        body_markdown=latest.body_markdown if latest else "",
        file_sha256=latest.file_sha256 if latest else None,
        filename=latest.filename if latest else None,
        author_id=user.id,
    )
    db.session.add(revision)
    db.session.flush()
    return revision


def save_draft(
    revision: DocumentRevision,
    *,
    body_markdown: str | None,
    upload: Upload | None,
    change_reason: str,
    capa_reference: str | None,
    expected_version: object,
    user: User,
) -> DocumentRevision:
    """Change a draft's content, reason or cited CAPA; refused for any other status and for a
    save based on a stale copy."""
    _require_edit(user, revision.document, "edit its drafts")
    ensure_current_version(revision, expected_version, f"Revision {revision.number}")
    if revision.status != RevisionStatus.DRAFT:
        raise ServiceError(
            f"Revision {revision.number} is {revision.status.label.lower()}: only a draft changes."
        )
    revision.change_reason = checked_text(
        change_reason, "A change reason", "change_reason", REASON_MAX_LENGTH
    )
    capa = _checked_capa(capa_reference)
    revision.capa_id = capa.id if capa else None
    _apply_content(revision, body_markdown, upload)
    db.session.flush()
    index_document(revision.document)
    return revision


# --- the signed steps --------------------------------------------------------------------------


def has_valid_signature(revision: DocumentRevision, purpose: str) -> bool:
    return any(
        sig.purpose == purpose and not sig.is_void and not changed_after_signature(sig, revision)
        for sig in signatures_of(revision)
    )


def submit_for_review(revision: DocumentRevision, user: User, password: str) -> Signature:
    """The author signs the draft (meaning authored) and it goes into review."""
    _refuse_unless_allowed(revision, "submit", user)
    with all_or_nothing(db.session):
        REVISION_WORKFLOW.fire(revision, "submit", user)
        revision.submitted_at = utcnow()
        return sign_record(revision, user, password, SignatureMeaning.AUTHORED, AUTHOR_PURPOSE)


def sign_review(revision: DocumentRevision, user: User, password: str) -> Signature:
    """A reviewer signs the revision in review (meaning reviewed); it stays in review."""
    if revision.status != RevisionStatus.IN_REVIEW:
        raise TransitionRefused("Only a revision in review can be signed as reviewed.")
    if not role_can(user.role, Permission.RECORDS_SIGN):
        raise TransitionRefused("Your role may not review documents.")
    return sign_record(revision, user, password, SignatureMeaning.REVIEWED, REVIEW_PURPOSE)


def approve(revision: DocumentRevision, user: User, password: str) -> Signature:
    """The approver signs (meaning approved); needs a review signature, and unless the setting
    allows it an approver other than the author. If the password is wrong nothing changes."""
    _refuse_unless_allowed(revision, "approve", user)
    with all_or_nothing(db.session):
        REVISION_WORKFLOW.fire(revision, "approve", user)
        revision.approved_at = utcnow()
        return sign_record(revision, user, password, SignatureMeaning.APPROVED, APPROVAL_PURPOSE)


def _refuse_unless_allowed(revision: DocumentRevision, name: str, user: User) -> None:
    refused = REVISION_WORKFLOW.refusal(REVISION_WORKFLOW.get(name), revision, user)
    if refused:
        raise TransitionRefused(refused)


def return_to_draft(revision: DocumentRevision, user: User, reason: str | None) -> DocumentRevision:
    """Send a revision in review back to its author, with a reason; its signatures so far are
    voided by the content changing (and shown as such)."""
    REVISION_WORKFLOW.fire(revision, "return_to_draft", user, reason=reason)
    revision.submitted_at = None
    db.session.flush()
    return revision


def make_effective(revision: DocumentRevision, user: User) -> DocumentRevision:
    """The approved revision comes into force now: the previous effective one is superseded
    (it stays readable), the document's review date is set, and the readers are asked to
    confirm they read and understood it."""
    from app.documents.reading import assign_readers

    _refuse_unless_allowed(revision, "make_effective", user)
    if not has_valid_signature(revision, APPROVAL_PURPOSE):
        raise TransitionRefused("The revision changed after its approval: approve it again.")
    now = utcnow()
    document = revision.document
    with all_or_nothing(db.session):
        previous = effective_revision(document)
        if previous is not None:
            REVISION_WORKFLOW.fire(previous, "supersede", user)
            previous.effective_until = now
            db.session.flush()
        REVISION_WORKFLOW.fire(revision, "make_effective", user)
        revision.effective_from = now
        document.review_due = add_months(now.date(), document.review_interval_months)
        db.session.flush()
        assign_readers(revision, now.date() + timedelta(days=read_days()))
        index_document(document)
    return revision


def make_obsolete(revision: DocumentRevision, user: User, reason: str | None) -> DocumentRevision:
    """Withdraw the effective revision (the document is no longer in force), with a reason."""
    REVISION_WORKFLOW.fire(revision, "obsolete", user, reason=reason)
    revision.effective_until = utcnow()
    revision.document.review_due = None
    db.session.flush()
    return revision


def confirm_review(document: ControlledDocument, user: User) -> ControlledDocument:
    """The periodic review found the effective revision still right: the next review is one
    interval from today."""
    _require_edit(user, document, "confirm its review")
    if effective_revision(document) is None:
        raise ServiceError(f"{document.number} has no effective revision to review.")
    document.review_due = add_months(utcnow().date(), document.review_interval_months)
    db.session.flush()
    return document


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - every month has a 28th


@dataclass(frozen=True)
class SignatureRow:
    signature: Signature
    purpose_label: str
    changed: bool


def signature_rows(revision: DocumentRevision) -> list[SignatureRow]:
    return [
        SignatureRow(
            sig,
            PURPOSE_LABELS.get(sig.purpose, sig.purpose),
            not sig.is_void and changed_after_signature(sig, revision),
        )
        for sig in signatures_of(revision)
    ]


# --- what was in force -------------------------------------------------------------------------


def end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def in_force_on(day: date) -> list[tuple[ControlledDocument, DocumentRevision | None]]:
    """Every document that existed by the end of `day` (UTC), with the revision effective at
    that moment (None: none was in force then)."""
    moment = end_of_day(day)
    documents = list(
        db.session.scalars(
            select(ControlledDocument)
            .where(ControlledDocument.created_at < moment)
            .order_by(ControlledDocument.number)
        )
    )
    revisions = {
        rev.document_id: rev
        for rev in db.session.scalars(
            select(DocumentRevision).where(
                DocumentRevision.effective_from.is_not(None),
                DocumentRevision.effective_from < moment,
                or_(
                    DocumentRevision.effective_until.is_(None),
                    DocumentRevision.effective_until >= moment,
                ),
            )
        )
    }
    return [(document, revisions.get(document.id)) for document in documents]


# --- the list ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentFilters:
    doc_type: DocumentType | None = None
    status: RevisionStatus | None = None
    process_id: int | None = None
    review_overdue: bool = False
    search: str = ""  # words in the title or text (full-text search)


def list_query(filters: DocumentFilters, today: date | None = None) -> Any:
    today = today or utcnow().date()
    statement = select(ControlledDocument).order_by(ControlledDocument.number)
    if filters.doc_type is not None:
        statement = statement.where(ControlledDocument.doc_type == filters.doc_type)
    if filters.process_id is not None:
        statement = statement.where(
            ControlledDocument.processes.any(Process.id == filters.process_id)
        )
    if filters.status is not None:
        statement = statement.where(
            ControlledDocument.revisions.any(DocumentRevision.status == filters.status)
        )
    if filters.review_overdue:
        statement = statement.where(
            and_(ControlledDocument.review_due.is_not(None), ControlledDocument.review_due < today)
        )
    if filters.search.strip():
        statement = statement.where(matching_clause(filters.search, ControlledDocument.id))
    return statement


def is_review_overdue(document: ControlledDocument, today: date | None = None) -> bool:
    today = today or utcnow().date()
    return document.review_due is not None and document.review_due < today
