"""Demo complaints with customer recovery, generated day by day with realistic patterns."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import numpy as np

from app.complaints.models import Complaint, RecoveryAction, complaint_durations
from app.demo.context import BATCH, LoopSeedResult, SeedContext, bulk_insert, stamps
from app.metrics import rollup
from app.organisation.models import Customer

DAYS = 365
CHANNELS = ["phone", "email", "web_form", "chat", "social_media", "in_person", "letter", "api"]
CHANNEL_WEIGHTS = [35, 25, 15, 12, 6, 3, 2, 2]
SEVERITIES = ["low", "medium", "high", "critical"]
SEVERITY_WEIGHTS = [40, 40, 15, 5]
# Complaints are grouped into fortnights for the nonconformities they raise, so the loop's records
# (and every dashboard window) are spread over the whole year, up to today.
PERIOD_DAYS = 14
PERIODS = -(-DAYS // PERIOD_DAYS)
# One customer in QUIET_EVERY never complains: the financial case compares complainants with
# customers who had no failure, and needs enough of those.
QUIET_EVERY = 4


def _pair_weights(ctx: SeedContext) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Daily weights of every process × category pair: a Pareto base plus a step and a burst."""
    pairs = [(p, c) for p in ctx.processes for c in ctx.categories]
    base = np.array([1.0 / (rank + 1) ** 1.1 for rank in range(len(pairs))])
    order = list(range(len(pairs)))
    ctx.rng.shuffle(order)
    base = base[np.array(order)]  # pair i gets the weight of Pareto rank order[i]
    weights = np.tile(base, (DAYS, 1))
    stepped, burst = order.index(len(pairs) // 3), order.index(len(pairs) // 2)
    weights[DAYS - 70 :, stepped] *= 4.0  # a failure that steps up for the last ten weeks
    weights[DAYS - 24 : DAYS - 17, burst] *= 12.0  # one bad week
    return pairs, weights / weights.sum(axis=1, keepdims=True)


def _day_weights(ctx: SeedContext) -> np.ndarray:
    days = np.arange(DAYS)
    first = (ctx.now - timedelta(days=DAYS - 1)).date()
    weekday = np.array([(first + timedelta(days=int(d))).weekday() for d in days])
    weekday_factor = np.where(weekday >= 5, 0.55, 1.0) + np.where(weekday == 0, 0.25, 0.0)
    day_of_year = np.array([(first + timedelta(days=int(d))).timetuple().tm_yday for d in days])
    season = 1.0 + 0.3 * np.cos(2 * math.pi * (day_of_year - 15) / 365.25)
    growth = np.linspace(0.9, 1.1, DAYS)
    weights = weekday_factor * season * growth
    return weights / weights.sum()


def _status_for_age(rng: random.Random, age_days: float) -> str:
    roll = rng.random()
    if age_days > 30:
        return "closed" if roll < 0.86 else "resolved" if roll < 0.96 else "investigating"
    if age_days > 7:
        return ["closed", "resolved", "investigating", "acknowledged"][
            0 if roll < 0.45 else 1 if roll < 0.75 else 2 if roll < 0.93 else 3
        ]
    return ["received", "acknowledged", "investigating", "resolved"][
        0 if roll < 0.3 else 1 if roll < 0.55 else 2 if roll < 0.8 else 3
    ]


def _ensure_customers(ctx: SeedContext, wanted: int, result: LoopSeedResult) -> None:
    missing = wanted - len(ctx.customers)
    rows = []
    for _ in range(max(0, missing)):
        customer_id = ctx.take_id("customer")
        rows.append(
            {
                "id": customer_id,
                "name": f"Demo customer {customer_id:07d}",
                "segment": "consumer" if ctx.rng.random() < 0.85 else "small_business",
                "annual_value": Decimal(ctx.rng.randint(300, 3_000)),
                "customer_since": date(2010 + ctx.rng.randint(0, 15), ctx.rng.randint(1, 12), 1),
                # One quiet customer in ten has left.
                "active": bool(customer_id % QUIET_EVERY or (customer_id // QUIET_EVERY) % 10),
                "version": 1,
                **stamps(ctx, ctx.now),
            }
        )
        ctx.customers.append(customer_id)
        if len(rows) >= BATCH:
            bulk_insert(ctx, Customer.__table__, rows, result)
            rows = []
    bulk_insert(ctx, Customer.__table__, rows, result)


def seed_complaints(
    ctx: SeedContext, count: int, result: LoopSeedResult, progress: Callable[[int], None]
) -> dict[tuple[int, int], list[tuple[int, datetime]]]:
    """Insert the complaints day by day (so references run in date order); returns, per
    (pair, fortnight of the year), up to 20 complaint ids and dates for nonconformities to link."""
    _ensure_customers(ctx, max(20, count // 10), result)
    complainants = [c for c in ctx.customers if c % QUIET_EVERY] or ctx.customers
    rng = ctx.rng
    generator = np.random.default_rng(rng.randrange(2**32))
    per_day = generator.multinomial(count, _day_weights(ctx))
    pairs, pair_weights = _pair_weights(ctx)
    first_day = (ctx.now - timedelta(days=DAYS - 1)).date()
    buckets: dict[tuple[int, int], list[tuple[int, datetime]]] = {}
    complaints: list[dict] = []
    actions: list[dict] = []
    done = 0
    for day_index, day_count in enumerate(per_day):
        if not day_count:
            continue
        day = first_day + timedelta(days=day_index)
        # Office hours; today only up to now, so references stay in date order.
        day_end = 21 * 3600
        if day == ctx.now.date():
            day_end = min(day_end, ctx.now.hour * 3600 + ctx.now.minute * 60 + ctx.now.second)
        day_start = min(7 * 3600, max(day_end - 1, 0))
        seconds = np.sort(generator.integers(day_start, max(day_end, 1), size=int(day_count)))
        chosen = generator.choice(len(pairs), size=int(day_count), p=pair_weights[day_index])
        for offset, pair_index in zip(seconds, chosen, strict=True):
            received = datetime.combine(day, time(), tzinfo=UTC) + timedelta(seconds=int(offset))
            complaint = _complaint_row(ctx, received, pairs[int(pair_index)], complainants)
            complaints.append(complaint)
            actions.extend(_recovery_rows(ctx, complaint))
            bucket = buckets.setdefault((int(pair_index), day_index // PERIOD_DAYS), [])
            if len(bucket) < 20:
                bucket.append((complaint["id"], received))
            done += 1
            if len(complaints) >= BATCH:
                _flush_complaints(ctx, complaints, actions, result)
                complaints, actions = [], []
                progress(done)
    _flush_complaints(ctx, complaints, actions, result)
    progress(done)
    return buckets


def _flush_complaints(ctx, complaints, actions, result: LoopSeedResult) -> None:
    bulk_insert(ctx, Complaint.__table__, complaints, result)
    bulk_insert(ctx, RecoveryAction.__table__, actions, result)
    # Bulk inserts bypass the ORM, so they count themselves into the dashboard's rollups.
    rollup.add_complaints(ctx.connection, [row["id"] for row in complaints])
    rollup.add_recovery_actions(ctx.connection, [row["id"] for row in actions])
    result.complaints += len(complaints)
    result.recovery_actions += len(actions)


def _complaint_row(
    ctx: SeedContext, received: datetime, pair: tuple[int, int], complainants: list[int]
) -> dict:
    rng = ctx.rng
    status = _status_for_age(rng, (ctx.now - received).total_seconds() / 86400)
    first_response = resolved = closed = None
    first_contact = False
    if status != "received":
        first_response = min(received + timedelta(hours=rng.lognormvariate(1.2, 1.0)), ctx.now)
    if status in ("resolved", "closed"):
        first_contact = rng.random() < 0.22
        resolved = (
            first_response
            if first_contact
            else min(first_response + timedelta(days=rng.lognormvariate(0.9, 0.8)), ctx.now)
        )
        if status == "closed":
            closed = min(resolved + timedelta(days=rng.uniform(0.5, 4)), ctx.now)
    escalation = rng.choices([0, 1, 2, 3], [90, 7, 2.5, 0.5])[0]
    complaint_id = ctx.take_id("complaint")
    csat = None
    if resolved is not None and rng.random() < 0.7:
        csat = max(1, min(5, round(rng.gauss(4.1 if escalation == 0 else 3.0, 0.9))))
    retention = "unknown"
    if closed is not None and (ctx.now - closed).days > 30:
        stayed = 0.93 if (csat or 3) >= 4 else 0.7
        retention = "stayed" if rng.random() < stayed else "left"
    category = pair[1]
    # Source outcomes from a generator of their own, so the figures above stay as they were.
    outcome_rng = random.Random(complaint_id)
    timely = None
    if first_response is not None:
        timely = first_response - received <= timedelta(hours=24)
    disputed = None
    if closed is not None:
        disputed = outcome_rng.random() < (0.3 if (csat or 3) < 4 else 0.04)
    return {
        "id": complaint_id,
        "reference": ctx.reference("CMP", received.year),
        "title": TITLES[category % len(TITLES)],
        "description": "Customer reported the problem; details in the contact notes.",
        "received_at": received,
        "channel": rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0],
        "severity": rng.choices(SEVERITIES, SEVERITY_WEIGHTS)[0],
        "status": status,
        "product_or_service": rng.choice(["Broadband", "TV", "Mobile", "Home phone"]),
        "customer_id": rng.choice(complainants) if rng.random() < 0.8 else None,
        "process_id": pair[0],
        "category_id": category,
        "reporter_id": rng.choice(ctx.staff),
        "assignee_id": rng.choice(ctx.staff) if status != "received" else None,
        "escalation_level": escalation,
        "escalated_by_id": rng.choice(ctx.leads) if escalation else None,
        "escalated_at": first_response if escalation else None,
        "first_response_at": first_response,
        "resolved_at": resolved,
        "closed_at": closed,
        "first_contact_resolution": first_contact,
        **complaint_durations(received, first_response, resolved),
        "csat_score": csat,
        "csat_comment": "",
        "csat_recorded_at": resolved if csat else None,
        "retention_status": retention,
        "retention_follow_up_days": 30 if retention != "unknown" else None,
        "retention_checked_at": closed + timedelta(days=30) if retention != "unknown" else None,
        "timely_response": timely,
        "disputed": disputed,
        "public_response": (
            "Company has responded to the customer and chooses not to provide a public response"
            if closed is not None and outcome_rng.random() < 0.3
            else None
        ),
        "region": outcome_rng.choice(REGIONS),
        "source_system": None,
        "external_id": None,
        "version": 1,
        **stamps(ctx, received),
    }


REGIONS = ["CA", "TX", "FL", "NY", "IL", "PA", "OH", "GA"]

TITLES = [
    "Charged twice this month",
    "No service since this morning",
    "Speed far below plan",
    "Technician never arrived",
    "New connection not working",
    "Agent was dismissive",
    "Unexpected data cap charge",
    "Price went up without notice",
    "Router keeps rebooting",
    "On hold for over an hour",
]


def _recovery_rows(ctx: SeedContext, complaint: dict) -> list[dict]:
    if complaint["first_response_at"] is None or ctx.rng.random() > 0.65:
        return []
    rng = ctx.rng
    done_at = complaint["resolved_at"] or complaint["first_response_at"]
    kinds = ["apology"]
    if rng.random() < 0.35:
        kinds.append("explanation")
    if rng.random() < 0.3:
        kinds.append(
            rng.choices(["refund", "compensation", "goodwill", "replacement"], [6, 2, 2, 1])[0]
        )
    rows = []
    for kind in kinds:
        money = kind in ("refund", "compensation", "goodwill")
        rows.append(
            {
                "id": ctx.take_id("recovery_action"),
                "complaint_id": complaint["id"],
                "kind": kind,
                "description": f"{kind.capitalize()} given to the customer.",
                "amount": Decimal(rng.randint(5, 250)) if money else None,
                "currency": "EUR" if money else None,
                "done_at": done_at,
                "done_by_id": complaint["assignee_id"] or rng.choice(ctx.staff),
                **stamps(ctx, done_at),
            }
        )
    return rows
