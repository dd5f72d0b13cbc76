"""Complaint import: jobs, mappings, preview and the chunked import itself.

An import is a job (`ImportJob`) that keeps its file. It runs in steps of `IMPORT_CHUNK_ROWS`
rows, each step one transaction, so a browser can show progress and an interrupted import resumes
where it stopped; the CLI runs the same steps in one go.

Each row goes through the complaint domain's own checks (`app.complaints.services`: text lengths,
required title, known channel/severity/status, a received time not in the future, active customer,
process and category), and the complaints are written through the ORM, so every one gets its
audit-trail event, with the reason "Imported from <file> (import N)".

Decisions (documented in docs/import.md):
- Imported complaints take the status the source system gives (mapped through the value map),
  set together with the timestamps that status implies, as the workflow would have stamped them:
  acknowledged/investigating/reopened need `first_response_at`; resolved needs `resolved_at`;
  closed needs `resolved_at` and `closed_at`. Times the file gives are used; a missing one falls
  back as the workflow would (resolving is the first response; a closure without a resolution
  time was resolved when closed); with no time at all the time stays unknown (NULL), never the
  received time, which would read as a zero duration. Times must not run backwards (received ≤
  first response ≤ resolved ≤ closed) or lie in the future. First-contact resolution is not
  known from a file and stays unknown (NULL).
- Duplicates are rows whose (source system, external id) is already in Loop or earlier in the
  same file: skipped and counted, never rejected.
- All-or-nothing checks every row first (nothing is written); only when none is rejected does it
  write. Skip-bad-rows writes the good rows and lists the others.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.complaints import services as complaint_services
from app.complaints.models import (
    Channel,
    Complaint,
    ComplaintStatus,
    RetentionStatus,
    Severity,
    complaint_durations,
)
from app.core.audit import audit_reason, bulk_create_events
from app.core.db import utcnow
from app.core.errors import ServiceError
from app.core.permissions import Permission, role_can
from app.core.references import next_references
from app.core.validation import checked_choice, checked_not_in_future, checked_text
from app.extensions import db
from app.intake import files
from app.intake.mapping import (
    FLAG_FIELDS,
    Mapping,
    RowError,
    RowReader,
    RowValues,
    parse_mapping,
)
from app.intake.models import (
    ImportJob,
    ImportMapping,
    ImportMode,
    ImportRejection,
    ImportStatus,
)
from app.intake.reference import Lookups, create_records, name_key
from app.intake.reference import planned_creations as _planned_creations
from app.intake.rows import (
    EXTERNAL_ID_MAX_LENGTH,
    SourceRow,
    duplicate_rows,
    external_id_of,
    filtered_out,
    id_conflicts,
    source_rows,
)
from app.metrics import rollup

TAGS_MAX_LENGTH = 500  # complaint.tags
COMPANY_RESPONSE_MAX_LENGTH = 200  # complaint.company_response
PREVIEW_ROWS = 20
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_ROWS = 100_000
DEFAULT_CHUNK_ROWS = 2_000


def setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def format_size(size: int) -> str:
    """A byte count as people read it: 840 bytes, 12.5 KB, 20.0 MB."""
    if size < 1024:
        return f"{size:,} bytes"
    if size < 1_048_576:
        return f"{size / 1024:,.1f} KB"
    return f"{size / 1_048_576:,.1f} MB"


def may_import(user: Any) -> bool:
    """Quality leads and administrators may import; contributors and auditors may not."""
    return user is not None and role_can(getattr(user, "role", None), Permission.RECORDS_IMPORT)


def _require_import(user: Any) -> None:
    if user is not None and not may_import(user):
        raise ServiceError("Your role may not import complaints.")


# --- jobs and mappings -------------------------------------------------------------------------


def create_job(filename: str, content: bytes, *, user: User | None) -> ImportJob:
    """Read an uploaded CSV or XLSX file into a new import job (status "uploaded").

    Refuses files above IMPORT_MAX_BYTES or with more than IMPORT_MAX_ROWS data rows, saying
    which limit and how large the file is."""
    _require_import(user)
    max_bytes = setting("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)
    if not content:
        raise ServiceError("The file is empty.", field="file")
    if len(content) > max_bytes:
        raise ServiceError(
            f"The file is larger than {format_size(max_bytes)}, the limit per import "
            "(IMPORT_MAX_BYTES). Split it into smaller files.",
            field="file",
        )
    try:
        table = files.read_table(
            filename, content, max_rows=setting("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)
        )
    except ServiceError as error:
        raise ServiceError(error.message, field="file") from None
    if not table.rows:
        raise ServiceError("The file has a header row but no data rows.", field="file")
    job = ImportJob(
        filename=(filename or "upload")[:255],
        data=files.pack(table),
        columns=json.dumps(table.columns),
        file_rows=len(table.rows),
        status=ImportStatus.UPLOADED,
        mode=ImportMode.SKIP_BAD_ROWS,
        total=0,
        position=0,
        imported_count=0,
        duplicate_count=0,
        rejected_count=0,
        filtered_count=0,
        unknown_time_count=0,
        conflict_count=0,
        message="",
        created_by_id=user.id if user is not None else None,
    )
    db.session.add(job)
    db.session.flush()
    return job


def saved_mappings() -> list[ImportMapping]:
    """Every saved mapping, by name (the upload page's choices)."""
    return list(db.session.scalars(select(ImportMapping).order_by(ImportMapping.name)))


def save_mapping(name: str, definition: dict[str, Any], *, user: User | None) -> ImportMapping:
    """Save `definition` under `name` (replacing a saved mapping of that name); audited."""
    _require_import(user)
    name = (name or "").strip()
    if not name:
        raise ServiceError("Give the mapping a name.", field="save_as")
    if len(name) > 120:
        raise ServiceError("A mapping name may have at most 120 characters.", field="save_as")
    mapping = parse_mapping(definition)
    text = json.dumps({**mapping.as_json(), "name": name}, indent=2, ensure_ascii=False)
    record = db.session.scalar(select(ImportMapping).where(ImportMapping.name == name))
    if record is None:
        record = ImportMapping(
            name=name, definition=text, created_by_id=user.id if user is not None else None
        )
        db.session.add(record)
    else:
        record.definition = text
    db.session.flush()
    return record


def set_mapping(
    job: ImportJob,
    definition: dict[str, Any],
    *,
    user: User | None,
    saved: ImportMapping | None = None,
) -> ImportJob:
    """Check `definition` against the job's columns and keep a copy; the job is then "mapped".

    `saved` is the saved mapping `definition` comes from, if any: the job is linked to it (its
    uses are counted on the saved-mappings page). A definition edited on the mapping page is the
    job's own, so mapping without `saved` clears an earlier link."""
    _require_import(user)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.MAPPED):
        raise ServiceError("This import has started; its mapping can no longer change.")
    mapping = parse_mapping(definition, job.column_names)
    job.mapping = json.dumps(mapping.as_json(), ensure_ascii=False)
    job.mapping_name = mapping.name
    job.mapping_id = saved.id if saved is not None else None
    rows = source_rows(job, mapping)
    job.total = len(rows)
    job.filtered_count = filtered_out(job, mapping)
    job.conflict_count, conflicts = id_conflicts(rows, mapping)
    job.conflicts = json.dumps(conflicts, ensure_ascii=False) if conflicts else None
    job.status = ImportStatus.MAPPED
    db.session.flush()
    return job


