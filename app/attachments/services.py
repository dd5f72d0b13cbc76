"""Attaching files to quality records, listing, removing (softly) — the rules, without HTTP.

Whoever may edit a record may attach to it and remove from it, while it is open; whoever may
read it may download. Every file is checked and stored by `app.core.files` (one copy per
content). The attachment row is audited (its creation carries the file's SHA-256, its removal
the reason), the record's own history gets an event naming the file and its hash, and the
hashes of a record's current attachments are part of what its electronic signatures cover: a
file added, removed or replaced after signing shows as "changed after signature".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from flask import current_app, url_for
from sqlalchemy import select

from app.accounts.models import User
from app.attachments.models import Attachment
from app.capa import services as capa_services
from app.capa.models import EffectivenessCheck, TrainingAssignment
from app.complaints import services as complaint_services
from app.core.audit import AuditAction, audit_reason, record_event, record_type_of
from app.core.db import utcnow
from app.core.errors import ServiceError
from app.core.files import check_upload, store
from app.core.permissions import Permission, role_can
from app.core.signatures import cover_in_signatures
from app.core.workflow import RecordLocked
from app.extensions import db
from app.nonconformities import services as nc_services
from app.rca.models import RootCauseAnalysis

REASON_MAX_LENGTH = 500


class AttachNotAllowed(ServiceError):
    """The user may not change this record's attachments (views answer 403)."""


@dataclass(frozen=True)
class Target:
    """A kind of record that takes attachments, and how to find, name and guard one."""

    kind: str  # the URL segment: /attachments/<kind>/<ident>
    record_type: str
    label: str
    find: Callable[[str], Any]
    ident_of: Callable[[Any], str]
    name_of: Callable[[Any], str]
    may_edit: Callable[[Any, Any], bool]
    is_read_only: Callable[[Any], bool]
    # The page the record's attachments are shown on (None: the attachments page itself).
    page_url: Callable[[Any], str] | None = None


def _by_id(model: type) -> Callable[[str], Any]:
    def find(ident: str) -> Any:
        return db.session.get(model, int(ident)) if ident.isdigit() else None

    return find


def _scar_services() -> Any:
    # Imported when used: the suppliers package attaches the supplier's evidence through here.
    from app.suppliers import scar

    return scar


def _supplier_services() -> Any:
    from app.suppliers import services

    return services


def _training_may_edit(user: Any, training: TrainingAssignment) -> bool:
    # The trained person may add their evidence (a certificate, a signed sheet) too.
    own = (
        user is not None
        and getattr(user, "is_authenticated", False)
        and training.staff_id == user.id
        and role_can(user.role, Permission.RECORDS_CREATE)
    )
    return own or capa_services.may_edit(user, training.capa)


