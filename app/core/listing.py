"""What every record list shares: whitelisted sorting and CSV export of the filtered rows."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from flask import Response, stream_with_context
from sqlalchemy import Select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement


def apply_sort(
    statement: Select[Any],
    sort: str | None,
    columns: Mapping[str, ColumnElement[Any]],
    default: str,
    tie_breaker: ColumnElement[Any],
) -> tuple[Select[Any], str]:
    """Order `statement` by `sort` ("received_at" or "-received_at"), falling back to `default`
    for anything not in `columns` (so a URL can never sort by an arbitrary column).
    Returns the statement and the sort key actually used, for the page to show."""
    key = sort if sort and sort.lstrip("-") in columns else default
    column = columns[key.lstrip("-")]
    ordered = column.desc() if key.startswith("-") else column.asc()
    tie = tie_breaker.desc() if key.startswith("-") else tie_breaker.asc()
    return statement.order_by(ordered, tie), key


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain number, signed or not ("-0.1250", "+3", "1e-05"): a spreadsheet reads it as a number,
# never as a formula, so it is written as it is.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def csv_safe(value: Any) -> Any:
    """A CSV cell that spreadsheet programs cannot run: text starting with = + - @ (or a tab or
    carriage return) gets an apostrophe in front; numbers, and text that is a plain number
    (a negative change, say), are left as they are; None is empty."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return value if _PLAIN_NUMBER.fullmatch(value) else "'" + value
    return value


def csv_lines(
    header: Sequence[str], rows: Iterable[Any], row_values: Callable[[Any], Sequence[Any]]
) -> Iterator[str]:
    """The CSV text of `rows`, a line at a time: a BOM and the header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield "\ufeff" + buffer.getvalue()  # BOM: spreadsheet programs then read UTF-8 right
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([csv_safe(value) for value in row_values(row)])
        yield buffer.getvalue()


def csv_response(
    filename: str,
    header: Sequence[str],
    rows: Iterable[Any],
    row_values: Callable[[Any], Sequence[Any]],
) -> Response:
    """Stream rows as a CSV download, one chunk per row, so memory stays flat for big exports."""
    response = Response(
        stream_with_context(csv_lines(header, rows, row_values)), mimetype="text/csv"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def batched_rows(session: Session, statement: Select[Any], batch_size: int = 2000) -> Iterator[Any]:
    """Yield the rows of `statement` a batch at a time, each batch its own query.

    Safe to consume while a response streams after the request's commit (a single server-side
    cursor would not survive it), and memory stays at one batch. Give `statement` a total order
    (a unique tie-breaker), or rows may repeat or go missing between batches."""
    offset = 0
    while True:
        batch = list(session.scalars(statement.limit(batch_size).offset(offset)))
        yield from batch
        if len(batch) < batch_size:
            return
        offset += batch_size
