"""Daily rollups of the additive complaint figures, exact at every commit.

The dashboard's complaint counts, sums and rates, complaints per day and per category, and the
recovery costs are read from three small tables instead of the complaints themselves:

- `complaint_day_rollup`: one row per UTC day of receipt × process × channel, holding the sums in
  `COMPLAINT_MEASURES` (a count, a sum of seconds, a count of complaints meeting a condition) over
  the complaints of that cell;
- `complaint_category_day_rollup`: complaints per UTC day × process × channel × category;
- `recovery_cost_day_rollup`: one row per UTC day an action was done × the complaint's process ×
  channel, holding the summed amounts of the recovery actions that cost money.

The site is not a key: a complaint belongs to a site through its process, so a site filter reads
the site's processes, exactly as the queries on the complaints do, and moving a process to another
site changes nothing stored here. Complaints without a process or category are kept under key 0
(`NONE_KEY`; ids start at 1): a NULL in a primary key would never match ON CONFLICT.

This module owns the rules, and every write keeps the tables exact in its own transaction:

- the ORM (forms, workflow transitions, reopenings, the API, deletions): `_before_flush` and
  `_after_flush` take each touched complaint's and recovery action's contribution out as it is
  in the database before the flush and put it back as it is after: a grouped SELECT of the cells,
  then one upsert per cell (`INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n`), which
  concurrent writers on PostgreSQL may run at the same time without losing an addition;
- bulk inserts that bypass the ORM (demo seeding, file import) call `add_complaints` and
  `add_recovery_actions` with the new ids;
- `rebuild()` (`flask --app wsgi metrics rebuild`) recomputes both tables from the base tables,
  for after a restore from an old backup or a hand edit of the database.

Any other write to `complaint` or `recovery_action` outside the ORM must call this module too.
Percentiles are not additive and are not kept here (see `app.metrics.kpis.percentiles`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    Numeric,
    String,
    and_,
    bindparam,
    case,
    delete,
    event,
    func,
    inspect,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session
from sqlalchemy.sql.expression import ColumnElement, TextClause

from app.complaints.models import Complaint, RecoveryAction, RetentionStatus
from app.complaints.services import RESOLVED_STATUSES
from app.core.db import Base
from app.metrics.sql import utc_day
from app.organisation.models import Process

NONE_KEY = 0
# A complaint counts as recovered when it was resolved and the customer rated it at least this.
RECOVERED_MIN_CSAT = 4


# Resolved means resolved or closed: the workflow sets the resolution time exactly then (and
# clears it on reopening), but an imported complaint may be resolved at a time its source does not
# give, so the status says it (the covering index holds the status).
def resolved() -> ColumnElement[bool]:
    return Complaint.status.in_(sorted(RESOLVED_STATUSES))


def recovered() -> ColumnElement[bool]:
    return and_(resolved(), Complaint.csat_score >= RECOVERED_MIN_CSAT)


def not_recovered() -> ColumnElement[bool]:
    """Unresolved, rated below RECOVERED_MIN_CSAT, or, where no CSAT exists, disputed by the
    customer (the source system's dispute outcome; docs/metrics.md)."""
    return or_(
        ~resolved(),
        Complaint.csat_score < RECOVERED_MIN_CSAT,
        and_(Complaint.csat_score.is_(None), Complaint.disputed.is_(True)),
    )


def _when(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _complaint_measures() -> dict[str, ColumnElement[Any]]:
    """Each measure's value for one complaint; a rollup row holds their sums over its cell."""
    response = Complaint.first_response_seconds
    resolution = Complaint.resolution_seconds
    csat = Complaint.csat_score
    stayed = Complaint.retention_status == RetentionStatus.STAYED
    left = Complaint.retention_status == RetentionStatus.LEFT
    fcr = Complaint.first_contact_resolution
    return {
        "complaints": literal_column("1"),
        "responded": _when(response.is_not(None)),
        "response_seconds": func.coalesce(response, 0),
        "resolutions_timed": _when(resolution.is_not(None)),
        "resolution_seconds": func.coalesce(resolution, 0),
        "first_contact_resolved": _when(and_(fcr.is_(True), resolved())),
        "first_contact_known": _when(and_(fcr.is_not(None), resolved())),
        "escalated": _when(Complaint.escalation_level > 0),
        "csat_count": _when(csat.is_not(None)),
        "csat_sum": func.coalesce(csat, 0),
        "retained": _when(stayed),
        "lost": _when(left),
        "retained_recovered": _when(and_(stayed, recovered())),
        "lost_recovered": _when(and_(left, recovered())),
        "retained_not_recovered": _when(and_(stayed, not_recovered())),
        "lost_not_recovered": _when(and_(left, not_recovered())),
        "timely": _when(Complaint.timely_response.is_(True)),
        "timely_known": _when(Complaint.timely_response.is_not(None)),
        "disputed": _when(Complaint.disputed.is_(True)),
        "dispute_known": _when(Complaint.disputed.is_not(None)),
    }


COMPLAINT_MEASURES: tuple[str, ...] = tuple(_complaint_measures())


class ComplaintDayRollup(Base):
    """Sums of `COMPLAINT_MEASURES` over the complaints received on one UTC day with one process
    and channel."""

    __tablename__ = "complaint_day_rollup"
    # On SQLite the rows are stored in key order (day first), so a period is one contiguous read.
    __table_args__ = {"sqlite_with_rowid": False}

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    process_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    complaints: Mapped[int] = mapped_column(Integer, default=0)
    responded: Mapped[int] = mapped_column(Integer, default=0)
    response_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    resolutions_timed: Mapped[int] = mapped_column(Integer, default=0)
    resolution_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    first_contact_resolved: Mapped[int] = mapped_column(Integer, default=0)
    first_contact_known: Mapped[int] = mapped_column(Integer, default=0)
    escalated: Mapped[int] = mapped_column(Integer, default=0)
    csat_count: Mapped[int] = mapped_column(Integer, default=0)
    csat_sum: Mapped[int] = mapped_column(Integer, default=0)
    retained: Mapped[int] = mapped_column(Integer, default=0)
    lost: Mapped[int] = mapped_column(Integer, default=0)
    retained_recovered: Mapped[int] = mapped_column(Integer, default=0)
    lost_recovered: Mapped[int] = mapped_column(Integer, default=0)
    retained_not_recovered: Mapped[int] = mapped_column(Integer, default=0)
    lost_not_recovered: Mapped[int] = mapped_column(Integer, default=0)
    timely: Mapped[int] = mapped_column(Integer, default=0)
    timely_known: Mapped[int] = mapped_column(Integer, default=0)
    disputed: Mapped[int] = mapped_column(Integer, default=0)
    dispute_known: Mapped[int] = mapped_column(Integer, default=0)


class ComplaintCategoryDayRollup(Base):
    """Complaints received on one UTC day per process, channel and category: the category Pareto
    chart's counts (kept apart so the sums above are read from 7× fewer rows)."""

    __tablename__ = "complaint_category_day_rollup"
    __table_args__ = {"sqlite_with_rowid": False}

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    process_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    category_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaints: Mapped[int] = mapped_column(Integer, default=0)


class RecoveryCostDayRollup(Base):
    """Summed amounts of the recovery actions done on one UTC day on complaints of one process
    and channel (only actions with an amount)."""

    __tablename__ = "recovery_cost_day_rollup"
    __table_args__ = {"sqlite_with_rowid": False}

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    process_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=Decimal("0"))


def _key(column: ColumnElement[Any]) -> ColumnElement[int]:
    # A literal, not a bound parameter: PostgreSQL must see the grouped and selected expressions
    # as the same.
    return func.coalesce(column, literal_column(str(NONE_KEY)))


def _complaint_cells(sign: int, *conditions: ColumnElement[bool]) -> Any:
    """The contribution of the complaints matching `conditions` to ComplaintDayRollup, per
    cell, times `sign`."""
    keys = (utc_day(Complaint.received_at), _key(Complaint.process_id), Complaint.channel)
    factor = literal_column(str(sign))
    sums = [factor * func.sum(value) for value in _complaint_measures().values()]
    return select(*keys, *sums).where(*conditions).group_by(*keys)


def _category_cells(sign: int, *conditions: ColumnElement[bool]) -> Any:
    keys = (
        utc_day(Complaint.received_at),
        _key(Complaint.process_id),
        Complaint.channel,
        _key(Complaint.category_id),
    )
    return (
        select(*keys, literal_column(str(sign)) * func.count()).where(*conditions).group_by(*keys)
    )


def _cost_cells(sign: int, *conditions: ColumnElement[bool]) -> Any:
    keys = (utc_day(RecoveryAction.done_at), _key(Complaint.process_id), Complaint.channel)
    return (
        select(*keys, literal_column(str(sign)) * func.sum(RecoveryAction.amount))
        .join(Complaint, Complaint.id == RecoveryAction.complaint_id)
        .where(RecoveryAction.amount.is_not(None), *conditions)
        .group_by(*keys)
    )


@dataclass(frozen=True)
class _Rollup:
    model: Any
    cells: Callable[..., Any]  # (sign, *conditions) -> SELECT of the key columns, then measures

    @property
    def table(self) -> Any:
        return self.model.__table__

    @property
    def keys(self) -> list[str]:
        return [column.name for column in self.table.primary_key.columns]

    @property
    def measures(self) -> list[str]:
        return [column.name for column in self.table.columns if not column.primary_key]


_COMPLAINT_ROLLUPS = (
    _Rollup(ComplaintDayRollup, _complaint_cells),
    _Rollup(ComplaintCategoryDayRollup, _category_cells),
)
_COST_ROLLUP = _Rollup(RecoveryCostDayRollup, _cost_cells)
ROLLUPS = (*_COMPLAINT_ROLLUPS, _COST_ROLLUP)


@functools.cache
def _adding(rollup: _Rollup) -> TextClause:
    """`INSERT … ON CONFLICT … DO UPDATE` adding a row's measures into its cell, the same SQL on
    SQLite and PostgreSQL, written once per table: the dialects' own insert constructs are not
    cached by SQLAlchemy, and compiling them anew took a third of a complaint's write."""
    table = rollup.table
    names = [*rollup.keys, *rollup.measures]
    added = ", ".join(f"{name} = {table.name}.{name} + excluded.{name}" for name in rollup.measures)
    return text(
        f"INSERT INTO {table.name} ({', '.join(names)}) "
        f"VALUES ({', '.join(':' + name for name in names)}) "
        f"ON CONFLICT ({', '.join(rollup.keys)}) DO UPDATE SET {added}"
    ).bindparams(*(bindparam(column.name, type_=column.type) for column in table.columns))


def _upsert(connection: Connection, rollup: _Rollup, cells: Any) -> None:
    """Add `cells` (a SELECT of the key columns, then the measures; or rows as dicts) into the
    rollup's table, cell by cell."""
    if not isinstance(cells, list):
        names = [*rollup.keys, *rollup.measures]
        cells = [dict(zip(names, row, strict=True)) for row in connection.execute(cells)]
    if not cells:
        return
    for row in cells:
        if isinstance(row["day"], str):  # SQLite hands the computed day back as text
            row["day"] = date.fromisoformat(row["day"])
    connection.execute(_adding(rollup), cells)


# Ids per statement, well inside SQLite's and PostgreSQL's parameter limits.
_CHUNK = 5_000


def _id_conditions(column: Any, ids: Iterable[int]) -> list[ColumnElement[bool]]:
    """Conditions that together select `ids`: a BETWEEN for a run of consecutive ids (bulk
    inserts), else IN lists of at most _CHUNK."""
    ordered = sorted(set(ids))
    if not ordered:
        return []
    if ordered[-1] - ordered[0] + 1 == len(ordered):
        return [column.between(ordered[0], ordered[-1])]
    return [column.in_(ordered[start : start + _CHUNK]) for start in range(0, len(ordered), _CHUNK)]


def _apply_complaints(connection: Connection, sign: int, ids: Iterable[int]) -> None:
    for condition in _id_conditions(Complaint.id, ids):
        for rollup in _COMPLAINT_ROLLUPS:
            _upsert(connection, rollup, rollup.cells(sign, condition))


def _apply_recovery_actions(connection: Connection, sign: int, ids: Iterable[int]) -> None:
    for condition in _id_conditions(RecoveryAction.id, ids):
        _upsert(connection, _COST_ROLLUP, _COST_ROLLUP.cells(sign, condition))


def add_complaints(connection: Connection, ids: Iterable[int]) -> None:
    """Count complaints just inserted without the ORM (their recovery actions are separate)."""
    _apply_complaints(connection, +1, ids)


def add_recovery_actions(connection: Connection, ids: Iterable[int]) -> None:
    """Count recovery actions just inserted without the ORM."""
    _apply_recovery_actions(connection, +1, ids)


@dataclass(frozen=True)
class RebuildResult:
    cells: int  # rows written, over the three tables
    corrected: int  # cells whose stored sums differed from the recomputed ones


def _cells(connection: Connection, rollup: _Rollup) -> dict[tuple, tuple]:
    """The table's rows as key → measures, leaving out cells that sum to nothing (a cell whose
    records all moved away keeps a row of zeros until a rebuild)."""
    table = rollup.table
    cells = {}
    for row in connection.execute(select(table)):
        values = tuple(row._mapping[table.c[name]] for name in rollup.measures)
        if any(values):
            cells[tuple(row._mapping[table.c[key]] for key in rollup.keys)] = values
    return cells


def rebuild(connection: Connection) -> RebuildResult:
    """Recompute the rollup tables from the complaints and recovery actions, in the caller's
    transaction, and say how many cells were wrong before."""
    written = corrected = 0
    for rollup in ROLLUPS:
        before = _cells(connection, rollup)
        connection.execute(delete(rollup.table))
        connection.execute(
            rollup.table.insert().from_select([*rollup.keys, *rollup.measures], rollup.cells(+1))
        )
        after = _cells(connection, rollup)
        written += len(after)
        corrected += sum(
            1 for key in before.keys() | after.keys() if before.get(key) != after.get(key)
        )
    return RebuildResult(written, corrected)


# --- keeping the rollups exact through the ORM ----------------------------------------------------

# The attributes whose change moves a record's contribution; relationships count by their
# foreign key (a complaint given a new `process` object has process_id set only during the flush).
_COMPLAINT_INPUTS = frozenset(
    {
        "received_at",
        "process_id",
        "process",
        "channel",
        "category_id",
        "category",
        "status",
        "first_response_at",
        "resolved_at",
        "first_response_seconds",
        "resolution_seconds",
        "first_contact_resolution",
        "escalation_level",
        "csat_score",
        "retention_status",
        "timely_response",
        "disputed",
    }
)
_ACTION_INPUTS = frozenset({"amount", "done_at", "complaint_id", "complaint"})
# Complaint attributes the cost rollup's keys come from.
_COST_KEY_INPUTS = frozenset({"process_id", "process", "channel"})
_TAKEN_OUT = "rollup_taken_out"


def _changed(obj: object, names: frozenset[str]) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names if name in attrs)


