"""Process FMEA: the worksheet, its rows, preventive CAPAs raised from rows, revised ratings once
a CAPA is effective, and approved revisions under an electronic signature.

The functions take plain values, check the rules, change the records and flush; they never commit.
A refusal is a `ServiceError` naming the field at fault (`NotPermitted` when the user's role may
not make the change: pages answer 403). After a refusal the caller rolls the session back.

Who may do what: quality leads maintain FMEAs (the records-manage permission) and approve their
revisions (the sign permission); everyone signed in reads them; auditors change nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.accounts.services import sign_record
from app.capa import services as capa_services
from app.capa.models import Capa, CapaKind, CapaStatus, RecoveryDimension
from app.core.audit import canonical_json, record_type_of
from app.core.db import all_or_nothing, ensure_current_version, flush_or_refuse_stale, utcnow
from app.core.errors import NotPermitted, ServiceError
from app.core.permissions import Permission, Role, role_can
from app.core.references import next_reference
from app.core.signatures import Signature, content_hash
from app.core.validation import checked_text
from app.extensions import db
from app.fmea.models import Fmea, FmeaAction, FmeaRevision, FmeaRow
from app.organisation.models import Category, Process

TITLE_MAX_LENGTH = 200
STEP_MAX_LENGTH = 200
FAILURE_MODE_MAX_LENGTH = 300
TEXT_MAX_LENGTH = 10_000
APPROVAL_PURPOSE = "fmea_approval"
REFERENCE_PREFIX = "FMEA"

# The row's text fields: (attribute, label, maximum length, required).
ROW_TEXT_FIELDS: tuple[tuple[str, str, int, bool], ...] = (
    ("process_step", "The process step / function", STEP_MAX_LENGTH, False),
    ("failure_mode", "The failure mode", FAILURE_MODE_MAX_LENGTH, True),
    ("effect", "The failure effect", TEXT_MAX_LENGTH, False),
    ("cause", "The failure cause", TEXT_MAX_LENGTH, False),
    ("prevention_controls", "The prevention controls", TEXT_MAX_LENGTH, False),
    ("detection_controls", "The detection controls", TEXT_MAX_LENGTH, False),
    ("recommended_action", "The recommended action", TEXT_MAX_LENGTH, False),
)
# ASCII digits only, short enough for the database's integers.
_SMALL_INTEGER = re.compile(r"-?[0-9]{1,3}")
_ID = re.compile(r"[0-9]{1,9}")
RATING_LABELS = {"severity": "Severity", "occurrence": "Occurrence", "detection": "Detection"}


# --- who may do what ---------------------------------------------------------------------------


def may_edit(user: User | None) -> bool:
    return user is not None and role_can(user.role, Permission.RECORDS_MANAGE)


def may_approve(user: User | None) -> bool:
    return user is not None and role_can(user.role, Permission.RECORDS_SIGN)


def _require_edit(user: User | None, action: str) -> None:
    if not may_edit(user):
        raise NotPermitted(f"Only a quality lead may {action}.")


# --- reading -----------------------------------------------------------------------------------


def list_fmeas() -> list[Fmea]:
    """Every FMEA, by process then reference, with its process, owner and rows loaded."""
    return list(
        db.session.scalars(
            select(Fmea)
            .join(Process, Process.id == Fmea.process_id)
            .options(selectinload(Fmea.process), selectinload(Fmea.owner), selectinload(Fmea.rows))
            .order_by(Process.name, Fmea.reference)
        )
    )


def get_by_reference(reference: str) -> Fmea | None:
    return db.session.scalar(select(Fmea).where(Fmea.reference == reference.strip().upper()))


def rows_of(fmea: Fmea) -> list[FmeaRow]:
    """The worksheet's rows in order, with categories and CAPAs loaded (a fixed number of queries
    whatever the number of rows)."""
    return list(
        db.session.scalars(
            select(FmeaRow)
            .where(FmeaRow.fmea_id == fmea.id)
            .options(
                selectinload(FmeaRow.categories),
                selectinload(FmeaRow.actions).selectinload(FmeaAction.capa),
            )
            .order_by(FmeaRow.position, FmeaRow.id)
        )
    )


def selectable_processes(current_id: int | None = None) -> list[Process]:
    return list(
        db.session.scalars(
            select(Process)
            .where((Process.active.is_(True)) | (Process.id == current_id))
            .order_by(Process.name)
        )
    )


def selectable_categories(current_ids: Iterable[int] = ()) -> list[Category]:
    current = list(current_ids)
    return list(
        db.session.scalars(
            select(Category)
            .where((Category.active.is_(True)) | (Category.id.in_(current)))
            .order_by(Category.name)
        )
    )


def selectable_owners(current_id: int | None = None) -> list[User]:
    return capa_services.assignable_people(current_id)


def effective_capa_ids(capa_ids: Iterable[int]) -> set[int]:
    """Of these CAPAs, the ones whose effectiveness is verified: effective (or closed after it),
    with a valid effectiveness signature. One query."""
    ids = [str(capa_id) for capa_id in capa_ids]
    if not ids:
        return set()
    signed = db.session.scalars(
        select(Signature.record_id).where(
            Signature.record_type == record_type_of(Capa),
            Signature.record_id.in_(ids),
            Signature.purpose == capa_services.EFFECTIVENESS_PURPOSE,
            Signature.voided_at.is_(None),
        )
    )
    verified = {int(record_id) for record_id in signed}
    if not verified:
        return set()
    return set(
        db.session.scalars(
            select(Capa.id).where(
                Capa.id.in_(verified),
                Capa.status.in_([CapaStatus.EFFECTIVE, CapaStatus.CLOSED]),
            )
        )
    )


# --- checks ------------------------------------------------------------------------------------


def checked_rating(value: Any, label: str, field: str) -> int:
    """A rating on the 1–10 scale: a whole number (10, "10" or 10.0), else a field error."""
    message = f"{label} must be a whole number from 1 to 10."
    if isinstance(value, bool) or value is None:
        raise ServiceError(message, field=field)
    if isinstance(value, float):
        if not value.is_integer():
            raise ServiceError(message, field=field)
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if not _SMALL_INTEGER.fullmatch(text):
            raise ServiceError(message, field=field)
        value = int(text)
    if not isinstance(value, int) or not 1 <= value <= 10:
        raise ServiceError(message, field=field)
    return value


def as_id(value: Any) -> int | None:
    """A form's id value as an int, or None when it cannot be one (never a database error)."""
    text = str(value if value is not None else "").strip()
    return int(text) if _ID.fullmatch(text) else None


