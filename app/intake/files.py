"""Reading uploaded files: CSV (any common delimiter and encoding) and XLSX (openpyxl, read-only
mode, so large sheets stream), both turned into one shape: a header and rows of text.

The import keeps that shape as compressed UTF-8 CSV (`pack`), so every later step (preview,
each import chunk, the CLI) reads the same text whatever the uploaded format was.
"""

from __future__ import annotations

import csv
import io
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import PurePath

from app.core.errors import ServiceError

XLSX_MAGIC = b"PK\x03\x04"
DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]


def _cell_text(value: object) -> str:
    """An XLSX cell as text: dates as ISO 8601 (which every import accepts), whole numbers
    without a trailing .0."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return datetime.combine(value, time()).isoformat()
    if isinstance(value, time):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value).strip()


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return content.decode("latin-1")


def _check_header(columns: list[str]) -> list[str]:
    columns = [column.strip() for column in columns]
    if not any(columns):
        raise ServiceError("The file has no header row: its first row must name the columns.")
    named = [column or f"Column {index + 1}" for index, column in enumerate(columns)]
    seen: set[str] = set()
    for column in named:
        if column in seen:
            raise ServiceError(f"The column name “{column}” appears twice in the header row.")
        seen.add(column)
    return named


def _limited(rows: Iterable[list[str]], max_rows: int) -> list[list[str]]:
    kept = []
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue  # blank lines carry nothing
        if len(kept) >= max_rows:
            raise ServiceError(
                f"The file has more than {max_rows:,} rows; the limit is {max_rows:,} rows per "
                "import (IMPORT_MAX_ROWS). Split it into smaller files."
            )
        kept.append(row)
    return kept


def read_csv(content: bytes, max_rows: int) -> Table:
    text = _decode(content)
    # Only the delimiter is sniffed: the sniffer guesses quoting wrongly on fields with doubled
    # quotes ("the ""package"" I bought"), which standard CSV (RFC 4180) quoting reads right.
    try:
        delimiter = csv.Sniffer().sniff(text[:8192], delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ServiceError("The file is empty.") from None
    except csv.Error as error:
        raise ServiceError(f"The file is not readable as CSV: {error}.") from None
    columns = _check_header(header)
    try:
        rows = _limited(reader, max_rows)
    except csv.Error as error:
        raise ServiceError(
            f"The file is not readable as CSV (line {reader.line_num}): {error}."
        ) from None
    return Table(columns, rows)


def read_xlsx(content: bytes, max_rows: int) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise ServiceError("The file is not a readable XLSX workbook.") from None
    try:
        sheet = workbook.worksheets[0]
        values: Iterator[tuple[object, ...]] = sheet.iter_rows(values_only=True)
        header = next(values, None)
        if header is None:
            raise ServiceError("The workbook's first sheet is empty.")
        columns = _check_header([_cell_text(cell) for cell in header])
        rows = _limited(([_cell_text(cell) for cell in row] for row in values), max_rows)
    finally:
        workbook.close()
    return Table(columns, rows)


def read_table(filename: str, content: bytes, *, max_rows: int) -> Table:
    """The file as a header and text rows; XLSX is recognised by its content, not its name."""
    suffix = PurePath(filename or "").suffix.lower()
    if suffix in {".xls", ".xlsm", ".ods"}:
        raise ServiceError("Upload a CSV or an XLSX file (save older Excel files as XLSX).")
    if content.startswith(XLSX_MAGIC):
        return read_xlsx(content, max_rows)
    if suffix == ".xlsx":
        raise ServiceError("The file is not a readable XLSX workbook.")
    return read_csv(content, max_rows)


def pack(table: Table) -> bytes:
    """The table as zlib-compressed UTF-8 CSV (header first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    return zlib.compress(buffer.getvalue().encode("utf-8"), 6)


def unpack(data: bytes) -> Table:
    reader = csv.reader(io.StringIO(zlib.decompress(data).decode("utf-8"), newline=""))
    columns = next(reader)
    return Table(columns, list(reader))