def job_mapping(job: ImportJob) -> Mapping:
    if job.mapping_dict is None:
        raise ServiceError("Choose a mapping first.")
    return parse_mapping(job.mapping_dict, job.column_names)


def column_values(job: ImportJob, columns: list[str], limit: int = 2_000) -> list[str]:
    """The first `limit` values of each of `columns` (for date-format detection)."""
    table = files.unpack(job.data)
    values: list[str] = []
    for column in columns:
        index = table.columns.index(column)
        values.extend(row[index] for row in table.rows[:limit] if index < len(row))
    return values


# --- checking rows -----------------------------------------------------------------------------


@dataclass
class Outcome:
    row: SourceRow
    values: dict[str, Any] | None = None
    reason: str | None = None
    duplicate: bool = False
    # Records to create on writing, kind (customer, process, category) → name.
    create: dict[str, str] = field(default_factory=dict)


def _times(status: ComplaintStatus, received: datetime, dates: dict[str, datetime], now: datetime):
    """first_response_at, resolved_at, closed_at for an imported complaint in `status`."""
    given_response = dates.get("first_response_at")
    given_resolved = dates.get("resolved_at")
    given_closed = dates.get("closed_at")
    first_response = resolved = closed = None
    # A time the file does not give, and cannot be told from another it gives, stays unknown
    # (None): the received time would make the response or resolution time read as zero.
    if status is ComplaintStatus.CLOSED:
        resolved = given_resolved or given_closed
        closed = given_closed or resolved
        first_response = given_response or resolved
    elif status is ComplaintStatus.RESOLVED:
        resolved = given_resolved
        first_response = given_response or resolved
    elif status is not ComplaintStatus.RECEIVED:
        first_response = given_response
    steps = [
        ("first response", first_response),
        ("resolution", resolved),
        ("closure", closed),
    ]
    previous_label, previous = "receipt", received
    for label, moment in steps:
        if moment is None:
            continue
        if moment > now:
            raise ServiceError(f"The {label} time {moment:%Y-%m-%d %H:%M} UTC is in the future.")
        if label != "first response" and moment < previous:
            raise ServiceError(
                f"The {label} time {moment:%Y-%m-%d %H:%M} is before the {previous_label} "
                f"({previous:%Y-%m-%d %H:%M})."
            )
        if label == "first response" and moment < received:
            raise ServiceError(
                f"The first response time {moment:%Y-%m-%d %H:%M} is before the receipt "
                f"({received:%Y-%m-%d %H:%M})."
            )
        if label != "first response":
            previous_label, previous = label, moment
    return first_response, resolved, closed


