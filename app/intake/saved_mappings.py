"""Saved column mappings: the list with how often each was used, one mapping described field by
field, renaming and deleting.

Saving a mapping happens in the wizard (`services.save_mapping`); this module manages what was
saved. Every change goes through the ORM, so the audit trail records it (`ImportMapping` is
audited). Import jobs keep their own copy of the mapping they ran with, so deleting a saved
mapping only clears the jobs' link to it and never changes what a job page shows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.core.audit import audit_reason
from app.core.db import ensure_current_version, flush_or_refuse_stale
from app.core.errors import ServiceError
from app.extensions import db
from app.intake.mapping import FIELDS, FieldSpec, describe_format, parse_mapping
from app.intake.models import ImportJob, ImportMapping, ImportStatus
from app.intake.services import may_import

NAME_MAX_LENGTH = 120
# A mapping file (docs/mappings/*.json) is a few kilobytes; refuse anything far larger.
MAPPING_FILE_MAX_BYTES = 256 * 1024
# A job "used" a mapping once it started importing with it; one only uploaded and mapped may
# still be abandoned.
_RUN_STATUSES = (
    ImportStatus.VALIDATING,
    ImportStatus.IMPORTING,
    ImportStatus.COMPLETED,
    ImportStatus.FAILED,
)


@dataclass(frozen=True)
class MappingUsage:
    """How many imports ran with a saved mapping, and when the latest of them was uploaded."""

    imports: int = 0
    last_used_at: datetime | None = None


@dataclass(frozen=True)
class SavedMappingSummary:
    """One row of the saved-mappings list."""

    mapping: ImportMapping
    field_labels: list[str]
    usage: MappingUsage


@dataclass(frozen=True)
class FieldSource:
    """Where one complaint field comes from, in words: the source and its options."""

    field: str
    label: str
    source_kind: str  # "column", "columns", "template", "value"
    source: list[str]
    options: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MappingDescription:
    """A saved mapping's definition as the mapping page would read it."""

    fields: list[FieldSource]
    source_system: str
    date_formats: list[tuple[str, str]]  # (strftime pattern, DD-MM-YYYY words)
    prefer_date_format: str
    timezone: str
    null_values: list[str]
    group_by: str
    latest_by: str
    problem: str = ""  # set when the stored definition no longer reads (then only JSON is shown)
    row_filter: list[str] = field(default_factory=list)  # the filter's conditions, in words


def _require_import(user: Any) -> None:
    if user is not None and not may_import(user):
        raise ServiceError("Your role may not manage saved mappings.")


# --- reading ----------------------------------------------------------------------------------


def usage_of(mapping_ids: Iterable[int]) -> dict[int, MappingUsage]:
    """The usage of each of `mapping_ids` in one grouped query (ids never used are absent)."""
    ids = list(mapping_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(ImportJob.mapping_id, func.count(ImportJob.id), func.max(ImportJob.created_at))
        .where(ImportJob.mapping_id.in_(ids), ImportJob.status.in_(_RUN_STATUSES))
        .group_by(ImportJob.mapping_id)
    )
    return {
        mapping_id: MappingUsage(imports=count, last_used_at=last)
        for mapping_id, count, last in rows
    }


def list_saved_mappings() -> list[SavedMappingSummary]:
    """Every saved mapping by name, with who saved it, the fields it fills and its usage: three
    queries whatever the number of mappings."""
    mappings = list(
        db.session.scalars(
            select(ImportMapping)
            .options(selectinload(ImportMapping.created_by))
            .order_by(ImportMapping.name)
        )
    )
    usage = usage_of(mapping.id for mapping in mappings)
    return [
        SavedMappingSummary(
            mapping=mapping,
            field_labels=[FIELDS.get(name, name) for name in mapping.field_names],
            usage=usage.get(mapping.id, MappingUsage()),
        )
        for mapping in mappings
    ]


def get_saved_mapping(mapping_id: int) -> ImportMapping | None:
    return db.session.get(ImportMapping, mapping_id)


def jobs_using(mapping: ImportMapping, limit: int = 10) -> list[ImportJob]:
    """The latest import jobs linked to `mapping`, newest first, with who started them."""
    return list(
        db.session.scalars(
            select(ImportJob)
            .where(ImportJob.mapping_id == mapping.id)
            .options(selectinload(ImportJob.created_by))
            .order_by(ImportJob.id.desc())
            .limit(limit)
        )
    )


def _field_source(spec: FieldSpec) -> FieldSource:
    options: list[str] = []
    if spec.column:
        kind, source = "column", [spec.column]
    elif spec.columns:
        kind, source = "columns", list(spec.columns)
        options.append(
            "as labelled lines (column: value)"
            if spec.labelled
            else f"joined with “{spec.separator}”"
        )
    elif spec.template:
        kind, source = "template", [spec.template]
    else:
        kind, source = "value", [spec.value or ""]
    if spec.time_column:
        options.append(f"time of day from “{spec.time_column}”")
    if spec.default:
        options.append(f"when empty: {spec.default}")
    if spec.pattern:
        options.append(f"must match {spec.pattern}")
    if spec.if_missing != "reject":
        options.append(
            "when no record has that name: "
            + ("create it" if spec.if_missing == "create" else "leave empty")
        )
    return FieldSource(
        field=spec.name,
        label=FIELDS.get(spec.name, spec.name),
        source_kind=kind,
        source=source,
        options=options,
        values=dict(spec.values),
    )