def _checked_process(process_id: Any) -> Process:
    ident = as_id(process_id)
    process = db.session.get(Process, ident) if ident is not None else None
    if process is None:
        raise ServiceError("Choose the process this FMEA analyses.", field="process_id")
    return process


def _checked_owner(owner_id: Any) -> User | None:
    if owner_id in (None, ""):
        return None
    allowed = {user.id for user in selectable_owners()}
    ident = as_id(owner_id)
    owner = db.session.get(User, ident) if ident is not None else None
    if owner is None or owner.id not in allowed:
        raise ServiceError(
            "The owner must be an active quality lead or contributor.", field="owner_id"
        )
    return owner


def _checked_categories(category_ids: Iterable[Any], current: Sequence[int] = ()) -> list[Category]:
    ids = {ident for value in category_ids if (ident := as_id(value)) is not None}
    if not ids:
        return []
    categories = list(db.session.scalars(select(Category).where(Category.id.in_(ids))))
    if len(categories) != len(ids) or any(
        not category.active and category.id not in current for category in categories
    ):
        raise ServiceError("Choose active failure categories only.", field="category_ids")
    return sorted(categories, key=lambda category: category.name)


@dataclass(frozen=True)
class RowValues:
    """A row's analyst-entered values, checked."""

    texts: dict[str, str]
    ratings: dict[str, int]


def checked_row_values(values: dict[str, Any]) -> RowValues:
    """Check a row's texts and its S/O/D (1–10); the first problem is raised on its field."""
    texts = {
        name: checked_text(values.get(name), label, name, limit, required=required)
        for name, label, limit, required in ROW_TEXT_FIELDS
    }
    ratings = {
        name: checked_rating(values.get(name), label, name) for name, label in RATING_LABELS.items()
    }
    return RowValues(texts, ratings)