def _check(
    read: RowValues, mapping: Mapping, lookups: Lookups, now: datetime
) -> tuple[dict[str, Any], dict[str, str]]:
    """The complaint's column values for one read row, checked with the complaint rules."""
    text = read.text
    values: dict[str, Any] = {
        "title": checked_text(
            text.get("title"),
            "A title",
            "title",
            complaint_services.TITLE_MAX_LENGTH,
            required=True,
        ),
        "description": checked_text(
            text.get("description"),
            "The description",
            "description",
            complaint_services.DESCRIPTION_MAX_LENGTH,
            required=False,
        ),
        "product_or_service": checked_text(
            text.get("product_or_service"),
            "The product or service",
            "product_or_service",
            complaint_services.PRODUCT_MAX_LENGTH,
            required=False,
        ),
        "channel": checked_choice(Channel, text.get("channel"), "the channel", "channel"),
        "severity": checked_choice(Severity, text.get("severity"), "the severity", "severity"),
        "received_at": checked_not_in_future(
            read.dates.get("received_at", now), "The time received", "received_at", now
        ),
    }
    for name in FLAG_FIELDS:
        flag = text.get(name) or ""
        values[name] = {"yes": True, "no": False}.get(flag)
    values["public_response"] = (
        checked_text(
            text.get("public_response"),
            "The company's public response",
            "public_response",
            complaint_services.DESCRIPTION_MAX_LENGTH,
            required=False,
        )
        or None
    )
    values["region"] = (
        checked_text(
            text.get("region"),
            "The customer's region",
            "region",
            complaint_services.REGION_MAX_LENGTH,
            required=False,
        )
        or None
    )
    for name, label, limit in (
        ("tags", "The tags", TAGS_MAX_LENGTH),
        ("company_response", "The company's response", COMPANY_RESPONSE_MAX_LENGTH),
    ):
        values[name] = checked_text(text.get(name), label, name, limit, required=False) or None
    status = ComplaintStatus(text.get("status") or ComplaintStatus.RECEIVED)
    values["status"] = status
    (
        values["first_response_at"],
        values["resolved_at"],
        values["closed_at"],
    ) = _times(status, values["received_at"], read.dates, now)
    values.update(
        complaint_durations(
            values["received_at"], values["first_response_at"], values["resolved_at"]
        )
    )
    external_id = (text.get("external_id") or "").strip()
    if "external_id" in mapping.fields:
        if not external_id:
            raise ServiceError("The external id is empty; every row needs one for deduplication.")
        if len(external_id) > EXTERNAL_ID_MAX_LENGTH:
            raise ServiceError(
                f"The external id may have at most {EXTERNAL_ID_MAX_LENGTH} characters."
            )
        values["external_id"] = external_id
        values["source_system"] = mapping.source_system
    elif mapping.source_system:
        values["source_system"] = mapping.source_system
    create: dict[str, str] = {}
    for kind in ("customer", "process", "category"):
        name = (text.get(kind) or "").strip()
        if kind not in mapping.fields or not name:
            continue
        resolved = lookups.resolve(kind, name, mapping.fields[kind].if_missing)
        if resolved == "create":
            create[kind] = name
        elif resolved is not None:
            values[f"{kind}_id"] = resolved
    return values, create


