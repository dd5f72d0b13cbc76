"""What every report shares: the gathered `Report`, and how records become report data.

Report data is plain JSON (strings, numbers, booleans, lists, dicts): the templates print it, the
PDF carries it as an attachment, and its canonical serialisation is what the footer's SHA-256
covers. Times are written as `YYYY-MM-DD HH:MM:SS UTC`, dates as ISO dates, money as strings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, select

from app.core.audit import AuditEvent, canonical_json, record_type_of
from app.core.audit_display import ReadableEvent, readable_events
from app.core.errors import ServiceError
from app.core.signatures import Signature
from app.extensions import db

# An event's field values longer than this are cut in the PDF (the attached data keeps them whole).
CHANGE_VALUE_PRINT_LIMIT = 300


class ReportError(ServiceError):
    """The report cannot be made from this input (a bad period or filter); nothing was written."""


@dataclass(frozen=True)
class Report:
    """A gathered report, ready to render.

    `data` is everything the PDF shows but its charts (and nothing it does not); `filters` are
    the (label, value) pairs printed under "Filters used" and stored in `data["filters"]` too, so
    the hash covers them. `record_type`/`record_id` name what the `export` audit event is about."""

    kind: str
    title: str
    template: str
    data: dict[str, Any]
    filters: list[tuple[str, str]]
    record_type: str
    record_id: str | None
    filename_stem: str
    landscape: bool = False
    subject: str = ""
    keywords: list[str] = field(default_factory=list)
    # SVG charts drawn from `data` (e.g. by app.core.charts), by name: templates embed them inline,
    # so they stay vector. Derived from the data, they are neither attached nor hashed.
    charts: dict[str, str] = field(default_factory=dict)
    # The list in `data` a long report may be rendered in parts of (the register's "rows"); its
    # template prints the part's `rows`, and the title block only when `part.first`
    # (reports.rendering).
    parts_of: str | None = None

    def canonical_data(self) -> bytes:
        """The data as canonical JSON (sorted keys, no spaces, UTF-8): the attached file."""
        return canonical_json(self.data).encode()

    def data_sha256(self) -> str:
        return hashlib.sha256(self.canonical_data()).hexdigest()


def report_data(filters: list[tuple[str, str]], **sections: Any) -> dict[str, Any]:
    """The data of a report: its sections plus the filters it was gathered with."""
    return {"filters": [{"name": name, "value": value} for name, value in filters], **sections}


# --- formatting ------------------------------------------------------------------------------


def when(value: datetime | None) -> str | None:
    """A timestamp as reports print it, in UTC; None stays None."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def money(value: Decimal | None) -> str | None:
    return f"{value:,.2f}" if value is not None else None


def name_of(user: Any) -> str | None:
    return user.full_name if user is not None else None


def signature_data(
    signature: Signature, record_label: str, changed: bool, purpose: str | None = None
) -> dict[str, Any]:
    """One signature manifestation: who signed, when, with what meaning, for what; and, for a
    signature voided by a reopen, the void notice (None while it is valid)."""
    return {
        "void": signature.void_notice() or None,
        "record": record_label,
        "signer": signature.signer_name,
        "signer_email": signature.signer_email,
        "meaning": signature.meaning.label,
        "purpose": purpose or signature.purpose.replace("_", " "),
        "signed_at": when(signature.signed_at),
        "content_hash": signature.content_hash,
        "changed_after_signature": changed and not signature.is_void,
        "manifestation": signature.manifestation(),
    }


def attachment_data(labelled_records: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """The files attached to each (label, record), removed ones too (with who, when and why),
    each with its SHA-256, so a reader can check a file they hold against the report."""
    from app.attachments.services import attachments_of

    rows = []
    for label, record in labelled_records:
        for item in attachments_of(record):
            rows.append(
                {
                    "record": label,
                    "filename": item.filename,
                    "media_type": item.media_type,
                    "size": item.size,
                    "sha256": item.file_sha256,
                    "uploaded_at": when(item.uploaded_at),
                    "uploaded_by": name_of(item.uploaded_by),
                    "removed": (
                        f"Removed {when(item.removed_at)} by {name_of(item.removed_by)}: "
                        f"{item.removal_reason}"
                        if item.is_removed
                        else None
                    ),
                }
            )
    return rows


def event_data(
    event: AuditEvent, record_label: str | None = None, readable: ReadableEvent | None = None
) -> dict[str, Any]:
    """One audit event, every stored field (so its hash can be recomputed from the attached
    data), and how it reads (`app.core.audit_display`): the action's and the record's names and
    one line per field change ("Owner: Quinn Lead → Casey Staff")."""
    readable = readable or readable_events([event])[0]
    return {
        "id": event.id,
        "occurred_at": when(event.occurred_at),
        "actor": event.actor,
        "actor_user_id": event.actor_user_id,
        "action": str(event.action),
        "action_label": readable.action_label,
        "record_type": event.record_type,
        "record_type_label": readable.record_type_label,
        "record_id": event.record_id,
        "record": record_label or readable.record_label,
        "lines": readable.lines(),
        "changes": event.changes_dict,
        "reason": event.reason,
        "request_id": event.request_id,
        "remote_addr": event.remote_addr,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def history_data(events: Iterable[AuditEvent], labels: dict[tuple[str, str], str]) -> list[dict]:
    """Events as report data; `labels` names records by (record_type, record_id) where the
    trail's own name for them would not do."""
    events = list(events)
    return [
        event_data(event, labels.get((event.record_type, event.record_id or "")), readable)
        for event, readable in zip(events, readable_events(events), strict=True)
    ]


def events_of(records: Iterable[Any]) -> list[AuditEvent]:
    """Every audit event of these records, oldest first (one query)."""
    by_type: dict[str, list[str]] = {}
    for record in records:
        by_type.setdefault(record_type_of(record), []).append(str(record.id))
    if not by_type:
        return []
    condition = or_(
        *(
            and_(AuditEvent.record_type == record_type, AuditEvent.record_id.in_(ids))
            for record_type, ids in by_type.items()
        )
    )
    return list(db.session.scalars(select(AuditEvent).where(condition).order_by(AuditEvent.id)))
