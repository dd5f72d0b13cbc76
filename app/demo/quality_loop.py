"""The quality loop as demo data, at any scale: complaints with recovery, nonconformities, analyses,
CAPAs mapped to principles, checks and trainings.

Rows go in with bulk Core inserts, batch by batch, because a million complaints through the ORM
would take hours. The patterns are realistic on purpose, so dashboards and the recurring-failure
review have something to find: a few process × category pairs carry most complaints (Pareto), one
pair steps up for the last ten weeks, one bursts for a single week, weekdays are busier than
weekends and winter busier than summer. Every seeded record gets its own `create` audit event
(built in bulk, chained like any other), so its history shows where it came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.engine import Connection

from app.capa.models import (
    Capa,
    EffectivenessCheck,
    TrainingAssignment,
    capa_nonconformity,
    capa_principle,
    capa_root_cause,
)
from app.demo.complaints import PERIODS, TITLES, seed_complaints
from app.demo.context import (
    LoopSeedResult,
    SeedContext,
    SeedError,
    bulk_insert,
    finish,
    link_members,
    make_context,
    stamps,
)
from app.demo.signatures import owner_leaving_a_signer, seed_signatures
from app.nonconformities.models import Nonconformity, complaint_nonconformity
from app.rca.models import EIGHT_D_DISCIPLINES, EightDSection, RootCause, RootCauseAnalysis, WhyStep

__all__ = ["LoopSeedResult", "SeedError", "seed_quality_loop"]

CAUSE_CATEGORIES = ["method", "people", "equipment", "measurement", "materials", "environment"]
CAUSE_WEIGHTS = [35, 25, 15, 10, 8, 7]


def seed_quality_loop(
    connection: Connection,
    complaint_count: int,
    *,
    seed: int = 20261124,
    now: datetime | None = None,
    progress: Callable[[int], None] = lambda done: None,
) -> LoopSeedResult:
    """Add `complaint_count` complaints and the loop around them, in the caller's transaction."""
    if complaint_count < 0:
        raise SeedError("The number of complaints cannot be negative.")
    ctx = make_context(connection, seed, now or datetime.now(UTC))
    if connection.dialect.name == "sqlite":
        # Each seeded row has its audit event, whose two unique hash indexes take random-order
        # inserts: a 64 MiB page cache (this connection only) keeps them from thrashing the disk.
        connection.exec_driver_sql("PRAGMA cache_size = -65536")
    result = LoopSeedResult()
    buckets = seed_complaints(ctx, complaint_count, result, progress)
    _seed_nonconformities(ctx, buckets, complaint_count, result)
    finish(ctx, result)
    return result


# --- nonconformities, analyses, CAPAs -----------------------------------------------------------


