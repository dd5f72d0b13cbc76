"""The KPIs, computed by the database: each function is a few aggregate queries over one scope.

Every KPI is defined once, in `docs/metrics.md`; the functions here follow those definitions and
say which they compute. A scope is a period (start inclusive, end exclusive, UTC) plus optional
site, process and channel filters. Complaint KPIs take the complaints *received* in the period;
the other records use the date named in their definition. The channel filter applies only to
complaint figures (nonconformities, root causes and CAPAs have no channel).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    case,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.sql.expression import ColumnElement, Select

from app.capa.models import (
    OPEN_CAPA_STATUSES,
    Capa,
    CheckResult,
    EffectivenessCheck,
    capa_nonconformity,
)
from app.capa.services import overdue_clause
from app.complaints.models import Complaint, RecoveryAction, RetentionStatus
from app.core.db import UTCDateTime, utcnow
from app.extensions import db
from app.metrics import rollup
from app.metrics.rollup import not_recovered, recovered, resolved
from app.metrics.sql import days_between, utc_date, utc_day
from app.nonconformities.models import Nonconformity
from app.organisation.models import Process
from app.rca.models import RootCause, RootCauseAnalysis

# After a CAPA is verified effective, a new complaint or nonconformity with the same process and
# category within this many days counts as a recurrence.
RECURRENCE_WINDOW_DAYS = 90
AGEING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0–30 days", 0, 30),
    ("31–60 days", 31, 60),
    ("61–90 days", 61, 90),
    ("over 90 days", 91, None),
)


# The longest period the dashboard, its CSV downloads and the quality review pack cover: long
# enough for a whole imported history (20 years: 1,044 weekly points on the control chart).
MAX_PERIOD_DAYS = 7305
# Dates a period may use: the previous period of the earliest still has a calendar to lie in.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)


def period_problem(first: date, last: date) -> tuple[str, str] | None:
    """Why whole UTC days `first` to `last` (both included) are not a period the figures can
    cover, as (field, message) for the form's `date_from` / `date_to`; None when they are."""
    if last < first:
        return "date_to", "The end date is before the start date."
    if first < EARLIEST_DAY:
        return "date_from", f"Choose a first day from {EARLIEST_DAY.isoformat()} on."
    if last > LATEST_DAY:
        return "date_to", f"Choose a last day up to {LATEST_DAY.isoformat()}."
    days = (last - first).days + 1
    if days > MAX_PERIOD_DAYS:
        return (
            "date_from",
            f"Choose a period of at most {MAX_PERIOD_DAYS:,} days (20 years); "
            f"{first.isoformat()} to {last.isoformat()} is {days:,} days.",
        )
    return None


@dataclass(frozen=True)
class Scope:
    """What the figures cover: [start, end) in UTC and optional filters."""

    start: datetime
    end: datetime
    site_id: int | None = None
    process_id: int | None = None
    channel: str | None = None

    @classmethod
    def last_days(cls, days: int, today: date | None = None, **filters: Any) -> Scope:
        """The `days` whole UTC days up to and including `today`."""
        today = today or utcnow().date()
        end = datetime.combine(today + timedelta(days=1), time(), tzinfo=UTC)
        return cls(start=end - timedelta(days=days), end=end, **filters)

    @classmethod
    def between(cls, first: date, last: date, **filters: Any) -> Scope:
        """The whole UTC days from `first` to `last`, both included."""
        return cls(
            start=datetime.combine(first, time(), tzinfo=UTC),
            end=datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC),
            **filters,
        )

    @property
    def days(self) -> int:
        return max(1, round((self.end - self.start).total_seconds() / 86400))

    def previous(self) -> Scope:
        """The period of the same length just before this one, with the same filters."""
        length = self.end - self.start
        return replace(self, start=self.start - length, end=self.start)


# --- filters --------------------------------------------------------------------------------------


def _process_filters(process_column: ColumnElement[Any], scope: Scope) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if scope.process_id is not None:
        conditions.append(process_column == scope.process_id)
    if scope.site_id is not None:
        conditions.append(
            process_column.in_(select(Process.id).where(Process.site_id == scope.site_id))
        )
    return conditions


def complaint_filters(scope: Scope) -> list[ColumnElement[bool]]:
    conditions = [Complaint.received_at >= scope.start, Complaint.received_at < scope.end]
    conditions += _process_filters(Complaint.process_id, scope)
    if scope.channel:
        conditions.append(Complaint.channel == scope.channel)
    return conditions


