"""How the audit trail names records: each audited model's display name, and one query that names
many records of many types at once.

A model says how its records are named with `__audit_label__` (the column holding the name: a
reference, a name, a title) or, when the name is built from more than one column, a classmethod
`audit_label_expression()` returning the SQL expression. The same names are written into new
events (the name a linked or referenced record had at the time) and looked up for old events that
lack them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from sqlalchemy import String, case, cast, literal, select, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.sql.elements import ColumnElement

from app.core.db import Base

# Ids of one type per SELECT of a lookup (bind-parameter limits).
_CHUNK = 5_000


@cache
def audited_models() -> dict[str, type]:
    """Every model whose records are in the trail, by record type (its table name)."""
    return {
        mapper.class_.__tablename__: mapper.class_
        for mapper in Base.registry.mappers
        if hasattr(mapper.class_, "__audit_exclude__") and hasattr(mapper.class_, "__tablename__")
    }


def model_for(record_type: str) -> type | None:
    return audited_models().get(record_type)


def enum_label(column: Any, enum_class: type[enum.Enum]) -> ColumnElement[str]:
    """SQL that turns a stored enum value into its label (for label expressions)."""
    labels = {member.value: getattr(member, "label", str(member.value)) for member in enum_class}
    return case(labels, value=column, else_=cast(column, String))


def label_expression(model: type) -> ColumnElement[Any] | None:
    """The SQL expression naming one record of `model`, None when the model declares none."""
    custom = getattr(model, "audit_label_expression", None)
    if custom is not None:
        return custom()
    attribute = getattr(model, "__audit_label__", None)
    return getattr(model, attribute) if attribute else None


def label_of(record: Any) -> str | None:
    """The display name of a loaded record, as `label_expression` would give it."""
    custom = getattr(record, "audit_label", None)
    if custom is not None:
        return str(custom)
    attribute = getattr(type(record), "__audit_label__", None)
    value = getattr(record, attribute, None) if attribute else None
    return None if value is None else str(value)


def lookup_labels(
    bind: Connection | Session, wanted: Mapping[str, Iterable[Any]]
) -> dict[tuple[str, str], str]:
    """Names of the records `wanted` lists (record type → ids), in one query: a UNION ALL of one
    SELECT per type. Unknown types, types without a name and missing records are left out."""
    selects = []
    for record_type, ids in wanted.items():
        model = model_for(record_type)
        expression = label_expression(model) if model is not None else None
        id_list = sorted({str(value) for value in ids if value is not None})
        if expression is None or not id_list:
            continue
        key = _primary_key(model)
        for start in range(0, len(id_list), _CHUNK):
            chunk = id_list[start : start + _CHUNK]
            typed = [key.type.python_type(value) for value in chunk if _parses(key, value)]
            if not typed:
                continue
            selects.append(
                select(
                    literal(record_type, String).label("record_type"),
                    cast(key, String).label("record_id"),
                    cast(expression, String).label("label"),
                ).where(key.in_(typed))
            )
    if not selects:
        return {}
    statement = selects[0] if len(selects) == 1 else union_all(*selects)
    return {
        (record_type, str(record_id)): label
        for record_type, record_id, label in bind.execute(statement)
        if label is not None
    }


def _primary_key(model: type) -> Any:
    mapper: Mapper[Any] = model.__mapper__  # type: ignore[attr-defined]
    return mapper.primary_key[0]


def _parses(key: Any, value: str) -> bool:
    try:
        key.type.python_type(value)
    except (TypeError, ValueError):
        return False
    return True