def _nothing_taken_out() -> dict[str, Any]:
    """What a flush has taken out so far: the ids of the records read, and their old cells."""
    return {"complaints": set(), "actions": set(), "cells": []}


def _taken_out(session: Session) -> dict[str, Any]:
    return session.info.setdefault(_TAKEN_OUT, _nothing_taken_out())


def _take_out(connection: Connection, taken: dict[str, Any], kind: str, ids: set[int]) -> None:
    """Read the contributions of records `ids` as stored now, to be subtracted after the flush.
    Only read here: every rollup row is locked (updated) in `_after_flush`, after the audit
    trail's chain lock, so concurrent writers on PostgreSQL queue on that lock instead of taking
    rollup rows in different orders (a deadlock)."""
    ids = ids - taken[kind]
    if not ids:
        return
    column, rollups = (
        (Complaint.id, _COMPLAINT_ROLLUPS)
        if kind == "complaints"
        else (RecoveryAction.id, (_COST_ROLLUP,))
    )
    for condition in _id_conditions(column, ids):
        for rollup in rollups:
            names = [*rollup.keys, *rollup.measures]
            found = connection.execute(rollup.cells(-1, condition))
            rows = [dict(zip(names, row, strict=True)) for row in found]
            taken["cells"].append((rollup, rows))
    taken[kind] |= ids


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    complaints: set[int] = set()
    actions: set[int] = set()
    cost_keys_moved: set[int] = set()
    for obj in session.dirty:
        if isinstance(obj, Complaint) and obj.id is not None and _changed(obj, _COMPLAINT_INPUTS):
            complaints.add(obj.id)
            if _changed(obj, _COST_KEY_INPUTS):
                cost_keys_moved.add(obj.id)
        elif (
            isinstance(obj, RecoveryAction) and obj.id is not None and _changed(obj, _ACTION_INPUTS)
        ):
            actions.add(obj.id)
    if not (complaints or actions):
        return
    connection = session.connection()
    for condition in _id_conditions(RecoveryAction.complaint_id, cost_keys_moved):
        actions.update(connection.scalars(select(RecoveryAction.id).where(condition)))
    taken = _taken_out(session)
    _take_out(connection, taken, "complaints", complaints)
    _take_out(connection, taken, "actions", actions)