TARGETS: dict[str, Target] = {
    target.kind: target
    for target in (
        Target(
            kind="complaints",
            record_type="complaint",
            label="complaint",
            find=complaint_services.get_by_reference,
            ident_of=lambda record: record.reference,
            name_of=lambda record: record.reference,
            may_edit=complaint_services.may_edit,
            is_read_only=complaint_services.is_read_only,
            page_url=lambda record: url_for(
                "complaints.complaint_detail", reference=record.reference
            ),
        ),
        Target(
            kind="nonconformities",
            record_type="nonconformity",
            label="nonconformity",
            find=nc_services.get_by_reference,
            ident_of=lambda record: record.reference,
            name_of=lambda record: record.reference,
            may_edit=nc_services.may_edit,
            is_read_only=nc_services.is_read_only,
            page_url=lambda record: url_for(
                "nonconformities.nonconformity_detail", reference=record.reference
            ),
        ),
        Target(
            kind="analyses",
            record_type="root_cause_analysis",
            label="root-cause analysis",
            find=_by_id(RootCauseAnalysis),
            ident_of=lambda record: str(record.id),
            name_of=lambda record: (
                f"{record.method.label} analysis of {record.nonconformity.reference}"
            ),
            may_edit=lambda user, record: nc_services.may_edit(user, record.nonconformity),
            is_read_only=lambda record: nc_services.is_read_only(record.nonconformity),
            page_url=lambda record: url_for(
                "rca.analysis_detail",
                reference=record.nonconformity.reference,
                analysis_id=record.id,
            ),
        ),
        Target(
            kind="capa",
            record_type="capa",
            label="CAPA",
            find=capa_services.capa_by_reference,
            ident_of=lambda record: record.reference,
            name_of=lambda record: record.reference,
            may_edit=capa_services.may_edit,
            is_read_only=capa_services.is_read_only,
            page_url=lambda record: url_for("capa.capa_detail", reference=record.reference),
        ),
        Target(
            kind="checks",
            record_type="effectiveness_check",
            label="effectiveness check",
            find=_by_id(EffectivenessCheck),
            ident_of=lambda record: str(record.id),
            name_of=lambda record: f"Effectiveness check of {record.capa.reference}",
            may_edit=lambda user, record: capa_services.may_edit(user, record.capa),
            is_read_only=lambda record: capa_services.is_read_only(record.capa),
        ),
        Target(
            kind="trainings",
            record_type="training_assignment",
            label="training",
            find=_by_id(TrainingAssignment),
            ident_of=lambda record: str(record.id),
            name_of=lambda record: f"Training “{record.topic}” ({record.capa.reference})",
            may_edit=_training_may_edit,
            is_read_only=lambda record: capa_services.is_read_only(record.capa),
        ),
        Target(
            kind="scars",
            record_type="scar",
            label="supplier corrective action request",
            find=lambda reference: _scar_services().get_by_reference(reference),
            ident_of=lambda record: record.reference,
            name_of=lambda record: record.reference,
            may_edit=lambda user, record: _supplier_services().may_manage(user),
            is_read_only=lambda record: _scar_services().is_read_only(record),
            page_url=lambda record: url_for("suppliers.scar_detail", reference=record.reference),
        ),
    )
}
TARGET_BY_TYPE = {target.record_type: target for target in TARGETS.values()}


def target_of(kind: str) -> Target | None:
    return TARGETS.get(kind)


def page_url(target: Target, record: Any) -> str:
    if target.page_url is not None:
        return target.page_url(record)
    return url_for("attachments.attachment_page", kind=target.kind, ident=target.ident_of(record))


def _record_id(record: Any) -> str:
    return str(record.id)


def attachments_of(record: Any, *, include_removed: bool = True) -> list[Attachment]:
    """The record's attachments, oldest first (removed ones too unless told otherwise)."""
    statement = select(Attachment).where(
        Attachment.record_type == record_type_of(record),
        Attachment.record_id == _record_id(record),
    )
    if not include_removed:
        statement = statement.where(Attachment.removed_at.is_(None))
    return list(db.session.scalars(statement.order_by(Attachment.id)))


def get_attachment(attachment_id: int) -> Attachment | None:
    return db.session.get(Attachment, attachment_id)


def record_of(attachment: Attachment) -> tuple[Target, Any] | None:
    """The target kind and the record an attachment belongs to (None if it is gone)."""
    target = TARGET_BY_TYPE.get(attachment.record_type)
    if target is None:
        return None
    record = _load(attachment.record_type, attachment.record_id)
    return (target, record) if record is not None else None


def _load(record_type: str, record_id: str) -> Any:
    from app.capa.models import Capa
    from app.complaints.models import Complaint
    from app.nonconformities.models import Nonconformity
    from app.suppliers.models import Scar

    models: dict[str, type] = {
        "scar": Scar,
        "complaint": Complaint,
        "nonconformity": Nonconformity,
        "root_cause_analysis": RootCauseAnalysis,
        "capa": Capa,
        "effectiveness_check": EffectivenessCheck,
        "training_assignment": TrainingAssignment,
    }
    model = models.get(record_type)
    if model is None or not record_id.isdigit():
        return None
    return db.session.get(model, int(record_id))


def may_attach(user: Any, target: Target, record: Any) -> bool:
    return bool(target.may_edit(user, record)) and not target.is_read_only(record)