def evaluate(
    rows: list[SourceRow], mapping: Mapping, *, seen: set[str] | None = None
) -> list[Outcome]:
    """Check `rows` without writing: each gets its values, a rejection reason or "duplicate".

    Duplicates are found first, by the row's external id alone, so a row already imported is
    counted as a duplicate even where its names (a process since renamed, a category not yet
    created) or other values would no longer pass the checks."""
    reader = RowReader(mapping)
    duplicates = duplicate_rows(rows, mapping, reader, seen if seen is not None else set())
    fresh = [row for row in rows if row.number not in duplicates]
    lookups = Lookups(mapping, fresh, reader)
    now = utcnow()
    outcomes: list[Outcome] = []
    for row in rows:
        if row.number in duplicates:
            outcomes.append(Outcome(row, duplicate=True))
            continue
        try:
            read = reader.read(row.number, row.values)
            values, create = _check(read, mapping, lookups, now)
        except (RowError, ServiceError) as error:
            outcomes.append(Outcome(row, reason=str(getattr(error, "message", error))))
            continue
        outcomes.append(Outcome(row, values=values, create=create))
    return outcomes


@dataclass(frozen=True)
class PreviewRow:
    number: int
    values: dict[str, Any] | None
    reason: str | None
    duplicate: bool
    external_id: str | None = None


def preview(job: ImportJob, limit: int = PREVIEW_ROWS) -> list[PreviewRow]:
    """The first `limit` rows as they would be imported, each with its check result."""
    mapping = job_mapping(job)
    rows = source_rows(job, mapping)[:limit]
    reader = RowReader(mapping)
    return [
        PreviewRow(
            o.row.number, o.values, o.reason, o.duplicate, external_id_of(o.row, mapping, reader)
        )
        for o in evaluate(rows, mapping)
    ]


def planned_creations(job: ImportJob) -> dict[str, list[str]]:
    """The customers, processes and categories the import would create (fields with
    `if_missing: create`), by kind: names the rows give that no record has yet. Rows already
    imported (duplicates) are left out: they create nothing."""
    mapping = job_mapping(job)
    rows = source_rows(job, mapping)
    duplicates = duplicate_rows(rows, mapping, RowReader(mapping), set())
    return _planned_creations(mapping, [r for r in rows if r.number not in duplicates])


# --- running -----------------------------------------------------------------------------------


def start_job(job: ImportJob, mode: ImportMode | str, *, user: User | None) -> ImportJob:
    """Start a mapped import in `mode` (all_or_nothing or skip_bad_rows)."""
    _require_import(user)
    if job.status is not ImportStatus.MAPPED:
        raise ServiceError("Only a mapped import that has not started can be started.")
    try:
        job.mode = ImportMode(mode)
    except ValueError:
        raise ServiceError("Choose all-or-nothing or skip bad rows.", field="mode") from None
    job.status = (
        ImportStatus.VALIDATING if job.mode is ImportMode.ALL_OR_NOTHING else ImportStatus.IMPORTING
    )
    job.position = 0
    db.session.flush()
    return job


def _reject(job: ImportJob, outcome: Outcome) -> None:
    db.session.add(
        ImportRejection(
            job_id=job.id,
            row_number=outcome.row.number,
            reason=outcome.reason or "",
            values=json.dumps(outcome.row.values, ensure_ascii=False),
        )
    )
    job.rejected_count += 1


def _finish(job: ImportJob, status: ImportStatus, message: str) -> None:
    job.status = status
    job.message = message
    job.finished_at = utcnow()


