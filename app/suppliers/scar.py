"""Supplier corrective action requests (SCARs): raising one from a nonconformity attributed to a
supplier, the single-purpose response link e-mailed to the supplier's contact, the supplier's
8D answer, and the quality lead's review (accept: the corrective action becomes a CAPA on the
nonconformity; return: a fresh link with the comments).

The link: a random token (`secrets`), of which only the SHA-256 is stored, valid for
`LOOP_SCAR_LINK_DAYS` days, for one SCAR and one answer. Only the newest link of a SCAR is valid:
a new one (returned SCAR, reminder, resend) revokes the one before. Acceptance, cancellation,
revocation, expiry and the answer itself all end a link."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import IO, Any

from flask import current_app, has_request_context, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.accounts.models import User
from app.capa import services as capa_services
from app.core.audit import acting_as
from app.core.db import ensure_current_version, flush_or_refuse_stale, utcnow
from app.core.errors import ServiceError
from app.core.references import next_reference
from app.core.validation import checked_text
from app.extensions import db
from app.nonconformities.models import Nonconformity, NonconformityStatus
from app.notifications.services import notify, queue_external_mail
from app.rca import services as rca_services
from app.rca.models import AnalysisMethod, RootCauseAnalysis
from app.suppliers.models import (
    OPEN_SCAR_STATES,
    WAITING_FOR_SUPPLIER,
    Scar,
    ScarLink,
    ScarStatus,
    Supplier,
)
from app.suppliers.services import _require_manage, supplier_of_nonconformity
from app.suppliers.workflow import SCAR_WORKFLOW

DEFAULT_LINK_DAYS = 30
ANSWER_MAX_LENGTH = 4000
PROBLEM_MAX_LENGTH = 4000
TOKEN_BYTES = 32
CLOSED_NC = (NonconformityStatus.CLOSED, NonconformityStatus.CANCELLED)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_days() -> int:
    return int(current_app.config.get("LOOP_SCAR_LINK_DAYS", DEFAULT_LINK_DAYS))


def response_url(token: str) -> str:
    """The absolute address of the response page for `token` (LOOP_BASE_URL, or the request's
    own host when it is not set)."""
    path = f"/supplier-response/{token}"
    base = str(current_app.config.get("LOOP_BASE_URL") or "").rstrip("/")
    if base:
        return base + path
    if has_request_context():
        return url_for("supplier_response.respond", token=token, _external=True)
    return path


def get_by_reference(reference: str) -> Scar | None:
    return db.session.scalar(
        select(Scar)
        .options(joinedload(Scar.supplier), joinedload(Scar.nonconformity))
        .where(Scar.reference == reference)
    )


def is_read_only(scar: Scar) -> bool:
    """Accepted and cancelled SCARs are read-only (their evidence files too)."""
    return SCAR_WORKFLOW.is_locked(scar)


def is_overdue(scar: Scar, today: date | None = None) -> bool:
    return scar.status in WAITING_FOR_SUPPLIER and scar.due_date < (today or utcnow().date())


def list_scars(*, open_only: bool = False, supplier_id: int | None = None) -> list[Scar]:
    statement = (
        select(Scar)
        .options(joinedload(Scar.supplier), joinedload(Scar.nonconformity), joinedload(Scar.owner))
        .order_by(Scar.due_date, Scar.id)
    )
    if open_only:
        statement = statement.where(Scar.status.in_(OPEN_SCAR_STATES))
    if supplier_id is not None:
        statement = statement.where(Scar.supplier_id == supplier_id)
    return list(db.session.scalars(statement))


def scars_of_nonconformity(nc_id: int) -> list[Scar]:
    return list(
        db.session.scalars(
            select(Scar).options(joinedload(Scar.supplier)).where(Scar.nonconformity_id == nc_id)
        )
    )


def current_link(scar: Scar, now: datetime | None = None) -> ScarLink | None:
    """The SCAR's link that still works, if any."""
    now = now or utcnow()
    for link in reversed(scar.links):
        if link_refusal(link, now) is None:
            return link
    return None


# --- links -------------------------------------------------------------------------------------


def _revoke_open_links(scar: Scar, reason: str, now: datetime) -> None:
    for link in scar.links:
        if link.used_at is None and link.revoked_at is None and link.expires_at > now:
            link.revoked_at = now
            link.revoke_reason = reason[:200]