def _require_attach(user: Any, target: Target, record: Any, action: str) -> None:
    if not target.may_edit(user, record):
        raise AttachNotAllowed(
            f"Only those who may edit {target.name_of(record)} may {action} its attachments."
        )
    if target.is_read_only(record):
        raise RecordLocked(
            f"{target.name_of(record)} is closed and read-only; reopen it (with a reason) "
            f"before you {action} its attachments."
        )


def max_files() -> int:
    return int(current_app.config.get("LOOP_ATTACHMENT_MAX_FILES", 10))


def attach_files(
    target: Target,
    record: Any,
    files: Sequence[tuple[IO[bytes], str | None]],
    user: User | None,
    *,
    external_party: str | None = None,
) -> list[Attachment]:
    """Attach the uploaded `files` (each a stream and the name it came with) to `record`.

    All or nothing: every file is checked first (size, name, type, not empty); if one is
    refused, none is stored and the FileRefused names the file and the rule.

    `user` None with `external_party` (e.g. "supplier:Acme Parts"): someone without an account
    whose right to attach the caller has checked (the supplier's response link); the record's
    lock still applies, and the trail names the party (the caller acts as them)."""
    if user is None:
        if not external_party:
            raise AttachNotAllowed("Sign in to attach files.")
        if target.is_read_only(record):
            raise RecordLocked(f"{target.name_of(record)} no longer takes files.")
    else:
        _require_attach(user, target, record, "add to")
    if not files:
        raise ServiceError("Choose at least one file to attach.", field="files")
    if len(files) > max_files():
        raise ServiceError(
            f"At most {max_files()} files can be attached at once (LOOP_ATTACHMENT_MAX_FILES).",
            field="files",
        )
    checked = [(stream, check_upload(stream, name)) for stream, name in files]
    attachments = []
    for stream, upload in checked:
        stored = store(db.session, stream, upload)
        attachment = Attachment(
            record_type=target.record_type,
            record_id=_record_id(record),
            file_sha256=stored.sha256,
            filename=upload.filename,
            media_type=stored.media_type,
            size=stored.size,
            uploaded_at=utcnow(),
            uploaded_by_id=user.id if user is not None else None,
        )
        db.session.add(attachment)
        db.session.flush()
        record_event(
            db.session,
            AuditAction.UPDATE,
            target.record_type,
            _record_id(record),
            changes={"attachment_added": f"{upload.filename} (SHA-256 {stored.sha256})"},
        )
        attachments.append(attachment)
    return attachments


def remove_attachment(attachment: Attachment, reason: str | None, user: User) -> Attachment:
    """Remove an attachment from its record, with a reason. The row and the bytes stay (an
    auditor can still download it); the record no longer counts it."""
    found = record_of(attachment)
    if found is None:
        raise ServiceError("The record this file was attached to no longer exists.")
    target, record = found
    _require_attach(user, target, record, "remove")
    if attachment.is_removed:
        raise ServiceError(f"“{attachment.filename}” was already removed.")
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Say why the file is removed.", field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise ServiceError(
            f"The reason may have at most {REASON_MAX_LENGTH} characters.", field="reason"
        )
    with audit_reason(reason):
        attachment.removed_at = utcnow()
        attachment.removed_by_id = user.id
        attachment.removal_reason = reason
        db.session.flush()
        record_event(
            db.session,
            AuditAction.UPDATE,
            target.record_type,
            _record_id(record),
            changes={
                "attachment_removed": f"{attachment.filename} (SHA-256 {attachment.file_sha256})"
            },
            reason=reason,
        )
    return attachment


@cover_in_signatures
def attachment_hashes(record_type: str, record_id: str) -> dict[str, Any]:
    """What a signature covers of a record's attachments: each current file's name and hash
    (nothing when it has none, so records without attachments hash as they always did)."""
    if record_type not in TARGET_BY_TYPE:
        return {}
    rows = db.session.execute(
        select(Attachment.filename, Attachment.file_sha256).where(
            Attachment.record_type == record_type,
            Attachment.record_id == record_id,
            Attachment.removed_at.is_(None),
        )
    ).all()
    if not rows:
        return {}
    return {"attachments": sorted([sha, name] for name, sha in rows)}
