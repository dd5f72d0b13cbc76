"""FMEA worksheets as XLSX, in the usual PFMEA column layout: header block above, one line per
failure mode with S, cause, prevention, O, detection controls, D, RPN, AP, the recommended action
and the results after action.

Import reads the analyst's columns (step, failure mode, effect, S, cause, controls, O, D, action,
categories); the computed and CAPA columns of an export are ignored on the way back in. A file
with any bad row is refused whole, with one message per row, and nothing is added.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy import select

from app.accounts.models import User
from app.core.errors import ServiceError
from app.extensions import db
from app.fmea import services
from app.fmea.models import Fmea, FmeaRow
from app.organisation.models import Category

MAX_ROWS = 2000
MAX_BYTES = 5 * 1024 * 1024
HEADER_SEARCH_ROWS = 30
SHEET_TITLE = "PFMEA"

# (column heading, row attribute or None for computed/CAPA columns), in the sheet's order.
COLUMNS: tuple[tuple[str, str | None], ...] = (
    ("Process step / function", "process_step"),
    ("Failure mode", "failure_mode"),
    ("Failure effect", "effect"),
    ("Severity (S)", "severity"),
    ("Failure cause", "cause"),
    ("Current prevention controls", "prevention_controls"),
    ("Occurrence (O)", "occurrence"),
    ("Current detection controls", "detection_controls"),
    ("Detection (D)", "detection"),
    ("RPN", None),
    ("AP", None),
    ("Recommended action", "recommended_action"),
    ("Failure categories", "categories"),
    ("Preventive CAPA", None),
    ("Revised S", None),
    ("Revised O", None),
    ("Revised D", None),
    ("Revised RPN", None),
    ("Revised AP", None),
)
# Other headings people use for the same columns (lower case).
ALIASES = {
    "process step": "process_step",
    "function": "process_step",
    "process step / function": "process_step",
    "failure mode": "failure_mode",
    "failure mode (fm)": "failure_mode",
    "effect": "effect",
    "failure effect": "effect",
    "failure effect (fe)": "effect",
    "severity (s)": "severity",
    "severity": "severity",
    "s": "severity",
    "sev": "severity",
    "cause": "cause",
    "failure cause": "cause",
    "failure cause (fc)": "cause",
    "current prevention controls": "prevention_controls",
    "prevention controls": "prevention_controls",
    "prevention controls (pc)": "prevention_controls",
    "occurrence (o)": "occurrence",
    "occurrence": "occurrence",
    "o": "occurrence",
    "occ": "occurrence",
    "current detection controls": "detection_controls",
    "detection controls": "detection_controls",
    "detection controls (dc)": "detection_controls",
    "detection (d)": "detection",
    "detection": "detection",
    "d": "detection",
    "det": "detection",
    "recommended action": "recommended_action",
    "recommended actions": "recommended_action",
    "failure categories": "categories",
    "categories": "categories",
    "category": "categories",
}
REQUIRED = ("failure_mode", "severity", "occurrence", "detection")
CATEGORY_SEPARATOR = ";"


class ImportRefused(ServiceError):
    """The file cannot be imported; `problems` says why, one line per bad row."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0], field="file")
        self.problems = problems


def _text_cell(cell: Any, value: Any) -> None:
    cell.value = value
    if isinstance(value, str):
        # Stored as text even when it starts with "=", "+", "-" or "@": a spreadsheet must never
        # run an analyst's words as a formula.
        cell.data_type = "s"