def _header_values(
    *,
    title: str,
    process_step: str,
    team: str,
    scope: str,
    prepared_on: date | None,
    next_review_on: date | None,
) -> dict[str, Any]:
    if prepared_on is None:
        raise ServiceError("The date the FMEA was prepared is required.", field="prepared_on")
    if next_review_on is not None and next_review_on < prepared_on:
        raise ServiceError(
            "The next review cannot be before the FMEA was prepared.", field="next_review_on"
        )
    return {
        "title": checked_text(title, "A title", "title", TITLE_MAX_LENGTH),
        "process_step": checked_text(
            process_step, "The process step", "process_step", STEP_MAX_LENGTH, required=False
        ),
        "team": checked_text(team, "The team", "team", TEXT_MAX_LENGTH, required=False),
        "scope": checked_text(scope, "The scope", "scope", TEXT_MAX_LENGTH, required=False),
        "prepared_on": prepared_on,
        "next_review_on": next_review_on,
    }


# --- the worksheet -----------------------------------------------------------------------------


def create_fmea(
    *,
    title: str,
    process_id: Any,
    process_step: str = "",
    team: str = "",
    scope: str = "",
    owner_id: Any = None,
    prepared_on: date | None = None,
    next_review_on: date | None = None,
    user: User | None,
) -> Fmea:
    """Start an FMEA (revision 1, not yet approved) with the next FMEA-<year>-<number>."""
    _require_edit(user, "start an FMEA")
    values = _header_values(
        title=title,
        process_step=process_step,
        team=team,
        scope=scope,
        prepared_on=prepared_on or utcnow().date(),
        next_review_on=next_review_on,
    )
    process = _checked_process(process_id)
    owner = _checked_owner(owner_id)
    fmea = Fmea(
        reference=next_reference(db.session, REFERENCE_PREFIX, utcnow().year),
        process_id=process.id,
        owner_id=owner.id if owner else None,
        revision=1,
        **values,
    )
    db.session.add(fmea)
    db.session.flush()
    return fmea


def update_fmea(
    fmea: Fmea,
    *,
    title: str,
    process_id: Any,
    process_step: str,
    team: str,
    scope: str,
    owner_id: Any,
    prepared_on: date | None,
    next_review_on: date | None,
    expected_version: object,
    user: User | None,
) -> Fmea:
    """Change the header. Refused when the form was opened on an older version."""
    _require_edit(user, "change an FMEA")
    label = f"The FMEA {fmea.reference}"
    ensure_current_version(fmea, expected_version, label)
    values = _header_values(
        title=title,
        process_step=process_step,
        team=team,
        scope=scope,
        prepared_on=prepared_on,
        next_review_on=next_review_on,
    )
    process = _checked_process(process_id)
    owner = _checked_owner(owner_id)
    for name, value in values.items():
        setattr(fmea, name, value)
    fmea.process_id = process.id
    fmea.owner_id = owner.id if owner else None
    flush_or_refuse_stale(db.session, label)
    return fmea


def _next_position(fmea: Fmea) -> int:
    last = db.session.scalar(select(func.max(FmeaRow.position)).where(FmeaRow.fmea_id == fmea.id))
    return (last or 0) + 1


def add_row(
    fmea: Fmea, *, values: dict[str, Any], category_ids: Iterable[Any] = (), user: User | None
) -> FmeaRow:
    """Add a row at the end of the worksheet. S, O and D must be whole numbers 1–10."""
    _require_edit(user, "change an FMEA")
    checked = checked_row_values(values)
    categories = _checked_categories(category_ids)
    return _insert_row(fmea, checked, categories, _next_position(fmea))


def _insert_row(
    fmea: Fmea, checked: RowValues, categories: list[Category], position: int
) -> FmeaRow:
    row = FmeaRow(fmea_id=fmea.id, position=position, **checked.texts, **checked.ratings)
    row.categories = categories
    db.session.add(row)
    db.session.flush()
    return row


def update_row(
    row: FmeaRow,
    *,
    values: dict[str, Any],
    category_ids: Iterable[Any],
    expected_version: object,
    user: User | None,
) -> FmeaRow:
    """Change a row's analysis and ratings. Refused when opened on an older version."""
    _require_edit(user, "change an FMEA")
    label = f"The row “{row.failure_mode}”"
    ensure_current_version(row, expected_version, label)
    checked = checked_row_values(values)
    categories = _checked_categories(category_ids, [c.id for c in row.categories])
    for name, value in {**checked.texts, **checked.ratings}.items():
        setattr(row, name, value)
    row.categories = categories
    flush_or_refuse_stale(db.session, label)
    return row