def _summary(job: ImportJob) -> str:
    text = (
        f"Imported {job.imported_count:,} complaints; {job.duplicate_count:,} duplicates skipped; "
        f"{job.rejected_count:,} {'row' if job.rejected_count == 1 else 'rows'} rejected."
    )
    if job.filtered_count:
        text += f" {job.filtered_count:,} left out by the row filter."
    if job.unknown_time_count:
        text += (
            f" {job.unknown_time_count:,} with a response or resolution time the file does not "
            "give: kept unknown, out of the duration KPIs."
        )
    if job.conflict_count:
        text += (
            f" {job.conflict_count:,} external "
            f"{'id is' if job.conflict_count == 1 else 'ids are'} on several rows that disagree."
        )
    return text


def _write(job: ImportJob, outcomes: list[Outcome], reporter_id: int | None) -> None:
    good = [o for o in outcomes if o.values is not None and not o.duplicate]
    wanted: dict[str, list[str]] = {}
    for outcome in good:
        for kind, name in outcome.create.items():
            wanted.setdefault(kind, []).append(name)
    created = create_records(wanted)
    by_year: dict[int, list[Outcome]] = {}
    for outcome in good:
        by_year.setdefault(outcome.values["received_at"].year, []).append(outcome)
    now = utcnow()
    complaints: list[dict[str, Any]] = []
    for year, group in sorted(by_year.items()):
        references = next_references(db.session, "CMP", year, len(group))
        for reference, outcome in zip(references, group, strict=True):
            values = {**_COMPLAINT_DEFAULTS, **outcome.values}
            for kind, name in outcome.create.items():
                values[f"{kind}_id"] = created[(kind, name_key(name))]
            values.update(
                reference=reference,
                reporter_id=reporter_id,
                created_at=now,
                updated_at=now,
                version=1,
            )
            complaints.append(values)
    if complaints:
        _insert_complaints(job, complaints)
    job.imported_count += len(complaints)
    job.unknown_time_count += sum(1 for values in complaints if _time_unknown(values))
    job.duplicate_count += sum(1 for o in outcomes if o.duplicate)


def _time_unknown(values: dict[str, Any]) -> bool:
    """Whether the complaint's status implies a time (first response, resolution) its file did
    not give, so it stays unknown and out of the duration KPIs (docs/metrics.md)."""
    status = values["status"]
    if status in (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED):
        return values.get("resolved_at") is None
    if status is not ComplaintStatus.RECEIVED:
        return values.get("first_response_at") is None
    return False


# What a new Complaint gets from its column defaults when the ORM inserts it: the bulk insert sets
# the same, so its rows and audit events are the ones the ORM would write.
_COMPLAINT_DEFAULTS: dict[str, Any] = {
    "description": "",
    "product_or_service": "",
    "status": ComplaintStatus.RECEIVED,
    "escalation_level": 0,
    "first_contact_resolution": None,  # not known from a file (docs/import.md)
    "csat_comment": "",
    "retention_status": RetentionStatus.UNKNOWN,
}


def _insert_complaints(job: ImportJob, rows: list[dict[str, Any]]) -> None:
    """Insert checked complaints in one statement and write their audit events: the same rows and
    `create` events (every non-empty column but `updated_at` and `version`) the ORM writes, at a
    fraction of the cost per row."""
    table = Complaint.__table__
    rows = [{column: row.get(column) for column in _COMPLAINT_COLUMNS} for row in rows]
    # A plain executemany, then the new ids by their (unique, just assigned) references: an
    # INSERT … RETURNING in parameter order would run row by row on SQLite.
    db.session.execute(insert(table), rows)
    references = [row["reference"] for row in rows]
    id_of: dict[str, int] = {}
    for start in range(0, len(references), 5_000):
        found = db.session.execute(
            select(table.c.reference, table.c.id).where(
                table.c.reference.in_(references[start : start + 5_000])
            )
        )
        id_of.update((reference, complaint_id) for reference, complaint_id in found)
    for reference, row in zip(references, rows, strict=True):
        row["id"] = id_of[reference]
    with audit_reason(f"Imported from {job.filename} (import {job.id})"):
        bulk_create_events(db.session.connection(), Complaint, rows)
    # The insert bypassed the ORM, so it counts itself into the dashboard's rollups.
    rollup.add_complaints(db.session.connection(), [row["id"] for row in rows])


_COMPLAINT_COLUMNS = [column.key for column in Complaint.__table__.columns if column.key != "id"]