def export_workbook(fmea: Fmea) -> bytes:
    """The FMEA's working copy as an XLSX file."""
    rows = services.rows_of(fmea)
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_TITLE
    header = [
        ("Process FMEA", fmea.reference),
        ("Title", fmea.title),
        ("Process", fmea.process.name + (f" — {fmea.process_step}" if fmea.process_step else "")),
        ("Team", fmea.team),
        ("Scope", fmea.scope),
        ("Revision", fmea.revision),
        ("Prepared on", fmea.prepared_on.isoformat()),
    ]
    for index, (label, value) in enumerate(header, start=1):
        sheet.cell(row=index, column=1, value=label).font = Font(bold=True)
        _text_cell(sheet.cell(row=index, column=2), value)
    heading_row = len(header) + 2
    fill = PatternFill("solid", fgColor="DDE4EE")
    for column, (heading, _) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=heading_row, column=column, value=heading)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for offset, row in enumerate(rows, start=1):
        values = _row_values(row)
        for column, value in enumerate(values, start=1):
            _text_cell(sheet.cell(row=heading_row + offset, column=column), value)
    widths = (22, 28, 28, 8, 28, 28, 8, 28, 8)
    for column, width in zip("ABCDEFGHI", widths, strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = sheet.cell(row=heading_row + 1, column=3)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _row_values(row: FmeaRow) -> list[Any]:
    return [
        row.process_step,
        row.failure_mode,
        row.effect,
        row.severity,
        row.cause,
        row.prevention_controls,
        row.occurrence,
        row.detection_controls,
        row.detection,
        row.rpn,
        row.ap.value,
        row.recommended_action,
        f"{CATEGORY_SEPARATOR} ".join(category.name for category in row.categories),
        ", ".join(action.capa.reference for action in row.actions),
        row.revised_severity,
        row.revised_occurrence,
        row.revised_detection,
        row.revised_rpn,
        row.revised_ap.value if row.revised_ap else None,
    ]


@dataclass
class ParsedRow:
    line: int
    values: services.RowValues
    categories: list[Category] = field(default_factory=list)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_workbook(data: bytes) -> list[ParsedRow]:
    """Read and check every row of the file; ImportRefused lists every bad row."""
    if not data:
        raise ImportRefused(["Choose an XLSX file to import."])
    if len(data) > MAX_BYTES:
        raise ImportRefused([f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB."])
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise ImportRefused(
            ["The file is not an XLSX workbook (save it from your spreadsheet as .xlsx)."]
        ) from None
    try:
        sheet = book.active
        if sheet is None:
            raise ImportRefused(["The workbook has no worksheet."])
        lines = list(sheet.iter_rows(values_only=True))
    finally:
        book.close()
    heading_index, columns = _find_headings(lines)
    by_name = {
        category.name.casefold(): category
        for category in db.session.scalars(select(Category).where(Category.active.is_(True)))
    }
    parsed: list[ParsedRow] = []
    problems: list[str] = []
    for index in range(heading_index + 1, len(lines)):
        line = lines[index]
        number = index + 1  # as the spreadsheet numbers its rows
        cells = {name: line[col] if col < len(line) else None for name, col in columns.items()}
        if all(_cell_text(value).strip() == "" for value in cells.values()):
            continue
        if len(parsed) + len(problems) >= MAX_ROWS:
            raise ImportRefused([f"The file has more than {MAX_ROWS} rows; split it."])
        try:
            values = services.checked_row_values(
                {
                    name: cells.get(name)
                    if name in services.RATING_LABELS
                    else _cell_text(cells.get(name))
                    for name in (*services.RATING_LABELS, *(f[0] for f in services.ROW_TEXT_FIELDS))
                }
            )
        except ServiceError as error:
            found = cells.get(error.field or "")
            rating = error.field in services.RATING_LABELS
            detail = f" (found “{_cell_text(found)}”)" if rating else ""
            problems.append(f"Row {number}: {error.message.rstrip('.')}{detail}.")
            continue
        categories = []
        unknown = []
        for name in _cell_text(cells.get("categories")).split(CATEGORY_SEPARATOR):
            name = name.strip()
            if not name:
                continue
            category = by_name.get(name.casefold())
            if category is None:
                unknown.append(name)
            elif category not in categories:
                categories.append(category)
        if unknown:
            names = ", ".join(f"“{name}”" for name in unknown)
            problems.append(f"Row {number}: no active failure category is named {names}.")
            continue
        parsed.append(ParsedRow(number, values, categories))
    if problems:
        raise ImportRefused(problems)
    if not parsed:
        raise ImportRefused(["The worksheet has no rows below its headings."])
    return parsed


def _find_headings(lines: list[tuple[Any, ...]]) -> tuple[int, dict[str, int]]:
    for index, line in enumerate(lines[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for col, value in enumerate(line):
            name = ALIASES.get(_cell_text(value).strip().casefold())
            if name and name not in columns:
                columns[name] = col
        if "failure_mode" in columns:
            missing = [name for name in REQUIRED if name not in columns]
            if missing:
                headings = {attr: heading for heading, attr in COLUMNS if attr}
                names = ", ".join(f"“{headings[name]}”" for name in missing)
                raise ImportRefused([f"Row {index + 1}: the headings lack the column {names}."])
            return index, columns
    raise ImportRefused(
        [
            "No heading row found: the sheet needs a row of column headings with at least "
            "“Failure mode”, “Severity (S)”, “Occurrence (O)” and “Detection (D)”."
        ]
    )


def import_rows(fmea: Fmea, data: bytes, *, user: User | None) -> list[FmeaRow]:
    """Add the file's rows to the end of the worksheet, all of them or (on any bad row) none."""
    if not services.may_edit(user):
        from app.core.errors import NotPermitted

        raise NotPermitted("Only a quality lead may change an FMEA.")
    parsed = parse_workbook(data)
    position = services._next_position(fmea)
    return [
        services._insert_row(fmea, item.values, item.categories, position + offset)
        for offset, item in enumerate(parsed)
    ]