def _take_out_deleted(connection: Connection, target: Any, kind: str) -> None:
    # Deletions are caught as the flush performs them (a cascade finds its rows only then),
    # unless `_before_flush` took the record out already.
    session = object_session(target)
    if session is None:
        taken = _nothing_taken_out()
        _take_out(connection, taken, kind, {target.id})
        for rollup, rows in taken["cells"]:
            _upsert(connection, rollup, rows)
        return
    _take_out(connection, _taken_out(session), kind, {target.id})


@event.listens_for(Complaint, "before_delete")
def _complaint_deleted(mapper: Any, connection: Connection, target: Complaint) -> None:
    _take_out_deleted(connection, target, "complaints")


@event.listens_for(RecoveryAction, "before_delete")
def _action_deleted(mapper: Any, connection: Connection, target: RecoveryAction) -> None:
    _take_out_deleted(connection, target, "actions")


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context: Any) -> None:
    taken = session.info.pop(_TAKEN_OUT, None) or _nothing_taken_out()
    complaints = set(taken["complaints"])
    actions = set(taken["actions"])
    for obj in session.new:
        if isinstance(obj, Complaint):
            complaints.add(obj.id)
        elif isinstance(obj, RecoveryAction):
            actions.add(obj.id)
    if not (complaints or actions):
        return
    connection = session.connection()
    for rollup, rows in taken["cells"]:
        _upsert(connection, rollup, rows)
    # Records deleted in this flush are gone, so they are not put back.
    _apply_complaints(connection, +1, complaints)
    _apply_recovery_actions(connection, +1, actions)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction: Any) -> None:
    # Nothing taken out was applied yet: a rolled-back flush leaves nothing to undo.
    session.info.pop(_TAKEN_OUT, None)


