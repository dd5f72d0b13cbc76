"""Reference data an import finds or builds: customers, processes and categories by name.

A mapped customer, process or category column names a record. `Lookups` finds the active record
of that name (ignoring case, surrounding spaces and doubled spaces), once per chunk of rows. What
happens to a name Loop does not know is the field's `if_missing`: reject the row (the default),
leave the field empty, or `create` the record. Created records are made through the ORM, so each
gets its own `create` event in the audit trail, once per spelling: "Credit card" and "credit card "
are one category, named as first met (a value map chooses the spelling: `"CC": "Credit card"`).
`planned_creations` lists, before anything is written, which names an import would create (the
preview shows them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select

from app.core.errors import ServiceError
from app.extensions import db
from app.intake.mapping import LOOKUP_FIELDS, Mapping, RowReader
from app.organisation.models import Category, Customer, CustomerSegment, Process

# The longest name each kind of record may have (its column's length).
NAME_MAX_LENGTH = {"customer": 200, "process": 200, "category": 120}
MODELS: dict[str, Any] = {"customer": Customer, "process": Process, "category": Category}


def clean_name(name: str) -> str:
    """The name as it is stored: surrounding spaces dropped, inner runs of spaces made one."""
    return " ".join(name.split())


def name_key(name: str) -> str:
    """The key names are matched by: the clean name, ignoring case."""
    return clean_name(name).casefold()


class Lookups:
    """Processes, categories and customers by name, read once per chunk of rows."""

    def __init__(self, mapping: Mapping, rows: Iterable[Any], reader: RowReader) -> None:
        self.by_kind: dict[str, dict[str, list[tuple[int, bool, str]]]] = {}
        if "process" in mapping.fields:
            self.by_kind["process"] = self._all(Process)
        if "category" in mapping.fields:
            self.by_kind["category"] = self._all(Category)
        if "customer" in mapping.fields:
            spec = mapping.fields["customer"]
            names = {name_key(reader.raw(spec, reader.clean(row.values))) for row in rows}
            names.discard("")
            self.by_kind["customer"] = self._customers(sorted(names))

    @staticmethod
    def _all(model: type[Process] | type[Category]) -> dict[str, list[tuple[int, bool, str]]]:
        found: dict[str, list[tuple[int, bool, str]]] = {}
        for record in db.session.execute(
            select(model.id, model.active, model.name).order_by(model.id)
        ):
            found.setdefault(name_key(record.name), []).append(tuple(record))
        return found

    @staticmethod
    def _customers(keys: list[str]) -> dict[str, list[tuple[int, bool, str]]]:
        found: dict[str, list[tuple[int, bool, str]]] = {}
        for start in range(0, len(keys), 500):
            for record in db.session.execute(
                select(Customer.id, Customer.active, Customer.name)
                .where(func.lower(Customer.name).in_(keys[start : start + 500]))
                .order_by(Customer.id)
            ):
                found.setdefault(name_key(record.name), []).append(tuple(record))
        return found

    def known(self, kind: str, name: str) -> bool:
        return bool(self.by_kind.get(kind, {}).get(name_key(name)))

    def resolve(self, kind: str, name: str, if_missing: str) -> int | str | None:
        """The id of the active record named `name`; "create" when it should be created; None
        when it may be left empty. Raises ServiceError otherwise."""
        matches = self.by_kind.get(kind, {}).get(name_key(name), [])
        active = [match for match in matches if match[1]]
        if len(active) == 1:
            return active[0][0]
        if len(active) > 1:
            raise ServiceError(
                f"Several active {kind}s are named “{name}”; the row cannot say which."
            )
        if matches:
            if if_missing == "leave_empty":
                return None
            raise ServiceError(f"The {kind} “{matches[0][2]}” is inactive.")
        if if_missing == "create":
            if len(clean_name(name)) > NAME_MAX_LENGTH[kind]:
                raise ServiceError(
                    f"A {kind} name may have at most {NAME_MAX_LENGTH[kind]} characters, so "
                    f"“{name[:40]}…” cannot be created."
                )
            return "create"
        if if_missing == "leave_empty":
            return None
        raise ServiceError(f"There is no {kind} named “{name}” in Loop.")


def create_records(wanted: dict[str, list[str]]) -> dict[tuple[str, str], int]:
    """Create the named records (kind → names, any spelling) once per name key, through the ORM
    (audited), and return their ids by (kind, name key). Customers are consumers."""
    made: dict[tuple[str, str], Any] = {}
    for kind, names in wanted.items():
        for name in names:
            key = (kind, name_key(name))
            if key in made:
                continue
            if kind == "customer":
                record: Any = Customer(
                    name=clean_name(name), segment=CustomerSegment.CONSUMER, active=True
                )
            else:
                record = MODELS[kind](name=clean_name(name), active=True)
            made[key] = record
    if made:
        db.session.add_all(made.values())
        db.session.flush()
    return {key: record.id for key, record in made.items()}


def planned_creations(mapping: Mapping, rows: Iterable[Any]) -> dict[str, list[str]]:
    """The names (first spelling met) the rows give for each field that creates missing records,
    and that no record in Loop has yet: what the import would create, kind by kind. (A name too
    long for its record is not among them: its rows are rejected, saying so.)"""
    kinds = [
        k for k in LOOKUP_FIELDS if k in mapping.fields and mapping.fields[k].if_missing == "create"
    ]
    if not kinds:
        return {}
    rows = list(rows)
    reader = RowReader(mapping)
    lookups = Lookups(mapping, rows, reader)
    planned: dict[str, dict[str, str]] = {kind: {} for kind in kinds}
    for row in rows:
        values = reader.clean(row.values)
        for kind in kinds:
            name = clean_name(reader.raw(mapping.fields[kind], values))
            if name and len(name) <= NAME_MAX_LENGTH[kind] and not lookups.known(kind, name):
                planned[kind].setdefault(name.casefold(), name)
    return {
        kind: sorted(names.values(), key=str.casefold) for kind, names in planned.items() if names
    }
