"""CSV downloads of lists: small ones stream from the request, big ones become background tasks.

A list registers how it builds its export (`register_csv_export`): a function that reads the
list's filters from `request.args`, records the export in the audit trail and returns the rows.
The download view calls `csv_download`, which counts the rows first: up to `CSV_SYNC_MAX_ROWS`
the CSV streams at once; beyond, a `csv-export` task builds the same file on a scheduler (the task
runs the same function under a request made from the same query string).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from flask_login import current_user
from werkzeug.wrappers import Response

from app.core.listing import csv_lines, csv_response
from app.tasks import services
from app.tasks.services import TaskContext, TaskKind, TaskResult


@dataclass(frozen=True)
class CsvExport:
    filename: str
    header: Sequence[str]
    rows: Iterable[Any]
    row_values: Callable[[Any], Sequence[Any]]


CsvBuilder = Callable[[], CsvExport]
_EXPORTS: dict[str, tuple[str, CsvBuilder]] = {}


def register_csv_export(name: str, title: str, build: CsvBuilder) -> None:
    _EXPORTS[name] = (title, build)


def csv_download(name: str, rows: int) -> Response:
    """The list's CSV: streamed now when it has at most CSV_SYNC_MAX_ROWS `rows`, otherwise a
    background task (the response sends the user to its page)."""
    title, build = _EXPORTS[name]
    if rows <= int(current_app.config["CSV_SYNC_MAX_ROWS"]):
        export = build()
        return csv_response(export.filename, export.header, export.rows, export.row_values)
    from app.tasks.views import redirect_to

    task = services.enqueue(
        "csv-export",
        {
            "list": name,
            "rows": rows,
            "path": request.path,
            "args": request.args.to_dict(flat=False),
        },
        current_user,
        title=f"{title} ({rows:,} rows, CSV)",
    )
    return redirect_to(task)


def _counted(
    rows: Iterable[Any], context: TaskContext, total: int, written: list[int]
) -> Iterator[Any]:
    for done, row in enumerate(rows, start=1):
        written[0] = done
        if done % 500 == 0:
            context.progress(done, total, "Writing rows")
        yield row


def run_csv_export(context: TaskContext) -> TaskResult:
    _title, build = _EXPORTS[context.params["list"]]
    total = int(context.params.get("rows") or 0) or None
    context.progress(0, total, "Writing rows")
    export = build()
    written = [0]
    rows = _counted(export.rows, context, total or 0, written)
    content = "".join(csv_lines(export.header, rows, export.row_values)).encode("utf-8")
    return TaskResult(
        message=f"The export is ready: {written[0]:,} rows.",
        content=content,
        filename=export.filename,
        mimetype="text/csv",
    )


services.register_task_kind(TaskKind("csv-export", "CSV export", run_csv_export))