# --- reading --------------------------------------------------------------------------------------


def covers(start: datetime, end: datetime) -> bool:
    """Whether the period [start, end) is made of whole UTC days, as the rollups are."""
    return all(
        moment.astimezone(UTC).time() == time() and moment.tzinfo is not None
        for moment in (start, end)
    )


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _filters(
    table: Any,
    start: datetime,
    end: datetime,
    site_id: int | None,
    process_id: int | None,
    channel: str | None,
) -> list[ColumnElement[bool]]:
    conditions = [table.c.day >= _day(start), table.c.day < _day(end)]
    if process_id is not None:
        conditions.append(table.c.process_key == process_id)
    if site_id is not None:
        conditions.append(
            table.c.process_key.in_(select(Process.id).where(Process.site_id == site_id))
        )
    if channel:
        conditions.append(table.c.channel == str(channel))
    return conditions


def complaint_totals(session: Session, scope: Any) -> dict[str, int]:
    """The sums of every measure over the complaints received in `scope` (an
    `app.metrics.kpis.Scope` of whole days)."""
    table = ComplaintDayRollup.__table__
    row = session.execute(
        select(*(func.coalesce(func.sum(table.c[name]), 0) for name in COMPLAINT_MEASURES)).where(
            *_filters(table, scope.start, scope.end, scope.site_id, scope.process_id, scope.channel)
        )
    ).one()
    return {name: int(value) for name, value in zip(COMPLAINT_MEASURES, row, strict=True)}