def delete_row(row: FmeaRow, *, expected_version: object, user: User | None) -> None:
    """Remove a row (the trail keeps its values). A row that raised a CAPA stays: the CAPA's
    traceability back to the failure mode must not break."""
    _require_edit(user, "change an FMEA")
    label = f"The row “{row.failure_mode}”"
    ensure_current_version(row, expected_version, label)
    if row.actions:
        raise ServiceError(
            "This row raised a preventive CAPA; it stays so the CAPA can be traced to it."
        )
    row.categories = []
    db.session.flush()
    db.session.delete(row)
    flush_or_refuse_stale(db.session, label)


# --- preventive actions ------------------------------------------------------------------------


def raise_preventive_capa(
    row: FmeaRow,
    *,
    title: str,
    owner_id: Any,
    due_date: date | None,
    principle_ids: Iterable[int],
    user: User,
) -> Capa:
    """Turn the row's recommended action into a planned preventive CAPA (process recovery),
    mapped to the chosen TQM principles and linked to the row."""
    _require_edit(user, "raise a CAPA from an FMEA")
    if not row.recommended_action.strip():
        raise ServiceError(
            "Write the row's recommended action first: it becomes the CAPA's description.",
            field="title",
        )
    fmea = row.fmea
    capa = capa_services.plan_capa(
        kind=CapaKind.PREVENTIVE,
        recovery_dimension=RecoveryDimension.PROCESS,
        title=title,
        description=(
            f"Preventive action from {fmea.reference} ({fmea.process.name}), failure mode "
            f"“{row.failure_mode}” (S{row.severity} O{row.occurrence} D{row.detection}, "
            f"AP {row.ap.value}).\n\n{row.recommended_action}"
        ),
        owner_id=as_id(owner_id),
        due_date=due_date,
        principle_ids=principle_ids,
        user=user,
    )
    db.session.add(FmeaAction(row_id=row.id, capa_id=capa.id))
    db.session.flush()
    return capa


def record_revised_ratings(
    row: FmeaRow,
    *,
    severity: Any,
    occurrence: Any,
    detection: Any,
    expected_version: object,
    user: User | None,
) -> FmeaRow:
    """Record the ratings after the action: only once a CAPA raised from the row is effective
    (verified under signature), so the "after" column rests on a verified action."""
    _require_edit(user, "record revised ratings")
    label = f"The row “{row.failure_mode}”"
    ensure_current_version(row, expected_version, label)
    if not effective_capa_ids(action.capa_id for action in row.actions):
        raise ServiceError(
            "Revised ratings are recorded once a preventive CAPA of this row is effective."
        )
    revised = (
        checked_rating(severity, "The revised severity", "severity"),
        checked_rating(occurrence, "The revised occurrence", "occurrence"),
        checked_rating(detection, "The revised detection", "detection"),
    )
    row.revised_severity, row.revised_occurrence, row.revised_detection = revised
    row.revised_at = utcnow()
    flush_or_refuse_stale(db.session, label)
    return row


# --- revisions ---------------------------------------------------------------------------------


def snapshot(fmea: Fmea, rows: Sequence[FmeaRow] | None = None) -> dict[str, Any]:
    """The FMEA as it stands: header and rows (with RPN, AP and CAPAs), JSON-ready."""
    rows = rows_of(fmea) if rows is None else rows
    return {
        "reference": fmea.reference,
        "revision": fmea.revision,
        "title": fmea.title,
        "process": fmea.process.name,
        "process_step": fmea.process_step,
        "team": fmea.team,
        "scope": fmea.scope,
        "owner": fmea.owner.full_name if fmea.owner else None,
        "prepared_on": fmea.prepared_on.isoformat(),
        "next_review_on": fmea.next_review_on.isoformat() if fmea.next_review_on else None,
        "rows": [row_data(row) for row in rows],
    }


