"""What the audit capture records about relationships: the many-to-many links an audited model
owns (members added and removed, each by id and name) and, beside each foreign-key field, the name
of the record it points to (`app.core.audit_labels`), as the record was named at the time."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import attributes

from app.core.audit_labels import label_of, lookup_labels


def link_relationships(mapper: Any) -> list[Any]:
    """The many-to-many relationships of an audited model whose changes its own events record."""
    mirrors = mapper.class_.__audit_link_mirrors__
    return [
        relationship
        for relationship in mapper.relationships
        if relationship.secondary is not None
        and not relationship.viewonly
        and relationship.key not in mirrors
    ]


def reference_relationships(mapper: Any) -> dict[str, Any]:
    """Foreign-key column → the many-to-one relationship it implements, for naming the record a
    column points to. (Composite or excluded keys are left to their columns.)"""
    found: dict[str, Any] = {}
    excluded = mapper.class_.__audit_exclude__
    for relationship in mapper.relationships:
        if relationship.direction.name != "MANYTOONE" or relationship.secondary is not None:
            continue
        columns = list(relationship.local_columns)
        if len(columns) != 1:
            continue
        column_key = mapper.get_property_by_column(columns[0]).key
        if column_key not in excluded:
            found[column_key] = relationship
    return found


def link_member(record: Any) -> dict[str, Any]:
    """A linked record as the trail stores it: its id and the name it had at the time."""
    identity = inspect(record).mapper.primary_key_from_instance(record)
    return {
        "id": identity[0] if len(identity) == 1 else ",".join(map(str, identity)),
        "label": label_of(record),
    }


def link_change(added: Any, removed: Any) -> dict[str, Any]:
    """`{"added": [...], "removed": [...]}` of linked records, each list ordered by id (empty
    lists left out), for a many-to-many relationship's entry in an event."""
    change: dict[str, Any] = {}
    for name, records in (("added", added), ("removed", removed)):
        members = sorted((link_member(r) for r in records), key=lambda m: str(m["id"]).zfill(20))
        if members:
            change[name] = members
    return change


def link_history(obj: Any) -> dict[str, tuple[list[Any], list[Any]]]:
    """Per link relationship, the records added and removed since the last flush."""
    links: dict[str, tuple[list[Any], list[Any]]] = {}
    for relationship in link_relationships(inspect(obj).mapper):
        history = attributes.get_history(
            obj, relationship.key, passive=attributes.PASSIVE_NO_INITIALIZE
        )
        added = [item for item in history.added if item not in history.deleted]
        removed = [item for item in history.deleted if item not in history.added]
        if added or removed:
            links[relationship.key] = (added, removed)
    return links


def initial_links(obj: Any) -> dict[str, tuple[list[Any], list[Any]]]:
    """The members a new record starts with, per link relationship (as added)."""
    state = inspect(obj)
    links: dict[str, tuple[list[Any], list[Any]]] = {}
    for relationship in link_relationships(state.mapper):
        members = list(state.dict.get(relationship.key) or [])
        if members:
            links[relationship.key] = (members, [])
    return links


@functools.cache
def _reference_columns(model: Any) -> tuple[tuple[str, str, str], ...]:
    """(foreign-key column, relationship key, target record type) of `model`, computed once."""
    return tuple(
        (column_key, relationship.key, relationship.mapper.class_.__tablename__)
        for column_key, relationship in reference_relationships(inspect(model)).items()
    )


def referenced_records(model: Any, changes: Mapping[str, Any]) -> dict[str, set[str]]:
    """Record type → ids of the records the foreign-key fields of `changes` point to."""
    wanted: dict[str, set[str]] = {}
    for column_key, _, target in _reference_columns(model):
        pair = changes.get(column_key)
        if type(pair) is not list or len(pair) != 2:
            continue
        for value in pair:
            if value is not None and not isinstance(value, list | dict):
                wanted.setdefault(target, set()).add(str(value))
    return wanted


def add_reference_names(
    model: Any, changes: dict[str, Any], names: Mapping[tuple[str, str], str]
) -> None:
    """Beside each foreign-key field of `changes`, the names of the records it pointed to and
    points to now, under the relationship's key (`"customer": ["Acme", "Beta"]`)."""
    for column_key, relationship_key, target in _reference_columns(model):
        pair = changes.get(column_key)
        if type(pair) is not list or len(pair) != 2 or relationship_key in changes:
            continue
        named = [None if value is None else names.get((target, str(value))) for value in pair]
        if named[0] is not None or named[1] is not None:
            changes[relationship_key] = named


def name_references(
    connection: Connection,
    items: list[tuple[Any, dict[str, Any]]],
    cache: dict[tuple[str, str], str] | None = None,
) -> None:
    """Add the names of referenced records to each (model, changes) pair, with one lookup query
    for all of them (`cache` keeps names across calls, for bulk writers)."""
    names = cache if cache is not None else {}
    wanted: dict[str, set[str]] = {}
    for model, changes in items:
        for record_type, ids in referenced_records(model, changes).items():
            missing = {value for value in ids if (record_type, value) not in names}
            if missing:
                wanted.setdefault(record_type, set()).update(missing)
    if wanted:
        names.update(lookup_labels(connection, wanted))
    for model, changes in items:
        add_reference_names(model, changes, names)