def complaints_per_day(session: Session, scope: Any) -> list[tuple[date, int]]:
    """(UTC day, complaints received) for the days of `scope` that have any."""
    table = ComplaintDayRollup.__table__
    rows = session.execute(
        select(table.c.day, func.sum(table.c.complaints))
        .where(
            *_filters(table, scope.start, scope.end, scope.site_id, scope.process_id, scope.channel)
        )
        .group_by(table.c.day)
    )
    return [(day, int(count)) for day, count in rows if count]


def complaints_per_category(session: Session, scope: Any) -> list[tuple[int | None, int]]:
    """(category id or None, complaints received in `scope`), categories with any."""
    table = ComplaintCategoryDayRollup.__table__
    rows = session.execute(
        select(table.c.category_key, func.sum(table.c.complaints))
        .where(
            *_filters(table, scope.start, scope.end, scope.site_id, scope.process_id, scope.channel)
        )
        .group_by(table.c.category_key)
    )
    return [(None if key == NONE_KEY else key, int(count)) for key, count in rows if count]


def recovery_cost(session: Session, scope: Any) -> Decimal:
    """Amounts of the recovery actions done in `scope` on complaints matching its filters."""
    table = RecoveryCostDayRollup.__table__
    total = session.scalar(
        select(func.coalesce(func.sum(table.c.amount), 0)).where(
            *_filters(table, scope.start, scope.end, scope.site_id, scope.process_id, scope.channel)
        )
    )
    return Decimal(total or 0)
