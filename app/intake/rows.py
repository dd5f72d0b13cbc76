"""The rows of an import's file as a mapping sees them: grouped (event logs), filtered (the
mapping's row filter), with their external ids, the ids already in Loop (duplicates) and the ids
several rows give with different values (conflicts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.complaints.models import Complaint
from app.extensions import db
from app.intake import files
from app.intake.mapping import Mapping, RowError, RowReader, parse_datetime
from app.intake.models import ImportJob

EXTERNAL_ID_MAX_LENGTH = 120


@dataclass(frozen=True)
class SourceRow:
    number: int  # line in the file, the header being line 1
    values: dict[str, str]


def source_rows(job: ImportJob, mapping: Mapping) -> list[SourceRow]:
    """The job's rows as the mapping sees them: one per file row, or, with `group_by`, one per
    group (an incident in an event log) taking the group's latest row; rows the mapping's row
    filter leaves out (`filter`, judged on that row) are not among them."""
    return [row for row in _all_source_rows(job, mapping) if mapping.keeps(row.values)]


def filtered_out(job: ImportJob, mapping: Mapping) -> int:
    """How many rows (groups, for an event log) the mapping's row filter leaves out."""
    if not mapping.filters:
        return 0
    return sum(1 for row in _all_source_rows(job, mapping) if not mapping.keeps(row.values))


def _all_source_rows(job: ImportJob, mapping: Mapping) -> list[SourceRow]:
    table = files.unpack(job.data)
    columns = table.columns
    width = len(columns)

    def as_dict(row: list[str]) -> dict[str, str]:
        if len(row) < width:
            row = row + [""] * (width - len(row))
        return dict(zip(columns, row, strict=False))

    if mapping.group_by is None:
        return [SourceRow(index + 2, as_dict(row)) for index, row in enumerate(table.rows)]
    key_index = columns.index(mapping.group_by.column)
    order_index = columns.index(mapping.group_by.latest_by) if mapping.group_by.latest_by else None
    latest: dict[str, tuple[tuple[datetime | None, int], list[str]]] = {}
    for index, row in enumerate(table.rows):
        key = row[key_index].strip() if key_index < len(row) else ""
        key = key or f"\x00row{index}"
        moment = None
        if order_index is not None and order_index < len(row):
            try:
                moment = parse_datetime(row[order_index], mapping.date_formats, None)
            except RowError:
                moment = None
        rank = (moment, index)
        held = latest.get(key)
        if held is None or _later(rank, held[0]):
            latest[key] = (rank, row)
    grouped = sorted(latest.values(), key=lambda item: item[0][1])
    return [SourceRow(rank[1] + 2, as_dict(row)) for rank, row in grouped]


# How many disagreeing duplicate ids a job keeps to show (all are counted).
CONFLICTS_SHOWN = 100


def id_conflicts(rows: list[SourceRow], mapping: Mapping) -> tuple[int, list[dict[str, Any]]]:
    """External ids that several rows of the file give, with rows that disagree in a column the
    mapping reads: how many, and the first CONFLICTS_SHOWN as {"external_id", "rows" (their lines),
    "columns" (where they differ)}. Only the first of those rows is imported; the others are
    counted as duplicates, so a disagreement is worth a look in the source system."""
    spec_columns = sorted(set().union(*(spec.used_columns() for spec in mapping.fields.values())))
    reader = RowReader(mapping)
    by_id: dict[str, list[SourceRow]] = {}
    for row in rows:
        external_id = external_id_of(row, mapping, reader)
        if external_id:
            by_id.setdefault(external_id, []).append(row)
    count, shown = 0, []
    for external_id, group in by_id.items():
        if len(group) < 2:
            continue
        cells = [reader.clean(row.values) for row in group]
        differing = [
            column
            for column in spec_columns
            if len({(values.get(column) or "").strip() for values in cells}) > 1
        ]
        if not differing:
            continue
        count += 1
        if len(shown) < CONFLICTS_SHOWN:
            shown.append(
                {
                    "external_id": external_id,
                    "rows": [row.number for row in group],
                    "columns": differing,
                }
            )
    return count, shown


def _later(rank: tuple[datetime | None, int], held: tuple[datetime | None, int]) -> bool:
    if rank[0] is not None and held[0] is not None and rank[0] != held[0]:
        return rank[0] > held[0]
    return rank[1] > held[1]  # no comparable time: the later row in the file wins


def external_id_of(row: SourceRow, mapping: Mapping, reader: RowReader) -> str | None:
    """The row's external id as the mapping reads it, or None where it is empty or invalid (the
    checks then reject the row)."""
    spec = mapping.fields.get("external_id")
    if spec is None or not mapping.source_system:
        return None
    value = reader.raw(spec, reader.clean(row.values)).strip()
    pattern = reader.patterns.get("external_id")
    if not value or len(value) > EXTERNAL_ID_MAX_LENGTH:
        return None
    if pattern is not None and not pattern.fullmatch(value):
        return None
    return value


def duplicate_rows(
    rows: list[SourceRow], mapping: Mapping, reader: RowReader, seen: set[str]
) -> set[int]:
    """The line numbers of rows whose (source system, external id) is already in Loop or came
    earlier (in `seen`, which this extends)."""
    ids = {row.number: external_id_of(row, mapping, reader) for row in rows}
    unique_ids = sorted({value for value in ids.values() if value})
    if not unique_ids:
        return set()
    existing: set[str] = set()
    for start in range(0, len(unique_ids), 900):
        existing.update(
            db.session.scalars(
                select(Complaint.external_id).where(
                    Complaint.source_system == mapping.source_system,
                    Complaint.external_id.in_(unique_ids[start : start + 900]),
                )
            )
        )
    duplicates: set[int] = set()
    for row in rows:
        external_id = ids[row.number]
        if not external_id:
            continue
        if external_id in existing or external_id in seen:
            duplicates.add(row.number)
        seen.add(external_id)
    return duplicates