def _capa_process_filter(scope: Scope) -> list[ColumnElement[bool]]:
    """A CAPA belongs to a process through the nonconformities it addresses."""
    conditions = _process_filters(Nonconformity.process_id, scope)
    if not conditions:
        return []
    return [
        exists(
            select(capa_nonconformity.c.capa_id)
            .join(Nonconformity, Nonconformity.id == capa_nonconformity.c.nonconformity_id)
            .where(capa_nonconformity.c.capa_id == Capa.id, *conditions)
        )
    ]


def _ratio(part: int | None, whole: int | None) -> float | None:
    return None if not whole else (part or 0) / whole


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 86400


def _scaled(seconds: Any, unit: int) -> float | None:
    """Seconds (an integer, or a mean of integers) in hours or days."""
    return None if seconds is None else float(seconds) / unit


# --- complaints -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComplaintFigures:
    complaints: int
    responded: int
    response_mean_hours: float | None
    response_median_hours: float | None
    resolved: int  # complaints with a resolution time
    resolution_mean_days: float | None
    resolution_median_days: float | None
    resolution_p90_days: float | None
    first_contact_resolved: int
    first_contact_known: int  # resolved complaints that say whether it was at the first contact
    escalated: int
    csat_count: int
    csat_mean: float | None
    retention: dict[str, tuple[int, int]]  # group -> (stayed, left)
    timely: int
    timely_known: int  # complaints whose source says whether the response was timely
    disputed: int
    dispute_known: int  # complaints whose source says whether the customer disputed

    @property
    def timely_response_rate(self) -> float | None:
        return _ratio(self.timely, self.timely_known)

    @property
    def dispute_rate(self) -> float | None:
        return _ratio(self.disputed, self.dispute_known)

    @property
    def first_contact_resolution_rate(self) -> float | None:
        return _ratio(self.first_contact_resolved, self.first_contact_known)

    @property
    def escalation_rate(self) -> float | None:
        return _ratio(self.escalated, self.complaints)

    def retention_rate(self, group: str = "all") -> float | None:
        stayed, left = self.retention[group]
        return _ratio(stayed, stayed + left)


