"""What the demo seeders share: the seeding context, id and reference allocation, bulk inserts."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Connection

from app.accounts.models import User
from app.capa.models import Capa, EffectivenessCheck, TrainingAssignment
from app.complaints.models import Complaint, RecoveryAction
from app.core.audit import AuditAction, PendingEvent, append_events
from app.core.permissions import Role
from app.core.references import ReferenceCounter, format_reference
from app.nonconformities.models import Nonconformity
from app.organisation.models import Category, Customer, Process
from app.rca.models import EightDSection, RootCause, RootCauseAnalysis, WhyStep

BATCH = 5_000


class SeedError(Exception):
    """The database lacks what the demo loop builds on (users, processes, categories)."""


@dataclass
class LoopSeedResult:
    complaints: int = 0
    recovery_actions: int = 0
    nonconformities: int = 0
    analyses: int = 0
    capas: int = 0
    trainings: int = 0
    checks: int = 0
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class SeedContext:
    connection: Connection
    rng: random.Random
    now: datetime
    staff: list[int]
    leads: list[int]
    processes: list[int]
    categories: list[int]
    customers: list[int]
    next_ids: dict[str, int] = field(default_factory=dict)
    counters: dict[tuple[str, int], int] = field(default_factory=dict)

    def take_id(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def reference(self, prefix: str, year: int) -> str:
        number = self.counters.get((prefix, year), 0) + 1
        self.counters[(prefix, year)] = number
        return format_reference(prefix, year, number)


# --- set-up and finishing ---------------------------------------------------------------------


def make_context(connection: Connection, seed: int, now: datetime) -> SeedContext:
    def ids(statement) -> list[int]:
        return list(connection.execute(statement).scalars())

    staff = ids(
        select(User.id).where(User.active, User.role.in_([Role.CONTRIBUTOR, Role.QUALITY_LEAD]))
    )
    leads = ids(select(User.id).where(User.active, User.role == Role.QUALITY_LEAD))
    processes = ids(select(Process.id).where(Process.active).order_by(Process.id))
    categories = ids(select(Category.id).where(Category.active).order_by(Category.id))
    if not staff or not leads or not processes or not categories:
        raise SeedError(
            "Demo complaints need active quality leads, processes and categories: "
            "run seed-demo on an empty database first."
        )
    ctx = SeedContext(
        connection=connection,
        rng=random.Random(seed),
        now=now.astimezone(UTC).replace(microsecond=0),
        staff=staff,
        leads=leads,
        processes=processes,
        categories=categories,
        customers=ids(select(Customer.id).where(Customer.active)),
    )
    for model in (
        Complaint,
        RecoveryAction,
        Nonconformity,
        RootCauseAnalysis,
        WhyStep,
        EightDSection,
        RootCause,
        Capa,
        TrainingAssignment,
        EffectivenessCheck,
        Customer,
    ):
        table = model.__table__
        ctx.next_ids[table.name] = (
            connection.execute(select(func.max(table.c.id))).scalar() or 0
        ) + 1
    for prefix, year, last in connection.execute(
        select(ReferenceCounter.prefix, ReferenceCounter.year, ReferenceCounter.last_value)
    ):
        ctx.counters[(prefix, year)] = last
    return ctx


def bulk_insert(ctx: SeedContext, table, rows: list[dict], result: LoopSeedResult) -> None:
    if rows:
        ctx.connection.execute(insert(table), rows)
        result.counts[table.name] = result.counts.get(table.name, 0) + len(rows)


def stamps(ctx: SeedContext, when: datetime) -> dict:
    return {"created_at": when, "updated_at": when}


# --- finishing ----------------------------------------------------------------------------------


def finish(ctx: SeedContext, result: LoopSeedResult) -> None:
    connection = ctx.connection
    for (prefix, year), last in ctx.counters.items():
        updated = connection.execute(
            ReferenceCounter.__table__.update()
            .where(ReferenceCounter.prefix == prefix, ReferenceCounter.year == year)
            .values(last_value=last)
        )
        if updated.rowcount == 0:
            connection.execute(
                insert(ReferenceCounter.__table__).values(prefix=prefix, year=year, last_value=last)
            )
    if connection.dialect.name == "postgresql":
        # Ids were given explicitly; move each sequence past them for the ORM's next insert.
        for table in ctx.next_ids:
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
                )
            )
    events = [
        PendingEvent(
            AuditAction.CREATE,
            table,
            None,
            {"seeded_rows": count},
            reason="demo data from seed-demo (bulk insert)",
        )
        for table, count in sorted(result.counts.items())
    ]
    append_events(connection, events)