def row_data(row: FmeaRow) -> dict[str, Any]:
    return {
        "position": row.position,
        "process_step": row.process_step,
        "failure_mode": row.failure_mode,
        "effect": row.effect,
        "cause": row.cause,
        "prevention_controls": row.prevention_controls,
        "detection_controls": row.detection_controls,
        "severity": row.severity,
        "occurrence": row.occurrence,
        "detection": row.detection,
        "rpn": row.rpn,
        "ap": row.ap.value,
        "recommended_action": row.recommended_action,
        "categories": [category.name for category in row.categories],
        "capas": [action.capa.reference for action in row.actions],
        "revised_severity": row.revised_severity,
        "revised_occurrence": row.revised_occurrence,
        "revised_detection": row.revised_detection,
        "revised_rpn": row.revised_rpn,
        "revised_ap": row.revised_ap.value if row.revised_ap else None,
    }


def approve_revision(
    fmea: Fmea,
    user: User,
    password: str,
    *,
    change_note: str,
    expected_version: object,
) -> tuple[FmeaRevision, Signature]:
    """Approve the working copy as revision `fmea.revision` under the approver's electronic
    signature (meaning approved): its header and rows are frozen as that revision, readable
    later, and the working copy becomes the next revision. A wrong password changes nothing."""
    if user.role == Role.AUDITOR or not may_approve(user):
        raise NotPermitted("Only a quality lead may approve an FMEA revision.")
    ensure_current_version(fmea, expected_version, f"The FMEA {fmea.reference}")
    note = checked_text(change_note, "What changed", "change_note", TEXT_MAX_LENGTH)
    rows = rows_of(fmea)
    if not rows:
        raise ServiceError("An FMEA without rows cannot be approved: add its failure modes.")
    with all_or_nothing(db.session):
        revision = freeze_revision(fmea, user, note, rows)
        signature = sign_record(revision, user, password, "approved", purpose=APPROVAL_PURPOSE)
        fmea.revision += 1
        flush_or_refuse_stale(db.session, f"The FMEA {fmea.reference}")
    return revision, signature


def freeze_revision(
    fmea: Fmea, approver: User, change_note: str, rows: Sequence[FmeaRow] | None = None
) -> FmeaRevision:
    """Store the working copy as revision `fmea.revision`, approved by `approver` now. The caller
    signs it and moves the working copy on (see `approve_revision`)."""
    content = canonical_json(snapshot(fmea, rows))
    revision = FmeaRevision(
        fmea_id=fmea.id,
        number=fmea.revision,
        label=f"{fmea.reference} rev {fmea.revision}",
        change_note=change_note,
        snapshot_json=content,
        snapshot_sha256=hashlib.sha256(content.encode()).hexdigest(),
        approved_by_id=approver.id,
        approved_at=utcnow(),
    )
    db.session.add(revision)
    db.session.flush()
    return revision


def revisions_with_signatures(
    fmea: Fmea,
) -> list[tuple[FmeaRevision, list[tuple[Signature, bool]]]]:
    """The approved revisions, oldest first, each with its signatures (oldest first) and whether
    the revision changed after each was given (void signatures never read as changed). A fixed
    number of queries whatever the number of revisions."""
    revisions = list(
        db.session.scalars(
            select(FmeaRevision)
            .where(FmeaRevision.fmea_id == fmea.id)
            .options(selectinload(FmeaRevision.approved_by))
            .order_by(FmeaRevision.number)
        )
    )
    by_id: dict[str, list[Signature]] = {str(revision.id): [] for revision in revisions}
    if by_id:
        for signature in db.session.scalars(
            select(Signature)
            .where(
                Signature.record_type == record_type_of(FmeaRevision),
                Signature.record_id.in_(list(by_id)),
            )
            .order_by(Signature.signed_at, Signature.id)
        ):
            by_id[signature.record_id].append(signature)
    return [
        (
            revision,
            [
                (sig, not sig.is_void and sig.content_hash != content_hash(revision))
                for sig in by_id[str(revision.id)]
            ],
        )
        for revision in revisions
    ]


def revision_of(fmea: Fmea, number: int) -> FmeaRevision | None:
    return db.session.scalar(
        select(FmeaRevision).where(FmeaRevision.fmea_id == fmea.id, FmeaRevision.number == number)
    )