def run_step(
    job: ImportJob, *, rows: list[SourceRow] | None = None, chunk: int | None = None
) -> ImportJob:
    """Process the next chunk of a running import and flush; the caller commits. Returns the job
    (finished when its status is completed or failed). `rows` may be passed by a caller that
    runs many steps, so the file is read once."""
    if not job.running:
        return job
    mapping = job_mapping(job)
    if rows is None:
        rows = source_rows(job, mapping)
    size = chunk or setting("IMPORT_CHUNK_ROWS", DEFAULT_CHUNK_ROWS)
    batch = rows[job.position : job.position + size]
    if job.status is ImportStatus.VALIDATING:
        for outcome in evaluate(batch, mapping, seen=set()):
            if outcome.reason is not None:
                _reject(job, outcome)
        job.position += len(batch)
        if job.position >= len(rows):
            if job.rejected_count:
                _finish(
                    job,
                    ImportStatus.FAILED,
                    f"{job.rejected_count:,} of {len(rows):,} rows failed the checks; nothing was "
                    "imported. Correct them, or import again and skip bad rows.",
                )
            else:
                job.status = ImportStatus.IMPORTING
                job.position = 0
        db.session.flush()
        return job
    # Earlier chunks are in the database, so the duplicate check finds their ids there.
    outcomes = evaluate(batch, mapping, seen=set())
    bad = [o for o in outcomes if o.reason is not None]
    if bad and job.mode is ImportMode.ALL_OR_NOTHING:
        # The checks passed a moment ago; something changed since (a category deactivated).
        for outcome in bad:
            _reject(job, outcome)
        _finish(
            job,
            ImportStatus.FAILED,
            f"Stopped at row {bad[0].row.number}: {bad[0].reason} {job.imported_count:,} "
            "complaints from earlier chunks were imported before the stop.",
        )
        db.session.flush()
        return job
    for outcome in bad:
        _reject(job, outcome)
    _write(job, outcomes, job.created_by_id)
    job.position += len(batch)
    if job.position >= len(rows):
        _finish(job, ImportStatus.COMPLETED, _summary(job))
    db.session.flush()
    return job


def run_to_end(job: ImportJob, *, progress: Callable[[ImportJob], None] | None = None) -> ImportJob:
    """Run every step of a started import (the CLI); reads the file once."""
    mapping = job_mapping(job)
    rows = source_rows(job, mapping)
    while job.running:
        run_step(job, rows=rows)
        if progress is not None:
            progress(job)
    return job


def get_job(job_id: int, *, lock: bool = False) -> ImportJob | None:
    """The import job; with `lock`, its row is locked for this transaction (PostgreSQL), so two
    pages stepping the same import take turns (SQLite transactions are serialised anyway)."""
    if lock:
        return db.session.get(ImportJob, job_id, with_for_update=True, populate_existing=True)
    return db.session.get(ImportJob, job_id)


def recent_jobs(limit: int = 10) -> list[ImportJob]:
    """The latest imports, newest first, with who started them."""
    return list(
        db.session.scalars(
            select(ImportJob)
            .options(selectinload(ImportJob.created_by))
            .order_by(ImportJob.id.desc())
            .limit(limit)
        )
    )


def rejections(job: ImportJob) -> list[ImportRejection]:
    return list(
        db.session.scalars(
            select(ImportRejection)
            .where(ImportRejection.job_id == job.id)
            .order_by(ImportRejection.row_number, ImportRejection.id)
        )
    )


def rejections_csv(job: ImportJob) -> str:
    """Every rejected row: its line in the file, the reason, then the row's own columns."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = job.column_names
    writer.writerow(["Row", "Reason", *columns])
    for rejection in rejections(job):
        values = rejection.values_dict
        writer.writerow(
            [rejection.row_number, rejection.reason, *(values.get(c, "") for c in columns)]
        )
    return buffer.getvalue()


def column_samples(job: ImportJob, count: int = 3) -> dict[str, list[str]]:
    """The first few non-empty values of every column (shown next to the mapping's selects)."""
    table = files.unpack(job.data)
    samples: dict[str, list[str]] = {column: [] for column in table.columns}
    for row in table.rows[:200]:
        for column, value in zip(table.columns, row, strict=False):
            if value.strip() and len(samples[column]) < count and value not in samples[column]:
                samples[column].append(value[:60])
    return samples
