"""What the recorded failures say about an FMEA: complaints and nonconformities per process ×
failure category over the last twelve months, set beside the analyst's occurrence rating, and the
nonconformities whose process and category no FMEA row covers.

The occurrence flag (docs/fmea.md): a row is flagged when it rates occurrence low (1–3, the two
lowest bands of the AIAG-VDA table) and more failures of its process × categories were recorded
in the window than that rating allows — none for 1, one for 2, three for 3. Ratings of 4 and above
are never flagged: they already expect failures to recur.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import selectinload

from app.complaints.models import Complaint
from app.core.db import utcnow
from app.extensions import db
from app.fmea.models import Fmea, FmeaRow, fmea_row_category
from app.nonconformities.models import Nonconformity, NonconformityStatus

WINDOW_DAYS = 365
# The most failures a year each low occurrence rating allows before the data contradicts it.
OCCURRENCE_ALLOWANCE = {1: 0, 2: 1, 3: 3}
UNMATCHED_SHOWN = 50


@dataclass(frozen=True)
class Observed:
    complaints: int
    nonconformities: int

    @property
    def total(self) -> int:
        return self.complaints + self.nonconformities


def window_start(now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=WINDOW_DAYS)


def occurrence_contradicted(occurrence: int, observed: int) -> bool:
    """Whether `observed` failures in the window contradict an occurrence rating (see above)."""
    allowance = OCCURRENCE_ALLOWANCE.get(occurrence)
    return allowance is not None and observed > allowance


def counts_by_category(
    process_id: int, category_ids: Iterable[int], since: datetime
) -> dict[int, Observed]:
    """Complaints and (not cancelled) nonconformities of the process per category since `since`:
    two grouped queries, whatever the number of categories."""
    ids = sorted(set(category_ids))
    if not ids:
        return {}
    complaints = dict(
        db.session.execute(
            select(Complaint.category_id, func.count())
            .where(
                Complaint.process_id == process_id,
                Complaint.category_id.in_(ids),
                Complaint.received_at >= since,
            )
            .group_by(Complaint.category_id)
        ).all()
    )
    nonconformities = dict(
        db.session.execute(
            select(Nonconformity.category_id, func.count())
            .where(
                Nonconformity.process_id == process_id,
                Nonconformity.category_id.in_(ids),
                Nonconformity.detected_at >= since,
                Nonconformity.status != NonconformityStatus.CANCELLED,
            )
            .group_by(Nonconformity.category_id)
        ).all()
    )
    return {
        category_id: Observed(complaints.get(category_id, 0), nonconformities.get(category_id, 0))
        for category_id in ids
    }


@dataclass(frozen=True)
class RowEvidence:
    observed: Observed | None  # None: the row names no failure category
    contradicts: bool


def evidence_for_rows(
    fmea: Fmea, rows: Sequence[FmeaRow], now: datetime | None = None
) -> dict[int, RowEvidence]:
    """For each row: the failures observed for the FMEA's process × the row's categories in the
    last twelve months, and whether they contradict its occurrence rating."""
    counts = counts_by_category(
        fmea.process_id, (c.id for row in rows for c in row.categories), window_start(now)
    )
    evidence = {}
    for row in rows:
        if not row.categories:
            evidence[row.id] = RowEvidence(None, False)
            continue
        observed = Observed(
            sum(counts[c.id].complaints for c in row.categories),
            sum(counts[c.id].nonconformities for c in row.categories),
        )
        evidence[row.id] = RowEvidence(
            observed, occurrence_contradicted(row.occurrence, observed.total)
        )
    return evidence


@dataclass(frozen=True)
class Unmatched:
    nonconformities: list[Nonconformity]
    total: int


def unmatched_nonconformities(
    process_id: int | None = None, now: datetime | None = None, limit: int = UNMATCHED_SHOWN
) -> Unmatched:
    """ "Failure mode not in the FMEA": nonconformities of the last twelve months (not cancelled)
    with a process and a category that no FMEA row of an FMEA for that process names. Newest
    first, at most `limit` of them, with the total."""
    covered = exists().where(
        FmeaRow.id == fmea_row_category.c.row_id,
        Fmea.id == FmeaRow.fmea_id,
        Fmea.process_id == Nonconformity.process_id,
        fmea_row_category.c.category_id == Nonconformity.category_id,
    )
    condition = and_(
        Nonconformity.detected_at >= window_start(now),
        Nonconformity.process_id.is_not(None),
        Nonconformity.category_id.is_not(None),
        Nonconformity.status != NonconformityStatus.CANCELLED,
        ~covered,
    )
    if process_id is not None:
        condition = and_(condition, Nonconformity.process_id == process_id)
    total = db.session.scalar(select(func.count()).select_from(Nonconformity).where(condition))
    shown = list(
        db.session.scalars(
            select(Nonconformity)
            .where(condition)
            .options(selectinload(Nonconformity.process), selectinload(Nonconformity.category))
            .order_by(Nonconformity.detected_at.desc(), Nonconformity.id.desc())
            .limit(limit)
        )
    )
    return Unmatched(shown, total or 0)
