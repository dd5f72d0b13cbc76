"""The recurring-failure review: find failures that keep coming back, and open a nonconformity.

Complaints and nonconformities are grouped by a fingerprint (process and category by default) and
counted per week by the database (GROUP BY fingerprint, week), so memory holds one number per
fingerprint and week whatever the number of records. A fingerprint signals when:

(a) its count in the rolling window (default 30 days up to the review) reaches the threshold;
(b) a week of the review period (the last 8 complete weeks) is above the c-chart upper control
    limit computed over the baseline (the 26 weeks before the review period), with at least
    `min_weekly_count` records (with a centre near zero, two records are "above the limit");
(c) 8 weeks in a row sit above the baseline's centre line.

The c-chart maths is `app.core.spc`. This module detects and changes nothing; what a signal does
(a nonconformity, notifications, CAPA flags) is `app.scheduler.signals`. While a fingerprint's
review nonconformity is open its signals are only counted as suppressed; once it is closed, only
records after that signal's window count again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, cast, func, select
from sqlalchemy.sql.elements import ColumnElement

from app.capa.models import CapaStatus
from app.complaints.models import Complaint
from app.core.spc import RUN_LENGTH, c_chart, c_chart_limits
from app.extensions import db
from app.nonconformities.models import Nonconformity, NonconformitySource, NonconformityStatus
from app.scheduler.models import RecurrenceRule, RecurrenceSignal

FINGERPRINTS: dict[str, tuple[str, ...]] = {
    "process_category": ("process_id", "category_id"),
    "process": ("process_id",),
    "category": ("category_id",),
}
FINGERPRINT_CHOICES = (
    ("process_category", "Process and failure category"),
    ("process", "Process"),
    ("category", "Failure category"),
)
WINDOW_BASIS_CHOICES = (
    ("count", "Count: the count in the window reaches the threshold"),
    ("share", "Share: and it is at least the share of its process's records below"),
    ("off", "Off: the c-chart rules (b) and (c) alone"),
)
WEEK = timedelta(weeks=1)
WEEK_ORIGIN = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday: weeks run Monday 00:00 to Monday UTC
ORIGIN_JULIAN_DAY = 2451546.5  # julianday('2000-01-03 00:00:00')
ORIGIN_EPOCH = int(WEEK_ORIGIN.timestamp())
LINKED_RECORDS_MAX = 100  # contributing records linked to the nonconformity (the newest)
CLOSED_NC_STATUSES = (NonconformityStatus.CLOSED, NonconformityStatus.CANCELLED)
VERIFIED_CAPA_STATUSES = (CapaStatus.EFFECTIVE, CapaStatus.CLOSED)

Key = tuple[int, ...]


@dataclass(frozen=True)
class ReviewSettings:
    fingerprint: str = "process_category"
    window_days: int = 30
    window_threshold: int = 40
    baseline_weeks: int = 26
    review_weeks: int = RUN_LENGTH
    # Rule (b) ignores weeks with fewer records: with a centre near zero, 2 is "above the limit".
    min_weekly_count: int = 5
    # Rule (a) relative to volume: "count" (the count reaches the threshold), "share" (and the
    # fingerprint's share of its process's records in the window reaches the percentage), "off"
    # (the c-chart rules alone).
    window_basis: str = "count"
    window_share_percent: int = 20

    @classmethod
    def from_settings(cls, values: dict[str, Any]) -> ReviewSettings:
        known = {name: values[name] for name in cls.__dataclass_fields__ if name in values}
        settings = cls(**known)
        if settings.fingerprint not in FINGERPRINTS:
            raise ValueError(f"Unknown fingerprint {settings.fingerprint!r}")
        if settings.window_basis not in dict(WINDOW_BASIS_CHOICES):
            raise ValueError(f"Unknown basis for rule (a) {settings.window_basis!r}")
        return settings


@dataclass(frozen=True)
class RuleHit:
    rule: RecurrenceRule
    start: datetime
    end: datetime
    explanation: str


@dataclass
class Detection:
    """What the review found for one fingerprint (nothing written yet)."""

    key: Key
    hits: list[RuleHit] = field(default_factory=list)

    @property
    def window_start(self) -> datetime:
        return min(hit.start for hit in self.hits)

    @property
    def window_end(self) -> datetime:
        return max(hit.end for hit in self.hits)

    @property
    def rules(self) -> list[RecurrenceRule]:
        return [hit.rule for hit in self.hits]


@dataclass(frozen=True)
class ReviewResult:
    detections: list[Detection]
    suppressed: list[Key]  # signalled, but a nonconformity for the fingerprint is still open


def week_index(moment: datetime) -> int:
    return (moment - WEEK_ORIGIN) // WEEK


def week_start(index: int) -> datetime:
    return WEEK_ORIGIN + index * WEEK


def fingerprint_text(kind: str, key: Key) -> str:
    names = FINGERPRINTS[kind]
    return ";".join(
        f"{name.removesuffix('_id')}={value}" for name, value in zip(names, key, strict=True)
    )


def _week_of(column: Any) -> ColumnElement[int]:
    """The record's week number since WEEK_ORIGIN, computed by the database."""
    if db.session.get_bind().dialect.name == "sqlite":
        # Records before 2000 are never counted, so truncation is the floor here.
        return cast((func.julianday(column) - ORIGIN_JULIAN_DAY) / 7, Integer)
    return cast(func.floor((func.extract("epoch", column) - ORIGIN_EPOCH) / 604800), Integer)