def count_when(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def complaint_totals_from_base(scope: Scope) -> dict[str, int]:
    """The sums of `rollup.COMPLAINT_MEASURES` over the complaints received in the scope,
    computed from the complaints themselves in one aggregate query: what the rollup must hold, and
    the answer for a period that is not made of whole UTC days. Durations are the stored whole
    seconds (`first_response_seconds`, `resolution_seconds`), so the database sums integers
    rather than subtracting timestamps row by row."""
    response = Complaint.first_response_seconds
    resolution = Complaint.resolution_seconds
    stayed = Complaint.retention_status == RetentionStatus.STAYED
    left = Complaint.retention_status == RetentionStatus.LEFT
    row = db.session.execute(
        select(
            func.count(),
            func.count(response),
            func.coalesce(func.sum(response), 0),
            func.count(resolution),
            func.coalesce(func.sum(resolution), 0),
            count_when(and_(Complaint.first_contact_resolution.is_(True), resolved())),
            count_when(and_(Complaint.first_contact_resolution.is_not(None), resolved())),
            count_when(Complaint.escalation_level > 0),
            func.count(Complaint.csat_score),
            func.coalesce(func.sum(Complaint.csat_score), 0),
            count_when(stayed),
            count_when(left),
            count_when(and_(stayed, recovered())),
            count_when(and_(left, recovered())),
            count_when(and_(stayed, not_recovered())),
            count_when(and_(left, not_recovered())),
            count_when(Complaint.timely_response.is_(True)),
            func.count(Complaint.timely_response),
            count_when(Complaint.disputed.is_(True)),
            func.count(Complaint.disputed),
        ).where(*complaint_filters(scope))
    ).one()
    return {name: int(value) for name, value in zip(rollup.COMPLAINT_MEASURES, row, strict=True)}


def complaint_totals(scope: Scope, *, from_base: bool = False) -> dict[str, int]:
    """The sums of `rollup.COMPLAINT_MEASURES` for the scope: from the daily rollup when the
    period is made of whole UTC days (the dashboard's always are), else from the complaints."""
    if from_base or not rollup.covers(scope.start, scope.end):
        return complaint_totals_from_base(scope)
    return rollup.complaint_totals(db.session, scope)


def _mean(total: int, count: int) -> float | None:
    return total / count if count else None


def complaint_figures(scope: Scope, *, from_base: bool = False) -> ComplaintFigures:
    """Volume, response and resolution times, FCR, escalation, CSAT and retention for the
    complaints received in the scope: the sums from `complaint_totals` (the daily rollup), then
    the exact percentiles from two small queries per duration (see `percentiles`)."""
    totals = complaint_totals(scope, from_base=from_base)
    response = Complaint.first_response_seconds
    resolution = Complaint.resolution_seconds
    responded, resolutions_timed = totals["responded"], totals["resolutions_timed"]
    response_mean = _mean(totals["response_seconds"], responded)
    resolution_mean = _mean(totals["resolution_seconds"], resolutions_timed)
    (response_median,) = percentiles(
        response,
        [0.5],
        responded,
        [*complaint_filters(scope), response.is_not(None)],
        response_mean,
    )
    resolution_median, resolution_p90 = percentiles(
        resolution,
        [0.5, 0.9],
        resolutions_timed,
        [*complaint_filters(scope), resolution.is_not(None)],
        resolution_mean,
    )
    return ComplaintFigures(
        complaints=totals["complaints"],
        responded=responded,
        response_mean_hours=_scaled(response_mean, SECONDS_PER_HOUR),
        response_median_hours=_scaled(response_median, SECONDS_PER_HOUR),
        resolved=resolutions_timed,
        resolution_mean_days=_scaled(resolution_mean, SECONDS_PER_DAY),
        resolution_median_days=_scaled(resolution_median, SECONDS_PER_DAY),
        resolution_p90_days=_scaled(resolution_p90, SECONDS_PER_DAY),
        first_contact_resolved=totals["first_contact_resolved"],
        first_contact_known=totals["first_contact_known"],
        escalated=totals["escalated"],
        csat_count=totals["csat_count"],
        csat_mean=_mean(totals["csat_sum"], totals["csat_count"]),
        retention={
            "all": (totals["retained"], totals["lost"]),
            "recovered": (totals["retained_recovered"], totals["lost_recovered"]),
            "not_recovered": (totals["retained_not_recovered"], totals["lost_not_recovered"]),
        },
        timely=totals["timely"],
        timely_known=totals["timely_known"],
        disputed=totals["disputed"],
        dispute_known=totals["dispute_known"],
    )


def percentile_ranks(fraction: float, n: int) -> tuple[int, ...]:
    """The 1-based ranks whose values make the percentile of n sorted values: the median is the
    middle value (the mean of the two middle ones for even n); any other fraction uses the
    nearest-rank method, the value at rank ⌈fraction·n⌉."""
    if n <= 0:
        return ()
    if fraction == 0.5:
        return ((n + 1) // 2,) if n % 2 else (n // 2, n // 2 + 1)
    return (max(1, math.ceil(fraction * n)),)


# How many buckets the mean spans when percentiles are found through a histogram (see below).
BUCKETS_PER_MEAN = 100


def percentiles(
    expression: ColumnElement[int],
    fractions: Sequence[float],
    n: int,
    conditions: Sequence[ColumnElement[bool]],
    mean: float | None = None,
) -> list[float | None]:
    """Exact percentiles of an integer `expression` over the complaints matching `conditions`
    (of which there are `n`, none NULL), without sorting them all.

    1. The database counts the values per bucket of equal width (`expression / width`, integer
       division: every bucket is an interval, and their order is the values' order), with each
       bucket's smallest and largest value. The width is the mean ÷ BUCKETS_PER_MEAN, so a bucket
       holds a small share of the values.
    2. Counting up the buckets finds the bucket of every wanted rank and its rank inside it. A
       bucket whose values are all equal answers at once; the others' values (a few thousand) are
       fetched and sorted here.

    The answer is the same as numbering all the values in order; the width only changes the
    cost. Works on SQLite and PostgreSQL (both divide integers by integers to an integer)."""
    wanted = {fraction: percentile_ranks(fraction, n) for fraction in fractions}
    ranks = sorted({rank for group in wanted.values() for rank in group})
    if not ranks:
        return [None for _ in fractions]
    width = max(1, int(float(mean or 0) // BUCKETS_PER_MEAN))
    # Integer division on both databases; the width is written into the SQL (not a parameter) so
    # that PostgreSQL sees the selected and the grouped expression as the same.
    bucket = expression // literal_column(str(width), Integer())
    histogram = db.session.execute(
        select(bucket, func.count(), func.min(expression), func.max(expression))
        .where(*conditions)
        .group_by(bucket)
        .order_by(bucket)
    ).all()
    values: dict[int, float] = {}
    fetch: dict[int, list[tuple[int, int]]] = {}  # bucket -> (rank, rank within the bucket)
    pending = iter(ranks)
    rank = next(pending, None)
    below = 0
    for key, count, smallest, largest in histogram:
        while rank is not None and rank <= below + count:
            if smallest == largest:
                values[rank] = float(smallest)
            else:
                fetch.setdefault(key, []).append((rank, rank - below))
            rank = next(pending, None)
        below += count
    if fetch:
        by_bucket: dict[int, list[int]] = {}
        for key, value in db.session.execute(
            select(bucket, expression).where(*conditions, bucket.in_(list(fetch)))
        ):
            by_bucket.setdefault(key, []).append(value)
        for key, wanted_ranks in fetch.items():
            ordered = sorted(by_bucket.get(key, []))
            for rank, inside in wanted_ranks:
                if inside <= len(ordered):
                    values[rank] = float(ordered[inside - 1])
    return [
        sum(values[rank] for rank in group) / len(group)
        if all(rank in values for rank in group)
        else None
        for group in wanted.values()
    ]


def complaints_per_day(scope: Scope, *, from_base: bool = False) -> list[tuple[date, int]]:
    """(UTC day, complaints received) for the days of the scope that have any: from the daily
    rollup for a period of whole days, else counted from the complaints."""
    if not from_base and rollup.covers(scope.start, scope.end):
        return rollup.complaints_per_day(db.session, scope)
    day = utc_day(Complaint.received_at)
    rows = db.session.execute(
        select(day, func.count()).where(*complaint_filters(scope)).group_by(day)
    )
    # A driver may hand the date back as text.
    return [
        (date.fromisoformat(received) if isinstance(received, str) else received, int(count))
        for received, count in rows
    ]


def weekly_complaint_counts(scope: Scope, *, from_base: bool = False) -> list[tuple[date, int]]:
    """Complaints per week of the scope (weeks counted from its start; the last may be short),
    every week present, zeros included: the days of `complaints_per_day`, summed into weeks."""
    first = scope.start.date()
    weeks = math.ceil(scope.days / 7)
    counts = [0] * weeks
    for received, count in complaints_per_day(scope, from_base=from_base):
        counts[(received - first).days // 7] += count
    return [(first + timedelta(weeks=index), counts[index]) for index in range(weeks)]


def first_partial_week(scope: Scope, now: datetime | None = None) -> int:
    """Index of the first week of `weekly_complaint_counts(scope)` that is not a whole week over by
    `now`: a week cut short by the scope's end, or one still running. Only the last weeks can be."""
    now = now or utcnow()
    horizon = min(scope.end, now)
    weeks = math.ceil(scope.days / 7)
    whole = 0
    while whole < weeks and scope.start + timedelta(weeks=whole + 1) <= horizon:
        whole += 1
    return whole


def complaint_category_counts(
    scope: Scope, *, from_base: bool = False
) -> list[tuple[int | None, int]]:
    """(category id, complaints) for the scope, for the category Pareto chart: from the daily
    rollup for a period of whole days, else counted from the complaints."""
    if not from_base and rollup.covers(scope.start, scope.end):
        return rollup.complaints_per_category(db.session, scope)
    rows = db.session.execute(
        select(Complaint.category_id, func.count())
        .where(*complaint_filters(scope))
        .group_by(Complaint.category_id)
    ).all()
    return [(category_id, count) for category_id, count in rows]


# --- costs ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostFigures:
    recovery: Decimal
    capa: Decimal

    @property
    def total(self) -> Decimal:
        return self.recovery + self.capa


def recovery_cost(scope: Scope, *, from_base: bool = False) -> Decimal:
    """Amounts of the recovery actions done in the period on complaints matching the filters:
    from the daily rollup for a period of whole days, else summed from the actions."""
    if not from_base and rollup.covers(scope.start, scope.end):
        return rollup.recovery_cost(db.session, scope).quantize(Decimal("0.01"))
    recovery = select(func.coalesce(func.sum(RecoveryAction.amount), 0)).where(
        RecoveryAction.amount.is_not(None),
        RecoveryAction.done_at >= scope.start,
        RecoveryAction.done_at < scope.end,
    )
    complaint_filters = _process_filters(Complaint.process_id, scope)
    if scope.channel:
        complaint_filters.append(Complaint.channel == scope.channel)
    if complaint_filters:
        recovery = recovery.join(Complaint, Complaint.id == RecoveryAction.complaint_id).where(
            *complaint_filters
        )
    return Decimal(db.session.scalar(recovery) or 0).quantize(Decimal("0.01"))


def cost_of_poor_quality(scope: Scope, *, from_base: bool = False) -> CostFigures:
    """Recovery costs (`recovery_cost`) plus CAPA costs (CAPAs planned in the period, matching
    the site/process filters)."""
    capa = select(func.coalesce(func.sum(Capa.cost), 0)).where(
        Capa.created_at >= scope.start, Capa.created_at < scope.end, *_capa_process_filter(scope)
    )
    return CostFigures(
        recovery=recovery_cost(scope, from_base=from_base),
        capa=Decimal(db.session.scalar(capa) or 0).quantize(Decimal("0.01")),
    )


# --- nonconformities, root causes, CAPA ----------------------------------------------------------


def nonconformities_by_rpn_band(scope: Scope) -> dict[str, int]:
    """Nonconformities detected in the period per risk-priority band (low < 100 ≤ medium < 200 ≤
    high), every band present."""
    rpn = Nonconformity.severity * Nonconformity.occurrence * Nonconformity.detection
    band = case((rpn >= 200, "high"), (rpn >= 100, "medium"), else_="low")
    rows = dict(
        db.session.execute(
            select(band, func.count())
            .where(
                Nonconformity.detected_at >= scope.start,
                Nonconformity.detected_at < scope.end,
                *_process_filters(Nonconformity.process_id, scope),
            )
            .group_by(band)
        ).all()
    )
    return {name: int(rows.get(name, 0)) for name in ("low", "medium", "high")}


def root_cause_category_counts(scope: Scope) -> list[tuple[str, int]]:
    """(cause category, root causes recorded in the period), for the root-cause Pareto chart."""
    statement: Select[Any] = select(RootCause.cause_category, func.count()).where(
        RootCause.created_at >= scope.start, RootCause.created_at < scope.end
    )
    process_filters = _process_filters(Nonconformity.process_id, scope)
    if process_filters:
        statement = (
            statement.join(RootCauseAnalysis, RootCauseAnalysis.id == RootCause.analysis_id)
            .join(Nonconformity, Nonconformity.id == RootCauseAnalysis.nonconformity_id)
            .where(*process_filters)
        )
    return [tuple(row) for row in db.session.execute(statement.group_by(RootCause.cause_category))]


@dataclass(frozen=True)
class CapaFigures:
    closed_with_due_date: int
    closed_on_time: int
    checks_decided: int
    checks_passed: int
    verified_effective: int
    recurred: int

    @property
    def on_time_closure_rate(self) -> float | None:
        return _ratio(self.closed_on_time, self.closed_with_due_date)

    @property
    def effectiveness_rate(self) -> float | None:
        return _ratio(self.checks_passed, self.checks_decided)

    @property
    def recurrence_rate(self) -> float | None:
        return _ratio(self.recurred, self.verified_effective)


def capa_figures(scope: Scope) -> CapaFigures:
    """On-time closure (CAPAs closed in the period whose action was implemented by its due date),
    effectiveness and recurrence after verification (see docs/metrics.md)."""
    process_filter = _capa_process_filter(scope)
    closed = db.session.execute(
        select(func.count(), count_when(utc_date(Capa.implemented_at) <= Capa.due_date)).where(
            Capa.closed_at >= scope.start,
            Capa.closed_at < scope.end,
            Capa.due_date.is_not(None),
            *process_filter,
        )
    ).one()
    decided = EffectivenessCheck.result.in_([CheckResult.PASSED, CheckResult.FAILED])
    checks = db.session.execute(
        select(func.count(), count_when(EffectivenessCheck.result == CheckResult.PASSED))
        .join(Capa, Capa.id == EffectivenessCheck.capa_id)
        .where(
            decided,
            EffectivenessCheck.checked_at >= scope.start,
            EffectivenessCheck.checked_at < scope.end,
            *process_filter,
        )
    ).one()
    verified, recurred = _recurrence(scope, process_filter)
    return CapaFigures(
        closed_with_due_date=closed[0],
        closed_on_time=closed[1],
        checks_decided=checks[0],
        checks_passed=checks[1],
        verified_effective=verified,
        recurred=recurred,
    )


def _recurrence(scope: Scope, process_filter: list[ColumnElement[bool]]) -> tuple[int, int]:
    """CAPAs first verified effective in the period, and how many of them saw the failure again:
    a complaint or nonconformity (other than the CAPA's own) with the same process and category
    as one of the CAPA's nonconformities, within RECURRENCE_WINDOW_DAYS after the verification."""
    verified_at = (
        select(
            EffectivenessCheck.capa_id.label("capa_id"),
            func.min(EffectivenessCheck.checked_at).label("verified_at"),
        )
        .where(EffectivenessCheck.result == CheckResult.PASSED)
        .group_by(EffectivenessCheck.capa_id)
        .subquery()
    )
    own = Nonconformity.__table__.alias("own")
    link = capa_nonconformity.alias("link")
    same_failure = and_(
        link.c.capa_id == verified_at.c.capa_id,
        own.c.id == link.c.nonconformity_id,
    )
    complaint_again = exists(
        select(Complaint.id)
        .select_from(link.join(own, own.c.id == link.c.nonconformity_id))
        .where(
            same_failure,
            Complaint.process_id == own.c.process_id,
            Complaint.category_id == own.c.category_id,
            Complaint.received_at > verified_at.c.verified_at,
            days_between(Complaint.received_at, verified_at.c.verified_at)
            <= RECURRENCE_WINDOW_DAYS,
        )
    )
    later = Nonconformity.__table__.alias("later")
    nonconformity_again = exists(
        select(later.c.id)
        .select_from(link.join(own, own.c.id == link.c.nonconformity_id))
        .where(
            same_failure,
            later.c.process_id == own.c.process_id,
            later.c.category_id == own.c.category_id,
            later.c.detected_at > verified_at.c.verified_at,
            days_between(later.c.detected_at, verified_at.c.verified_at) <= RECURRENCE_WINDOW_DAYS,
            ~later.c.id.in_(
                select(capa_nonconformity.c.nonconformity_id).where(
                    capa_nonconformity.c.capa_id == verified_at.c.capa_id
                )
            ),
        )
    )
    row = db.session.execute(
        select(func.count(), count_when(or_(complaint_again, nonconformity_again)))
        .select_from(verified_at)
        .join(Capa, Capa.id == verified_at.c.capa_id)
        .where(
            verified_at.c.verified_at >= scope.start,
            verified_at.c.verified_at < scope.end,
            *process_filter,
        )
    ).one()
    return int(row[0]), int(row[1])


@dataclass(frozen=True)
class AgeingFigures:
    buckets: list[tuple[str, int]] = field(default_factory=list)
    overdue: int = 0

    @property
    def total(self) -> int:
        return sum(count for _, count in self.buckets)


def capa_ageing(scope: Scope, now: datetime | None = None) -> AgeingFigures:
    """Open CAPAs today by age since planning, and how many are past their due date. A state
    now, not a period figure: the site/process filters apply, the period does not."""
    now = now or utcnow()
    age = days_between(literal(now, UTCDateTime()), Capa.created_at)
    whens = []
    for name, low, high in AGEING_BUCKETS:
        upper = age < (high + 1) if high is not None else None
        whens.append(((age >= low) & upper if upper is not None else age >= low, name))
    bucket = case(*whens, else_=AGEING_BUCKETS[0][0])
    open_capa = [Capa.status.in_(OPEN_CAPA_STATUSES), *_capa_process_filter(scope)]
    rows = dict(
        db.session.execute(select(bucket, func.count()).where(*open_capa).group_by(bucket)).all()
    )
    overdue = db.session.scalar(
        select(func.count()).where(*_capa_process_filter(scope), overdue_clause(now.date()))
    )
    return AgeingFigures(
        buckets=[(name, int(rows.get(name, 0))) for name, _, _ in AGEING_BUCKETS],
        overdue=int(overdue or 0),
    )
