"""Database-side pagination for list pages."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, inspect, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def parse_page_number(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return max(1, min(number, 1_000_000))


def paginate(
    session: Session,
    statement: Select[Any],
    number: int,
    per_page: int,
    load: Callable[[list[Any]], Sequence[Any]] | None = None,
) -> Page[Any]:
    """Count and slice `statement` in the database; only one page of rows is ever loaded.

    For a statement of one mapped entity the page is found by its primary keys first (the filter,
    sort and offset run over narrow rows, often an index alone), then only those rows are loaded:
    a deep page no longer sorts and skips thousands of whole rows. `load`, if given, loads the
    page's rows from those keys instead (in the keys' order): a list that shows a few columns
    can read just those, without building whole records."""
    total = count_of(session, statement)
    offset = (number - 1) * per_page
    key = _single_primary_key(statement)
    if key is None:
        items = list(session.scalars(statement.limit(per_page).offset(offset)))
    else:
        ids = list(session.scalars(statement.with_only_columns(key).limit(per_page).offset(offset)))
        if not ids:
            items = []
        elif load is not None:
            items = list(load(ids))
        else:
            items = list(session.scalars(statement.where(key.in_(ids))))
    return Page(items=items, number=number, per_page=per_page, total=total)


def count_of(session: Session, statement: Select[Any]) -> int:
    """How many rows `statement` selects (counted in the database). A statement of one mapped
    entity is counted over its primary key alone: the same rows, a narrower subquery."""
    key = _single_primary_key(statement)
    if key is not None:
        statement = statement.with_only_columns(key)
    return (
        session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    )


def _single_primary_key(statement: Select[Any]) -> Any | None:
    """The primary-key column of the statement's one selected entity, if it selects just that."""
    descriptions = statement.column_descriptions
    if len(descriptions) != 1:
        return None
    entity = descriptions[0].get("entity")
    if entity is None or descriptions[0].get("expr") is not entity:
        return None
    primary_key = inspect(entity).primary_key
    return primary_key[0] if len(primary_key) == 1 else None