def describe(mapping: ImportMapping) -> MappingDescription:
    """The saved definition field by field, with its date formats and settings."""
    try:
        parsed = parse_mapping(mapping.definition_dict)
    except (ServiceError, ValueError) as error:
        # Saved before a rule tightened: still shown (as JSON) so it can be read and deleted.
        message = error.message if isinstance(error, ServiceError) else str(error)
        return MappingDescription([], "", [], "", "UTC", [], "", "", problem=message)
    return MappingDescription(
        fields=[_field_source(spec) for spec in parsed.fields.values()],
        source_system=parsed.source_system or "",
        date_formats=[(pattern, describe_format(pattern)) for pattern in parsed.date_formats],
        prefer_date_format=parsed.prefer_date_format or "",
        timezone=parsed.timezone,
        null_values=sorted(parsed.null_values),
        group_by=parsed.group_by.column if parsed.group_by else "",
        latest_by=(parsed.group_by.latest_by or "") if parsed.group_by else "",
        row_filter=[condition.describe() for condition in parsed.filters],
    )


# --- changing ---------------------------------------------------------------------------------


def _label(mapping: ImportMapping) -> str:
    return f"The saved mapping “{mapping.name}”"


def _taken(name: str, exclude_id: int) -> bool:
    """Whether another saved mapping has `name`, ignoring case: two names that differ only in
    case would be indistinguishable in the upload page's list."""
    statement = select(ImportMapping.id).where(
        func.lower(ImportMapping.name) == name.lower(), ImportMapping.id != exclude_id
    )
    return db.session.scalar(statement.limit(1)) is not None


def rename_mapping(
    mapping: ImportMapping, name: str, *, expected_version: object, user: User | None
) -> ImportMapping:
    """Give `mapping` a new name, unique among saved mappings (ignoring case).

    Refuses a stale form (`StaleRecord`), an empty or over-long name and a name another mapping
    has (a `ServiceError` on the `name` field); nothing changes then. The definition's own
    "name" follows, so imports mapped with it from now on carry the new name; past jobs keep
    the name they ran with."""
    _require_import(user)
    ensure_current_version(mapping, expected_version, _label(mapping))
    label = _label(mapping)
    name = (name or "").strip()
    if not name:
        raise ServiceError("Give the mapping a name.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise ServiceError(
            f"A mapping name may have at most {NAME_MAX_LENGTH} characters.", field="name"
        )
    if _taken(name, mapping.id):
        raise ServiceError(f"Another saved mapping is already called “{name}”.", field="name")
    if name == mapping.name:
        return mapping
    definition = mapping.definition_dict
    definition["name"] = name
    mapping.name = name
    mapping.definition = _dumps(definition)
    try:
        flush_or_refuse_stale(db.session, label)
    except IntegrityError:
        # Another request took the name between our check and our write.
        raise ServiceError(
            f"Another saved mapping is already called “{name}”.", field="name"
        ) from None
    return mapping


def delete_mapping(mapping: ImportMapping, *, expected_version: object, user: User | None) -> None:
    """Delete `mapping`, refusing a stale page (`StaleRecord`).

    Import jobs that used it keep their copy of the definition and its name; their link to the
    saved mapping is cleared first, through the ORM, so the trail records each job's change with
    the reason, then the mapping's deletion (with its whole definition)."""
    _require_import(user)
    ensure_current_version(mapping, expected_version, _label(mapping))
    label = _label(mapping)
    with audit_reason(f"Deleted the saved mapping “{mapping.name}”"):
        for job in db.session.scalars(select(ImportJob).where(ImportJob.mapping_id == mapping.id)):
            job.mapping_id = None
        flush_or_refuse_stale(db.session, label)
        db.session.delete(mapping)
        flush_or_refuse_stale(db.session, label)


def _dumps(definition: dict[str, Any]) -> str:
    # The same layout `services.save_mapping` stores, so the audit diff shows only the name.
    return json.dumps(definition, indent=2, ensure_ascii=False)


def read_mapping_file(filename: str, content: bytes, columns: Iterable[str]) -> dict[str, Any]:
    """The mapping definition in an uploaded mapping file (the JSON format of docs/import.md,
    e.g. docs/mappings/comcast.json), checked against the import file's `columns`.

    Raises ServiceError (field "mapping_file") saying what is wrong: no file, too large, not
    UTF-8, not JSON (with line and column), or a mapping that does not fit the columns."""
    name = filename or "the file"
    if not content:
        raise ServiceError("Choose a mapping file (.json) to load.", field="mapping_file")
    if len(content) > MAPPING_FILE_MAX_BYTES:
        raise ServiceError(
            f"{name} is larger than {MAPPING_FILE_MAX_BYTES // 1024} kB: it is not a mapping file.",
            field="mapping_file",
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ServiceError(
            f"{name} is not a text file in UTF-8: a mapping file is JSON.", field="mapping_file"
        ) from None
    try:
        definition = json.loads(text)
    except json.JSONDecodeError as error:
        raise ServiceError(
            f"{name} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}.",
            field="mapping_file",
        ) from None
    try:
        parse_mapping(definition, columns)
    except ServiceError as error:
        raise ServiceError(f"{name}: {error.message}", field="mapping_file") from None
    return definition
