"""What a recurrence signal does: open one nonconformity (source "recurring-failure review")
linking the contributing records, notify the quality leads, and flag every CAPA on the fingerprint
that was verified effective before the recurrence (shown on the CAPA's page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, func, select
from sqlalchemy.orm import joinedload

from app.capa.models import Capa, capa_nonconformity
from app.capa.services import EFFECTIVENESS_PURPOSE
from app.complaints.models import Complaint
from app.core.db import utcnow
from app.core.errors import ServiceError
from app.core.signatures import Signature
from app.extensions import db
from app.metrics.kpis import MAX_PERIOD_DAYS
from app.nonconformities.models import Nonconformity, NonconformitySource
from app.nonconformities.services import raise_nonconformity
from app.notifications.services import notify_all, quality_leads
from app.organisation.models import Category, Process
from app.scheduler.models import CapaRecurrenceFlag, RecurrenceRule, RecurrenceSignal
from app.scheduler.models import recurrence_signal_nonconformity as signal_nc_table
from app.scheduler.recurrence import (
    FINGERPRINTS,
    LINKED_RECORDS_MAX,
    VERIFIED_CAPA_STATUSES,
    WEEK_ORIGIN,
    Key,
    ReviewSettings,
    counts_between_key,
    detect_recurrences,
    fingerprint_text,
    key_filter,
    record_sources,
    week_index,
    week_start,
)

RECURRENCE_REVIEW_JOB = "recurring-failure-review"


def _contributing_ids(
    kind: str, key: Key, start: datetime, end: datetime
) -> tuple[list[int], list[int]]:
    """The newest contributing complaints and nonconformities (at most LINKED_RECORDS_MAX each)."""
    found: list[list[int]] = []
    for (columns, moment, filters), model in zip(
        record_sources(kind), (Complaint, Nonconformity), strict=True
    ):
        found.append(
            list(
                db.session.scalars(
                    select(model.id)
                    .where(key_filter(columns, key), moment >= start, moment <= end, *filters)
                    .order_by(moment.desc(), model.id.desc())
                    .limit(LINKED_RECORDS_MAX)
                )
            )
        )
    return found[0], found[1]


def _describe(kind: str, key: Key) -> tuple[str, int | None, int | None]:
    values = dict(zip(FINGERPRINTS[kind], key, strict=True))
    process_id, category_id = values.get("process_id"), values.get("category_id")
    parts = []
    if process_id is not None:
        process = db.session.get(Process, process_id)
        parts.append(process.name if process else f"process {process_id}")
    if category_id is not None:
        category = db.session.get(Category, category_id)
        parts.append(category.name if category else f"category {category_id}")
    return " / ".join(parts), process_id, category_id


def _verified_capas(kind: str, key: Key) -> list[tuple[Capa, datetime]]:
    """CAPAs on the fingerprint that were verified effective, with when they were signed."""
    columns = [getattr(Nonconformity, name) for name in FINGERPRINTS[kind]]
    rows = db.session.execute(
        select(Capa, func.min(Signature.signed_at))
        .join(capa_nonconformity, capa_nonconformity.c.capa_id == Capa.id)
        .join(Nonconformity, Nonconformity.id == capa_nonconformity.c.nonconformity_id)
        .join(
            Signature,
            and_(
                Signature.record_type == "capa",
                Signature.record_id == cast(Capa.id, String),
                Signature.purpose == EFFECTIVENESS_PURPOSE,
            ),
        )
        .where(key_filter(columns, key), Capa.status.in_(VERIFIED_CAPA_STATUSES))
        .group_by(Capa.id)
        .order_by(Capa.id)
    ).all()
    # min() over a UTCDateTime column keeps the type: the times come back UTC-aware.
    return [(capa, signed_at) for capa, signed_at in rows]


# FMEA occurrence (1–10) of a recurring failure from how often it came in the signal's window:
# (least records a week, occurrence). Fewer than one a week is 3.
OCCURRENCE_SCALE = ((100, 10), (50, 9), (20, 8), (10, 7), (5, 6), (2, 5), (1, 4))
SIGNAL_SEVERITY = 5  # the review cannot see the harm: a middling severity, for the lead to rescore
SIGNAL_DETECTION = 5  # found by the review, not by the customer, nor at once


@dataclass(frozen=True)
class SignalRisk:
    severity: int
    occurrence: int
    detection: int
    per_week: float

    @property
    def rpn(self) -> int:
        return self.severity * self.occurrence * self.detection

    @property
    def explanation(self) -> str:
        return (
            f"Risk priority {self.rpn} = severity {self.severity} × occurrence {self.occurrence} "
            f"({self.per_week:.1f} records a week in the window) × detection {self.detection}."
        )


def signal_risk(record_count: int, start: datetime, end: datetime) -> SignalRisk:
    """The risk of the nonconformity a signal raises, from the signal's size: occurrence from its
    records per week over its window (at least one week long), by OCCURRENCE_SCALE; severity and
    detection middling (5). So a signal of 3 records a week scores 125, one of 300 a week 250."""
    weeks = max(1.0, (end - start) / timedelta(weeks=1))
    per_week = record_count / weeks
    occurrence = next((score for least, score in OCCURRENCE_SCALE if per_week >= least), 3)
    return SignalRisk(SIGNAL_SEVERITY, occurrence, SIGNAL_DETECTION, per_week)


@dataclass
class ReviewCounts:
    fingerprints_signalled: int = 0
    nonconformities_opened: int = 0
    suppressed_while_open: int = 0
    capas_flagged: int = 0
    notifications: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _flag_verified_capas(
    kind: str, key: Key, signal: RecurrenceSignal, nc: Nonconformity, label: str, as_of: datetime
) -> tuple[int, int]:
    flagged = notified = 0
    for capa, verified_at in _verified_capas(kind, key):
        if verified_at is None or signal.window_end <= verified_at:
            continue
        since = counts_between_key(
            kind, key, max(verified_at, signal.window_start), as_of + timedelta(microseconds=1)
        )
        if since == 0:
            continue
        db.session.add(
            CapaRecurrenceFlag(
                capa_id=capa.id,
                signal_id=signal.id,
                verified_at=verified_at,
                records_since_verified=since,
            )
        )
        flagged += 1
        people = {user.id: user for user in quality_leads()}
        if capa.owner is not None and capa.owner.active:
            people[capa.owner.id] = capa.owner
        notified += notify_all(
            people.values(),
            kind="capa_recurrence",
            subject=f"{capa.reference}: the failure recurred after it was verified effective",
            body=(
                f"{since} new record(s) for {label} since {capa.reference} was verified effective "
                f"on {verified_at:%Y-%m-%d}. The review opened {nc.reference}."
            ),
            link=f"/capa/{capa.reference}",
        )
    return flagged, notified


def review_recurring_failures(
    values: dict[str, Any], as_of: datetime | None = None, job_run_id: int | None = None
) -> dict[str, int]:
    """Run the review as of `as_of` (default now): open a nonconformity per new signal, link the
    contributing records, notify the quality leads and flag CAPAs verified effective before the
    recurrence. Returns the counts the job run records."""
    settings = ReviewSettings.from_settings(values)
    as_of = min(as_of or utcnow(), utcnow())
    result = detect_recurrences(settings, as_of)
    counts = ReviewCounts(suppressed_while_open=len(result.suppressed))
    leads = quality_leads()
    for detection in result.detections:
        kind, key = settings.fingerprint, detection.key
        label, process_id, category_id = _describe(kind, key)
        complaint_ids, nc_ids = _contributing_ids(
            kind, key, detection.window_start, detection.window_end
        )
        record_count = counts_between_key(
            kind, key, detection.window_start, detection.window_end + timedelta(microseconds=1)
        )
        details = "\n".join(
            f"({'abc'[list(RecurrenceRule).index(hit.rule)]}) {hit.rule.label}: {hit.explanation}"
            for hit in detection.hits
        )
        risk = signal_risk(record_count, detection.window_start, detection.window_end)
        nc = raise_nonconformity(
            title=f"Recurring failure: {label}"[:200],
            source=NonconformitySource.RECURRING_FAILURE_REVIEW,
            detected_at=as_of,
            severity=risk.severity,
            occurrence=risk.occurrence,
            detection=risk.detection,
            description=(
                f"The recurring-failure review found a pattern for {label} "
                f"({record_count} records from {detection.window_start:%Y-%m-%d} to "
                f"{detection.window_end:%Y-%m-%d}).\n{details}\n{risk.explanation}"
            ),
            process_id=process_id,
            category_id=category_id,
            complaint_ids=complaint_ids,
        )
        signal = RecurrenceSignal(
            fingerprint=f"{kind}:{fingerprint_text(kind, key)}",
            process_id=process_id,
            category_id=category_id,
            rules=",".join(rule.value for rule in detection.rules),
            nonconformity_id=nc.id,
            job_run_id=job_run_id,
            raised_at=utcnow(),
            window_start=detection.window_start,
            window_end=detection.window_end,
            record_count=record_count,
            details=details,
        )
        db.session.add(signal)
        db.session.flush()
        if nc_ids:
            db.session.execute(
                signal_nc_table.insert(),
                [{"signal_id": signal.id, "nonconformity_id": ident} for ident in nc_ids],
            )
        counts.fingerprints_signalled += 1
        counts.nonconformities_opened += 1
        counts.notifications += notify_all(
            leads,
            kind="recurrence_signal",
            subject=f"Recurring failure: {label} ({nc.reference})",
            body=details,
            link=f"/nonconformities/{nc.reference}",
        )
        flagged, notified = _flag_verified_capas(kind, key, signal, nc, label, as_of)
        counts.capas_flagged += flagged
        counts.notifications += notified
    db.session.flush()
    return counts.as_dict()


def recurrence_flags(capa: Capa) -> list[CapaRecurrenceFlag]:
    """Recurrences found after `capa` was verified effective, newest first (for the CAPA page)."""
    return list(
        db.session.scalars(
            select(CapaRecurrenceFlag)
            .options(
                joinedload(CapaRecurrenceFlag.signal).joinedload(RecurrenceSignal.nonconformity)
            )
            .where(CapaRecurrenceFlag.capa_id == capa.id)
            .order_by(CapaRecurrenceFlag.flagged_at.desc(), CapaRecurrenceFlag.id.desc())
        )
    )


# --- reviewing a history ----------------------------------------------------------------------


def checked_history_range(
    first: date | None, last: date | None, today: date | None = None
) -> tuple[date, date]:
    """The days a history review covers: `last` alone is one review as of that day; with
    `first`, a range. ServiceError (field `review_from` / `review_to`) for a missing, inverted,
    future or over-long range, or one before the review's week origin (3 January 2000)."""
    today = today or utcnow().date()
    if last is None:
        raise ServiceError(
            "Give the day to review as of (the last day of the range).", field="review_to"
        )
    first = first or last
    if last < first:
        raise ServiceError("The last day is before the first day.", field="review_to")
    if last > today:
        raise ServiceError(
            f"Choose a day up to today ({today.isoformat()}): the review cannot see ahead.",
            field="review_to",
        )
    if first < WEEK_ORIGIN.date():
        raise ServiceError(
            f"Choose days from {WEEK_ORIGIN.date().isoformat()} on: the review counts weeks "
            "from then.",
            field="review_from",
        )
    days = (last - first).days + 1
    if days > MAX_PERIOD_DAYS:
        raise ServiceError(
            f"Choose a range of at most {MAX_PERIOD_DAYS:,} days (20 years); this one has "
            f"{days:,}.",
            field="review_from",
        )
    return first, last


def end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def history_moments(first: date, last: date) -> list[datetime]:
    """The moments a history review runs as of: the end of every week (Monday 00:00 UTC) after
    the first day and before the end of the last, then the end of the last day. One day is one
    review as of its end."""
    end = end_of(last)
    moments = [
        week_start(index)
        for index in range(week_index(end_of(first)), week_index(end) + 1)
        if end_of(first) <= week_start(index) < end
    ]
    return [*moments, end]


def review_history(
    values: dict[str, Any], first: date, last: date, job_run_id: int | None = None
) -> dict[str, Any]:
    """Replay the review over a history: as of each of `history_moments(first, last)` in turn,
    raising what the daily review would have raised then (a signal's nonconformity is detected
    as of that moment, and keeps later reviews of its fingerprint suppressed while it is open).
    Returns the summed counts, with the range and the number of reviews."""
    totals: dict[str, Any] = {}
    moments = history_moments(first, last)
    for moment in moments:
        for key, value in review_recurring_failures(values, moment, job_run_id).items():
            totals[key] = totals.get(key, 0) + value
    return {
        "reviewed_from": first.isoformat(),
        "reviewed_to": last.isoformat(),
        "reviews": len(moments),
        **totals,
    }