def _new_link(scar: Scar, now: datetime, why: str) -> str:
    """Revoke the SCAR's open links and make a new one; returns its token (never stored)."""
    _revoke_open_links(scar, why, now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ScarLink(
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + timedelta(days=link_days()),
    )
    scar.links.append(link)
    db.session.flush()
    return token


def _mail_supplier(scar: Scar, subject: str, lead_in: str, token: str | None) -> None:
    supplier = scar.supplier
    org = current_app.config.get("ORG_NAME", "Loop QMS")
    lines = [f"Dear {supplier.contact_name or supplier.name},", "", lead_in, ""]
    if token is not None:
        lines += [
            f"Please answer by {scar.due_date:%Y-%m-%d} (containment, root cause, corrective "
            "action, verification) on this page; no account is needed:",
            response_url(token),
            "",
            f"The link is for you alone, works once and expires after {link_days()} days.",
            "",
        ]
    lines += [f"{org} quality team"]
    queue_external_mail(supplier.contact_email, f"{scar.reference}: {subject}", "\n".join(lines))


def _require_contact(supplier: Supplier) -> None:
    if not supplier.contact_email:
        raise ServiceError(
            f"{supplier.name} has no contact e-mail: add one to the supplier before you send a "
            "SCAR."
        )


@dataclass(frozen=True)
class IssuedScar:
    scar: Scar
    token: str


def issue_scar(
    nonconformity: Nonconformity,
    *,
    problem: str,
    due_date: date | None,
    owner_id: int | None,
    user: User,
    today: date | None = None,
) -> IssuedScar:
    """Raise a SCAR to the supplier the nonconformity is attributed to and e-mail its response
    link to the supplier's contact (sent after commit).

    Refuses: a nonconformity attributed to no supplier, a supplier without contact e-mail, a
    closed or cancelled nonconformity, one with an open SCAR already, an empty problem, a due
    date in the past, an owner who is not an active quality lead."""
    _require_manage(user, "send a SCAR")
    today = today or utcnow().date()
    supplier = supplier_of_nonconformity(nonconformity.id)
    if supplier is None:
        raise ServiceError(
            f"{nonconformity.reference} is attributed to no supplier: attribute it first."
        )
    _require_contact(supplier)
    if nonconformity.status in CLOSED_NC:
        raise ServiceError(f"{nonconformity.reference} is {nonconformity.status.label.lower()}.")
    already = db.session.scalar(
        select(Scar.reference).where(
            Scar.nonconformity_id == nonconformity.id, Scar.status.in_(OPEN_SCAR_STATES)
        )
    )
    if already is not None:
        raise ServiceError(f"{nonconformity.reference} already has the open SCAR {already}.")
    text = checked_text(problem, "The problem description", "problem", PROBLEM_MAX_LENGTH)
    if due_date is None:
        raise ServiceError("The response due date is required.", field="due_date")
    if due_date < today:
        raise ServiceError("The response due date cannot be in the past.", field="due_date")
    owner = db.session.get(User, owner_id) if owner_id else None
    if owner is None or not owner.active or not capa_services.is_quality_lead(owner):
        raise ServiceError("Choose an active quality lead as the owner.", field="owner_id")
    now = utcnow()
    scar = Scar(
        reference=next_reference(db.session, "SCAR", now.year),
        supplier_id=supplier.id,
        nonconformity_id=nonconformity.id,
        owner_id=owner.id,
        status=ScarStatus.AWAITING_RESPONSE,
        problem=text,
        due_date=due_date,
    )
    scar.supplier = supplier
    db.session.add(scar)
    db.session.flush()
    token = _new_link(scar, now, "superseded")
    _mail_supplier(
        scar,
        "corrective action request",
        f"We ask you for corrective action on a problem with what you supply:\n\n{text}",
        token,
    )
    return IssuedScar(scar, token)


def send_new_link(scar: Scar, *, user: User) -> str:
    """Revoke the SCAR's link and e-mail the supplier a fresh one (a lost e-mail, an expired
    link). Only while the supplier owes an answer."""
    _require_manage(user, "send a new link")
    if scar.status not in WAITING_FOR_SUPPLIER:
        raise ServiceError(f"{scar.reference} is {scar.status.label.lower()}: no answer is due.")
    _require_contact(scar.supplier)
    token = _new_link(scar, utcnow(), "superseded by a new link")
    _mail_supplier(scar, "new response link", "Here is a new link for our request.", token)
    return token


def revoke_link(scar: Scar, *, user: User) -> int:
    """Revoke the SCAR's working link (e.g. sent to the wrong person); returns how many links were
    revoked. A new one can be sent later."""
    _require_manage(user, "revoke a link")
    before = current_link(scar)
    _revoke_open_links(scar, "revoked by the quality lead", utcnow())
    db.session.flush()
    return 0 if before is None else 1


# --- the supplier's side -----------------------------------------------------------------------


class LinkRefused(ServiceError):
    """The response link does not work: `status` is what the page answers (404 unknown, 410
    no longer valid)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def link_refusal(link: ScarLink, now: datetime) -> str | None:
    if link.used_at is not None:
        return "This link has already been used to answer."
    if link.revoked_at is not None:
        return "This link has been withdrawn."
    if link.expires_at <= now:
        return "This link has expired."
    if link.scar.status not in WAITING_FOR_SUPPLIER:
        return "This request no longer needs an answer."
    return None


def resolve_link(token: str, now: datetime | None = None) -> ScarLink:
    """The link `token` opens, if it still works; otherwise LinkRefused (unknown tokens 404,
    used, revoked, expired or closed ones 410)."""
    now = now or utcnow()
    if not token or len(token) > 100:
        raise LinkRefused("This link is not valid.", 404)
    link = db.session.scalar(
        select(ScarLink)
        .options(joinedload(ScarLink.scar).joinedload(Scar.supplier))
        .where(ScarLink.token_hash == hash_token(token))
    )
    if link is None:
        raise LinkRefused("This link is not valid.", 404)
    refusal = link_refusal(link, now)
    if refusal is not None:
        raise LinkRefused(
            f"{refusal} If you still need to answer, ask your contact for a new link.", 410
        )
    return link


@dataclass(frozen=True)
class SupplierAnswer:
    answered_by: str
    containment: str
    root_cause: str
    corrective_action: str
    verification: str


def record_supplier_answer(
    link: ScarLink,
    answer: SupplierAnswer,
    evidence: Sequence[tuple[IO[bytes], str | None]] = (),
) -> Scar:
    """Store the supplier's 8D answer with any `evidence` files (attached to the SCAR through
    the attachments store), spend the link and tell the SCAR's owner. Written to the audit trail
    as `supplier:<name>` with the request's address. Every field is required; a refused file
    (type, size, empty) refuses the whole answer."""
    scar = link.scar
    label = f"The SCAR {scar.reference}"
    fields = {
        "answered_by": checked_text(answer.answered_by, "Your name", "answered_by", 200),
        "containment": checked_text(
            answer.containment, "The containment", "containment", ANSWER_MAX_LENGTH
        ),
        "root_cause": checked_text(
            answer.root_cause, "The root cause", "root_cause", ANSWER_MAX_LENGTH
        ),
        "corrective_action": checked_text(
            answer.corrective_action,
            "The corrective action",
            "corrective_action",
            ANSWER_MAX_LENGTH,
        ),
        "verification": checked_text(
            answer.verification, "The verification", "verification", ANSWER_MAX_LENGTH
        ),
    }
    now = utcnow()
    with acting_as(f"supplier:{scar.supplier.name}"):
        for name, value in fields.items():
            setattr(scar, name, value)
        scar.answered_at = now
        if scar.first_answered_at is None:
            scar.first_answered_at = now
        scar.status = ScarStatus.ANSWERED
        link.used_at = now
        flush_or_refuse_stale(db.session, label)
        if evidence:
            from app.attachments.services import TARGETS, attach_files

            attach_files(
                TARGETS["scars"],
                scar,
                evidence,
                None,
                external_party=f"supplier:{scar.supplier.name}",
            )
    notify(
        scar.owner,
        kind="scar_answered",
        subject=f"{scar.supplier.name} answered {scar.reference}",
        body=f"{fields['answered_by']} of {scar.supplier.name} answered the SCAR "
        f"{scar.reference}. Review the answer: accept it or return it with comments.",
        link=f"/suppliers/scars/{scar.reference}",
    )
    return scar


# --- the quality lead's review -----------------------------------------------------------------


def _analysis_for(nc: Nonconformity, scar: Scar, user: User) -> RootCauseAnalysis:
    if nc.analyses:
        return nc.analyses[-1]
    return rca_services.start_analysis(
        nc, AnalysisMethod.EIGHT_D, f"Supplier failure ({scar.reference}): {scar.problem}", user
    )


def _plan_supplier_capa(
    scar: Scar, root_cause_id: int, due_date: date, principle_ids: list[int], user: User
) -> Any:
    return capa_services.plan_capa(
        kind="corrective",
        recovery_dimension="process",
        title=f"{scar.reference} {scar.supplier.name}: {scar.corrective_action}"[:200],
        description=(
            f"Corrective action by {scar.supplier.name} (SCAR {scar.reference}).\n\n"
            f"Containment: {scar.containment}\n\nRoot cause: {scar.root_cause}\n\n"
            f"Corrective action: {scar.corrective_action}\n\nVerification: {scar.verification}"
        ),
        owner_id=scar.owner_id,
        due_date=due_date,
        principle_ids=principle_ids,
        nonconformity_ids=[scar.nonconformity_id],
        root_cause_ids=[root_cause_id],
        user=user,
    )


def accept_scar(
    scar: Scar,
    *,
    user: User,
    expected_version: object,
    capa_due_date: date | None,
    principle_ids: list[int],
    comments: str = "",
) -> Scar:
    """Accept the supplier's answer: the supplier's root cause joins the nonconformity's
    root-cause analysis (an 8D is started if it has none), and a corrective CAPA on the
    nonconformity, linked to that root cause, carries their corrective action; the links end and
    the supplier is told. Refuses a stale form, a SCAR not answered, a closed nonconformity and
    the CAPA rules (principles, due date)."""
    label = f"The SCAR {scar.reference}"
    ensure_current_version(scar, expected_version, label)
    refusal = SCAR_WORKFLOW.refusal(SCAR_WORKFLOW.get("accept"), scar, user)
    if refusal:
        raise ServiceError(refusal)
    nc = scar.nonconformity
    if nc.status in CLOSED_NC:
        raise ServiceError(f"{nc.reference} is {nc.status.label.lower()}: no CAPA can be added.")
    if capa_due_date is None:
        raise ServiceError("The CAPA's due date is required.", field="capa_due_date")
    if not principle_ids:
        raise ServiceError("Map the CAPA to at least one TQM principle.", field="principle_ids")
    analysis = _analysis_for(nc, scar, user)
    root_cause = rca_services.add_root_cause(
        analysis, f"{scar.supplier.name}: {scar.root_cause}", "material", user=user
    )
    db.session.flush()
    try:
        capa = _plan_supplier_capa(scar, root_cause.id, capa_due_date, principle_ids, user)
    except ServiceError as error:
        # The CAPA's fields have other names on the review form.
        fields = {"due_date": "capa_due_date", "principles": "principle_ids"}
        raise type(error)(error.message, field=fields.get(error.field or "", error.field)) from None
    scar.capa_id = capa.id
    scar.review_comments = checked_text(
        comments, "The comments", "comments", ANSWER_MAX_LENGTH, required=False
    )
    SCAR_WORKFLOW.fire(scar, "accept", user)
    _revoke_open_links(scar, "the SCAR was accepted", utcnow())
    flush_or_refuse_stale(db.session, label)
    lead_in = "Thank you: we have accepted your answer to our corrective action request."
    if scar.review_comments:
        lead_in += f"\n\nOur comments:\n{scar.review_comments}"
    _mail_supplier(scar, "answer accepted", lead_in, None)
    return scar


def return_scar(
    scar: Scar,
    *,
    user: User,
    expected_version: object,
    comments: str,
    due_date: date | None = None,
    today: date | None = None,
) -> str:
    """Return the answer to the supplier with `comments` (required): the SCAR waits for a new
    answer by `due_date` (or the old due date), and the supplier gets a fresh link by e-mail (the
    one they used is spent). Returns the new token."""
    label = f"The SCAR {scar.reference}"
    ensure_current_version(scar, expected_version, label)
    text = checked_text(comments, "Comments for the supplier", "comments", ANSWER_MAX_LENGTH)
    today = today or utcnow().date()
    if due_date is not None:
        if due_date < today:
            raise ServiceError("The new due date cannot be in the past.", field="due_date")
        scar.due_date = due_date
    _require_contact(scar.supplier)
    scar.review_comments = text
    SCAR_WORKFLOW.fire(scar, "return", user, reason=text)
    token = _new_link(scar, utcnow(), "superseded")
    flush_or_refuse_stale(db.session, label)
    _mail_supplier(
        scar,
        "answer returned",
        f"We have looked at your answer and need more from you:\n\n{text}",
        token,
    )
    return token


def cancel_scar(scar: Scar, *, user: User, expected_version: object, reason: str) -> Scar:
    """Cancel the SCAR with a reason; its links stop working."""
    label = f"The SCAR {scar.reference}"
    ensure_current_version(scar, expected_version, label)
    scar.cancel_reason = (reason or "").strip()
    SCAR_WORKFLOW.fire(scar, "cancel", user, reason=reason)
    _revoke_open_links(scar, "the SCAR was cancelled", utcnow())
    flush_or_refuse_stale(db.session, label)
    return scar