def record_sources(kind: str) -> list[tuple[list[Any], Any, list[Any]]]:
    """(fingerprint columns, time column, extra filters) of each kind of failure record."""
    names = FINGERPRINTS[kind]
    return [
        ([getattr(Complaint, name) for name in names], Complaint.received_at, []),
        (
            [getattr(Nonconformity, name) for name in names],
            Nonconformity.detected_at,
            # The review's own nonconformities are its output, not failures to count again.
            [Nonconformity.source != NonconformitySource.RECURRING_FAILURE_REVIEW],
        ),
    ]


def weekly_counts(kind: str, first_week: int, end_week: int) -> dict[Key, dict[int, int]]:
    """Records per fingerprint and week for weeks first_week..end_week-1, counted in SQL."""
    counts: dict[Key, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for columns, moment, filters in record_sources(kind):
        week = _week_of(moment).label("week")
        statement = (
            select(*columns, week, func.count())
            .where(
                moment >= week_start(first_week),
                moment < week_start(end_week),
                *(column.is_not(None) for column in columns),
                *filters,
            )
            .group_by(*columns, week)
        )
        for row in db.session.execute(statement):
            *key, week_number, number = row
            counts[tuple(key)][int(week_number)] += int(number)
    return counts


def counts_between(kind: str, start: datetime, end: datetime) -> dict[Key, int]:
    """Records per fingerprint with start <= time < end, counted in SQL."""
    totals: dict[Key, int] = defaultdict(int)
    for columns, moment, filters in record_sources(kind):
        statement = (
            select(*columns, func.count())
            .where(
                moment >= start,
                moment < end,
                *(column.is_not(None) for column in columns),
                *filters,
            )
            .group_by(*columns)
        )
        for row in db.session.execute(statement):
            *key, number = row
            totals[tuple(key)] += int(number)
    return totals


def _signal_state(kind: str) -> tuple[set[str], dict[str, datetime]]:
    """Fingerprints with an open review nonconformity, and each one's latest signal window end."""
    prefix = f"{kind}:"
    open_rows = db.session.scalars(
        select(RecurrenceSignal.fingerprint)
        .join(Nonconformity, Nonconformity.id == RecurrenceSignal.nonconformity_id)
        .where(
            RecurrenceSignal.fingerprint.startswith(prefix),
            Nonconformity.status.not_in(CLOSED_NC_STATUSES),
        )
        .distinct()
    )
    latest = db.session.execute(
        select(RecurrenceSignal.fingerprint, func.max(RecurrenceSignal.window_end))
        .where(RecurrenceSignal.fingerprint.startswith(prefix))
        .group_by(RecurrenceSignal.fingerprint)
    ).all()
    return set(open_rows), {name: value for name, value in latest if value is not None}


def detect_recurrences(settings: ReviewSettings, as_of: datetime) -> ReviewResult:
    """Apply the three rules as of `as_of`; changes nothing."""
    kind = settings.fingerprint
    current_week = week_index(as_of)
    review_first = current_week - settings.review_weeks
    baseline_first = review_first - settings.baseline_weeks
    # The week still running (as of a Wednesday, its first two days) is counted but never
    # judged: a partial period, as on the dashboard's c-chart (`spc.c_chart(partial_from=…)`).
    weekly = weekly_counts(kind, baseline_first, current_week + 1)
    window_start = as_of - timedelta(days=settings.window_days)
    window_end = as_of + timedelta(microseconds=1)
    in_window = counts_between(kind, window_start, window_end)
    volume = _window_volume(kind, in_window, window_start, window_end)
    open_fingerprints, latest_end = _signal_state(kind)

    detections: list[Detection] = []
    suppressed: list[Key] = []
    for key in sorted(set(weekly) | set(in_window)):
        fingerprint = f"{kind}:{fingerprint_text(kind, key)}"
        # Once the last signal's nonconformity is closed, only records after it count again.
        floor = None if fingerprint in open_fingerprints else latest_end.get(fingerprint)
        detection = Detection(key)
        start = max(window_start, floor) if floor else window_start
        count = in_window.get(key, 0)
        if floor and floor > window_start:
            count = counts_between_key(kind, key, start, as_of + timedelta(microseconds=1))
        explanation = _window_rule(settings, kind, key, count, volume, as_of)
        if explanation is not None:
            detection.hits.append(
                RuleHit(RecurrenceRule.WINDOW_THRESHOLD, start, as_of, explanation)
            )
        by_week = weekly.get(key, {})
        baseline = [by_week.get(week, 0) for week in range(baseline_first, review_first)]
        limits = c_chart_limits(baseline)
        review = [
            week
            for week in range(review_first, current_week)
            if floor is None or week_start(week) >= floor
        ]
        # Without a baseline there are no limits to exceed: rule (a) covers new failures.
        if limits.centre > 0 and review:
            points = c_chart(
                [by_week.get(week, 0) for week in [*review, current_week]],
                limits,
                partial_from=len(review),
            )
            above = [
                review[point.index]
                for point in points
                if point.above_upper and point.count >= settings.min_weekly_count
            ]
            if above:
                shown = ", ".join(
                    f"{week_start(week):%Y-%m-%d} ({by_week.get(week, 0)})" for week in above
                )
                detection.hits.append(
                    RuleHit(
                        RecurrenceRule.ABOVE_UPPER_LIMIT,
                        week_start(above[0]),
                        week_start(above[-1] + 1),
                        f"Weeks of {shown} above the upper control limit {limits.upper:.1f} "
                        f"(centre {limits.centre:.1f} over {settings.baseline_weeks} weeks).",
                    )
                )
            run = [
                review[point.index]
                for point in points
                if point.in_run_above_centre and not point.partial
            ]
            if run:
                detection.hits.append(
                    RuleHit(
                        RecurrenceRule.RUN_ABOVE_CENTRE,
                        week_start(run[0]),
                        week_start(run[-1] + 1),
                        f"{len(run)} weeks in a row from {week_start(run[0]):%Y-%m-%d} above "
                        f"the centre line {limits.centre:.1f}: "
                        + ", ".join(str(by_week.get(week, 0)) for week in run)
                        + ".",
                    )
                )
        if not detection.hits:
            continue
        if fingerprint in open_fingerprints:
            suppressed.append(key)
        else:
            detections.append(detection)
    return ReviewResult(detections, suppressed)


def _window_volume(
    kind: str, in_window: dict[Key, int], start: datetime, end: datetime
) -> dict[Key, int] | int:
    """What rule (a)'s share is taken of: per process, the records of each process in the window
    when the fingerprint is a process and a category (a category against its own process's
    volume); otherwise all the window's fingerprinted records."""
    if kind == "process_category":
        return counts_between("process", start, end)
    return sum(in_window.values())


def _window_rule(
    settings: ReviewSettings,
    kind: str,
    key: Key,
    count: int,
    volume: dict[Key, int] | int,
    as_of: datetime,
) -> str | None:
    """Rule (a)'s explanation when it holds for `count` records in the window, else None."""
    if settings.window_basis == "off" or count < settings.window_threshold:
        return None
    said = (
        f"{count} records in the {settings.window_days} days to {as_of:%Y-%m-%d} "
        f"(threshold {settings.window_threshold}"
    )
    if settings.window_basis == "count":
        return said + ")."
    total = volume.get(key[:1], 0) if isinstance(volume, dict) else volume
    share = count / total if total else 0.0
    if share * 100 < settings.window_share_percent:
        return None
    whose = "its process's" if kind == "process_category" else "all"
    return (
        f"{said}; {share * 100:.1f} % of {whose} {total} records, "
        f"share threshold {settings.window_share_percent} %)."
    )


def counts_between_key(kind: str, key: Key, start: datetime, end: datetime) -> int:
    return sum(
        db.session.scalar(
            select(func.count()).where(key_filter(columns, key), moment >= start, moment < end, *f)
        )
        or 0
        for columns, moment, f in record_sources(kind)
    )


def key_filter(columns: list[Any], key: Key) -> ColumnElement[bool]:
    return and_(*(column == value for column, value in zip(columns, key, strict=True)))
