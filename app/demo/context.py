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
from app.core.audit import bulk_create_events
from app.core.audit_labels import lookup_labels, model_for
from app.core.permissions import Role
from app.core.references import ReferenceCounter, format_reference
from app.nonconformities.models import Nonconformity
from app.organisation.models import Category, Customer, Process
from app.rca.models import EightDSection, RootCause, RootCauseAnalysis, WhyStep

BATCH = 5_000
SEED_REASON = "demo data from seed-demo (bulk insert)"


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
    # Names of records the seeded rows point to (customers, users, processes…), looked up once.
    names: dict[tuple[str, str], str] = field(default_factory=dict)

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


def bulk_insert(
    ctx: SeedContext,
    table,
    rows: list[dict],
    result: LoopSeedResult,
    links: dict[int, dict[str, list[dict]]] | None = None,
) -> None:
    """Insert `rows`; for an audited table, write each row's own `create` event too (with the
    names of the records it points to and, from `links`, the records it is linked to), so a
    seeded record's history reads like one made through the app."""
    if not rows:
        return
    ctx.connection.execute(insert(table), rows)
    result.counts[table.name] = result.counts.get(table.name, 0) + len(rows)
    model = model_for(table.name)
    if model is not None:
        for start in range(0, len(rows), BATCH):
            bulk_create_events(
                ctx.connection,
                model,
                rows[start : start + BATCH],
                links=links,
                names=ctx.names,
                reason=SEED_REASON,
            )


def link_members(
    ctx: SeedContext,
    association_rows: list[dict],
    owner_key: str,
    member_key: str,
    member_type: str,
    named: dict[int, str] | None = None,
) -> dict[int, list[dict]]:
    """Owner id → its linked records as a create event lists them (`{"id", "label"}`), from the
    rows of an association table; names come from `named` or one lookup."""
    ids = {row[member_key] for row in association_rows}
    names = dict(named or {})
    missing = [value for value in ids if value not in names]
    if missing:
        for (_, record_id), label in lookup_labels(ctx.connection, {member_type: missing}).items():
            names[int(record_id)] = label
    members: dict[int, list[dict]] = {}
    for row in association_rows:
        member = row[member_key]
        members.setdefault(row[owner_key], []).append({"id": member, "label": names.get(member)})
    return members


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
    # Every seeded record has its own create event (written by bulk_insert), its links on it.
