"""The nonconformity register: the nonconformity list, filtered and sorted exactly as on its page
(the same `NonconformityFilters` and `nonconformity_list_query`), as a landscape table whose header
repeats on every page. Built for thousands of rows: the rows are read in batches, the table has a
fixed layout, and a long register is rendered in page-sized parts in parallel and joined
(`Report.parts_of`, reports.rendering)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from app.core.db import utcnow
from app.core.listing import batched_rows
from app.extensions import db
from app.nonconformities import services as nc_services
from app.nonconformities.forms import SORT_CHOICES
from app.nonconformities.models import Nonconformity
from reports.base import Report, report_data, when


def _row(nc: Nonconformity, now: datetime) -> dict[str, Any]:
    return {
        "reference": nc.reference,
        "title": nc.title,
        "status": nc.status.label,
        "overdue": nc_services.is_overdue(nc, now),
        "source": nc.source.label,
        "process": nc.process.name if nc.process else None,
        "category": nc.category.name if nc.category else None,
        "owner": nc.owner.full_name if nc.owner else None,
        "detected_at": when(nc.detected_at),
        "severity": nc.severity,
        "occurrence": nc.occurrence,
        "detection": nc.detection,
        "rpn": nc.rpn,
        "closed_at": when(nc.closed_at),
    }


def gather_nonconformity_register(
    filters: nc_services.NonconformityFilters,
    filter_labels: list[tuple[str, str]],
    now: datetime | None = None,
) -> Report:
    """The register of the nonconformities `filters` select, in the list's order.

    `filter_labels` are the filters as the user chose them, in words ("Status: Open")."""
    now = now or utcnow()
    statement, sort = nc_services.nonconformity_list_query(filters, now=now)
    rows = [_row(nc, now) for nc in batched_rows(db.session, statement)]
    by_status = Counter(row["status"] for row in rows)
    data = report_data(
        filter_labels,
        sort=sort,
        sort_label=dict(SORT_CHOICES).get(sort, sort).lower(),
        as_of=when(now),
        count=len(rows),
        overdue=sum(1 for row in rows if row["overdue"]),
        by_status=dict(sorted(by_status.items())),
        rows=rows,
    )
    return Report(
        kind="nonconformity_register",
        title="Nonconformity register",
        template="nonconformity_register.html",
        data=data,
        filters=filter_labels,
        record_type="nonconformity",
        record_id=None,
        filename_stem="nonconformity-register",
        landscape=True,
        parts_of="rows",
        subject=f"Nonconformity register: {len(rows)} nonconformities",
    )