def _seed_nonconformities(
    ctx: SeedContext,
    buckets: dict[tuple[int, int], list[tuple[int, datetime]]],
    complaint_count: int,
    result: LoopSeedResult,
) -> None:
    """Nonconformities from the busiest (pair, fortnight) buckets, about one per 250 complaints
    and at least one a fortnight: every fortnight's busiest bucket first, then every fortnight's
    second, and so on. So the loop runs all year up to today, and any window of the dashboard
    holds records at every stage (detected, analysed, verified, closed). Each is linked to the
    complaints of its bucket and, when old enough, analysed and acted on."""
    wanted = max(PERIODS, complaint_count // 250) if complaint_count else 0
    by_period: dict[int, list[tuple[tuple[int, int], list[tuple[int, datetime]]]]] = {}
    for key, members in buckets.items():
        by_period.setdefault(key[1], []).append((key, members))
    ranked = []
    for period, entries in by_period.items():
        entries.sort(key=lambda item: (-len(item[1]), item[0]))
        ranked.extend((rank, period, entry) for rank, entry in enumerate(entries))
    ranked.sort(key=lambda item: (item[0], item[1]))
    chosen = [entry for _, _, entry in ranked[:wanted]]
    rows: dict[str, list[dict]] = {}
    principles = list(range(1, 9))
    for (pair_index, _period), members in sorted(chosen, key=lambda item: item[1][0][1]):
        process_id = ctx.processes[pair_index // len(ctx.categories)]
        category_id = ctx.categories[pair_index % len(ctx.categories)]
        detected = max(received for _, received in members) + timedelta(hours=6)
        detected = min(detected, ctx.now)
        _nonconformity_rows(ctx, rows, members, process_id, category_id, detected, principles)
    links = _links(ctx, rows)
    for model in (
        Nonconformity,
        RootCauseAnalysis,
        WhyStep,
        EightDSection,
        RootCause,
        Capa,
        TrainingAssignment,
        EffectivenessCheck,
    ):
        bulk_insert(
            ctx, model.__table__, rows.get(model.__tablename__, []), result, links.get(model)
        )
    for table in (complaint_nonconformity, capa_nonconformity, capa_principle, capa_root_cause):
        bulk_insert(ctx, table, rows.get(table.name, []), result)
    seed_signatures(ctx, rows, result)
    result.nonconformities = len(rows.get("nonconformity", []))
    result.analyses = len(rows.get("root_cause_analysis", []))
    result.capas = len(rows.get("capa", []))
    result.trainings = len(rows.get("training_assignment", []))
    result.checks = len(rows.get("effectiveness_check", []))


def _links(ctx: SeedContext, rows: dict[str, list[dict]]) -> dict[type, dict[int, dict]]:
    """The initial links of each seeded nonconformity and CAPA, as their create events list them
    (the association rows themselves have no events: they are on their owners')."""
    nc_refs = {row["id"]: row["reference"] for row in rows.get("nonconformity", [])}
    statements = {row["id"]: row["statement"] for row in rows.get("root_cause", [])}
    by_owner: dict[type, dict[int, dict]] = {Nonconformity: {}, Capa: {}}
    for owner, key, table, owner_key, member_key, member_type, named in (
        (
            Nonconformity,
            "complaints",
            "complaint_nonconformity",
            "nonconformity_id",
            "complaint_id",
            "complaint",
            None,
        ),
        (
            Capa,
            "nonconformities",
            "capa_nonconformity",
            "capa_id",
            "nonconformity_id",
            "nonconformity",
            nc_refs,
        ),
        (Capa, "principles", "capa_principle", "capa_id", "principle_id", "tqm_principle", None),
        (
            Capa,
            "root_causes",
            "capa_root_cause",
            "capa_id",
            "root_cause_id",
            "root_cause",
            statements,
        ),
    ):
        members = link_members(ctx, rows.get(table, []), owner_key, member_key, member_type, named)
        for owner_id, linked in members.items():
            by_owner[owner].setdefault(owner_id, {})[key] = linked
    return by_owner


@dataclass(frozen=True)
class CapaTimeline:
    """When a seeded CAPA was planned, implemented, checked and closed, and where it stands now:
    the status follows from the dates, so every record's status matches its timestamps."""

    status: str
    planned: datetime
    implemented: datetime | None
    checked: datetime | None
    passed: bool
    closed: datetime | None


def _capa_timeline(ctx: SeedContext, detected: datetime, first: bool) -> CapaTimeline:
    """The first CAPA of a nonconformity is never stalled and passes its check (so every
    window of the dashboard has verified and closed CAPAs); a later one may stall in progress
    or fail its check. Implementation takes 10–55 days against a 45-day due date, so some are
    late; the check is 31 days after implementation, closure 3–14 days after a passed check."""
    rng = ctx.rng
    planned = detected + timedelta(days=4)
    implemented = planned + timedelta(days=rng.randint(10, 55))
    checked = implemented + timedelta(days=31)
    closed = checked + timedelta(days=rng.randint(3, 14))
    stalled = rng.random() < 0.15 and not first
    passed = first or rng.random() < 0.7
    now = ctx.now
    if now < planned + timedelta(days=2):
        return CapaTimeline("planned", planned, None, None, False, None)
    if stalled or now < implemented:
        return CapaTimeline("in_progress", planned, None, None, False, None)
    if now < implemented + timedelta(days=7):
        return CapaTimeline("implemented", planned, implemented, None, False, None)
    if now < checked:
        return CapaTimeline("verifying", planned, implemented, None, False, None)
    if not passed:
        return CapaTimeline("ineffective", planned, implemented, checked, False, None)
    if now < closed:
        return CapaTimeline("effective", planned, implemented, checked, True, None)
    return CapaTimeline("closed", planned, implemented, checked, True, closed)


def _nonconformity_rows(ctx, rows, members, process_id, category_id, detected, principles) -> None:
    rng = ctx.rng
    age = (ctx.now - detected).days
    nc_id = ctx.take_id("nonconformity")
    owner = rng.choice(ctx.leads)
    analysed = age > 10
    capa_count = rng.randint(1, 2) if analysed else 0
    timelines = [_capa_timeline(ctx, detected, index == 0) for index in range(capa_count)]
    statuses = [timeline.status for timeline in timelines]
    closed_at = None
    if not analysed:
        nc_status = "open" if age < 3 else "contained"
    elif all(status == "closed" for status in statuses) and (
        max(timeline.closed for timeline in timelines) + timedelta(days=1) <= ctx.now
    ):
        nc_status = "closed"
        closed_at = max(timeline.closed for timeline in timelines) + timedelta(days=1)
    elif all(status in ("implemented", "verifying", "effective", "closed") for status in statuses):
        nc_status = "verifying"
    else:
        nc_status = "action_planned"
    if nc_status == "closed":
        owner = owner_leaving_a_signer(ctx, owner)  # its closure is signed by someone else
    severity, occurrence, detection = rng.randint(3, 9), rng.randint(2, 8), rng.randint(2, 7)
    rows.setdefault("nonconformity", []).append(
        {
            "id": nc_id,
            "reference": ctx.reference("NC", detected.year),
            "title": f"Repeated complaints: {TITLES[category_id % len(TITLES)].lower()}",
            "description": f"{len(members)} complaints with the same process and category.",
            "source": "customer_complaint",
            "status": nc_status,
            "process_id": process_id,
            "category_id": category_id,
            "owner_id": owner,
            "detected_at": detected,
            "severity": severity,
            "occurrence": occurrence,
            "detection": detection,
            "containment_action": "Affected customers contacted; workaround published.",
            "contained_at": detected + timedelta(hours=8) if nc_status != "open" else None,
            "closed_at": closed_at,
            "cancel_reason": "",
            "version": 1,
            **stamps(ctx, detected),
        }
    )
    rows.setdefault("complaint_nonconformity", []).extend(
        {"complaint_id": complaint_id, "nonconformity_id": nc_id} for complaint_id, _ in members
    )
    if not analysed:
        return
    root_cause_ids = _analysis_rows(ctx, rows, nc_id, owner, detected)
    for timeline in timelines:
        _capa_rows(ctx, rows, nc_id, root_cause_ids, owner, timeline, principles)


def _analysis_rows(ctx, rows, nc_id, owner, detected) -> list[int]:
    rng = ctx.rng
    analysis_id = ctx.take_id("root_cause_analysis")
    method = rng.choices(["five_whys", "ishikawa", "eight_d"], [60, 25, 15])[0]
    started = detected + timedelta(days=2)
    rows.setdefault("root_cause_analysis", []).append(
        {
            "id": analysis_id,
            "nonconformity_id": nc_id,
            "method": method,
            "problem_statement": "Why do customers keep reporting this failure?",
            "created_by_id": owner,
            "version": 1,
            **stamps(ctx, started),
        }
    )
    if method == "five_whys":
        for position in range(1, rng.randint(3, 5) + 1):
            rows.setdefault("why_step", []).append(
                {
                    "id": ctx.take_id("why_step"),
                    "analysis_id": analysis_id,
                    "position": position,
                    "why": f"Why did step {position} happen?",
                    "because": f"Because of the condition found at level {position}.",
                }
            )
    elif method == "eight_d":
        for discipline, title in EIGHT_D_DISCIPLINES.items():
            rows.setdefault("eight_d_section", []).append(
                {
                    "id": ctx.take_id("eight_d_section"),
                    "analysis_id": analysis_id,
                    "discipline": discipline,
                    "content": f"{title}: recorded by the team.",
                }
            )
    cause_ids = []
    for _ in range(rng.randint(1, 2)):
        cause_id = ctx.take_id("root_cause")
        verified = rng.random() < 0.7
        rows.setdefault("root_cause", []).append(
            {
                "id": cause_id,
                "analysis_id": analysis_id,
                "statement": "The process step lacked a check that would catch the error.",
                "cause_category": rng.choices(CAUSE_CATEGORIES, CAUSE_WEIGHTS)[0],
                "verified": verified,
                "verified_by_id": owner if verified else None,
                "verified_at": started + timedelta(days=1) if verified else None,
                **stamps(ctx, started),
            }
        )
        cause_ids.append(cause_id)
    return cause_ids


def _capa_rows(ctx, rows, nc_id, root_cause_ids, owner, timeline: CapaTimeline, principles):
    rng = ctx.rng
    capa_id = ctx.take_id("capa")
    planned = timeline.planned
    status = timeline.status
    dimension = "employee" if rng.random() < 0.3 else "process"
    is_implemented = timeline.implemented is not None
    capa_owner = rng.choice(ctx.staff)
    if status in ("effective", "closed"):
        capa_owner = owner_leaving_a_signer(ctx, capa_owner)  # signed by another quality lead
    rows.setdefault("capa", []).append(
        {
            "id": capa_id,
            "reference": ctx.reference("CAPA", planned.year),
            "title": "Add a verification step and brief the team",
            "description": "Change the work instruction so the failure is caught early.",
            "kind": rng.choices(["corrective", "preventive", "correction"], [70, 20, 10])[0],
            "recovery_dimension": dimension,
            "status": status,
            "owner_id": capa_owner,
            "due_date": (planned + timedelta(days=45)).date(),
            "cost": Decimal(rng.randint(200, 8_000)),
            "implemented_at": timeline.implemented,
            "implemented_by_id": capa_owner if is_implemented else None,
            "closed_at": timeline.closed,
            "follow_up_of_id": None,
            "version": 1,
            **stamps(ctx, planned),
        }
    )
    rows.setdefault("capa_nonconformity", []).append(
        {"capa_id": capa_id, "nonconformity_id": nc_id}
    )
    rows.setdefault("capa_principle", []).extend(
        {"capa_id": capa_id, "principle_id": principle}
        for principle in rng.sample(principles, rng.randint(1, 3))
    )
    rows.setdefault("capa_root_cause", []).extend(
        {"capa_id": capa_id, "root_cause_id": cause_id} for cause_id in root_cause_ids
    )
    if dimension == "employee":
        for _ in range(rng.randint(2, 4)):
            due = planned + timedelta(days=21)
            rows.setdefault("training_assignment", []).append(
                {
                    "id": ctx.take_id("training_assignment"),
                    "capa_id": capa_id,
                    "staff_id": rng.choice(ctx.staff),
                    "topic": "Handling this failure with the customer",
                    "due_date": due.date(),
                    "completed_at": min(due, ctx.now) if is_implemented else None,
                    "version": 1,
                    **stamps(ctx, planned),
                }
            )
    if status in ("verifying", "effective", "closed", "ineffective"):
        implemented = timeline.implemented
        result = "passed" if timeline.passed else "failed"
        if timeline.checked is None:
            result = "pending"
        automatic = rng.random() < 0.6
        rows.setdefault("effectiveness_check", []).append(
            {
                "id": ctx.take_id("effectiveness_check"),
                "capa_id": capa_id,
                "criterion": "No new complaint with the same process and category for 30 days",
                "method": "no_recurrence" if automatic else "manual_review",
                "window_days": 30 if automatic else None,
                "due_date": (implemented + timedelta(days=30)).date(),
                "result": result,
                "evidence": "" if result == "pending" else f"Check {result} on the recorded data.",
                "checked_by_id": owner if result != "pending" else None,
                "checked_at": timeline.checked,
                "version": 1,
                **stamps(ctx, implemented),
            }
        )
