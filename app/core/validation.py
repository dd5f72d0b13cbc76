"""Input checks shared by the services of every domain: text, money and chosen records.

Each raises `ServiceError` on the field it checks, with a sentence a person can act on; forms and
the API show it beside that field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from app.core.errors import ServiceError
from app.extensions import db

CENT = Decimal("0.01")


def checked_text(
    value: str | None, label: str, field: str, max_length: int, required: bool = True
) -> str:
    """`value` stripped, with LF line breaks; refused when required and empty, or longer than
    `max_length`."""
    # Browsers send text areas with CRLF line breaks: store LF, or an unchanged text would show up
    # as edited in the audit trail.
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if required and not text:
        raise ServiceError(f"{label} is required.", field=field)
    if len(text) > max_length:
        raise ServiceError(f"{label} may have at most {max_length:,} characters.", field=field)
    return text


def checked_money(
    value: Decimal | int | str | None,
    label: str,
    field: str,
    *,
    below: Decimal,
    positive: bool = False,
) -> Decimal | None:
    """A sum of money with at most two decimals, 0 or more (more than 0 when `positive`) and below
    `below`; None when nothing was given."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ServiceError(f"{label} must be a number.", field=field) from None
    if not amount.is_finite():
        raise ServiceError(f"{label} must be a number.", field=field)
    if positive and amount <= 0:
        raise ServiceError(f"{label} must be more than 0.", field=field)
    if amount < 0:
        raise ServiceError(f"{label} cannot be negative.", field=field)
    if amount != amount.quantize(CENT):
        raise ServiceError(f"{label} may have at most two decimal places.", field=field)
    if amount >= below:
        raise ServiceError(f"{label} must be below {below:,.0f}.", field=field)
    return amount.quantize(CENT)


def checked_choice(enum_class: Any, value: Any, label: str, field: str) -> Any:
    """`value` as a member of `enum_class`; refused with the list of labels to choose from."""
    try:
        return enum_class(value)
    except ValueError:
        options = ", ".join(member.label for member in enum_class)
        raise ServiceError(f"Choose {label}: {options}.", field=field) from None


def as_utc(value: datetime) -> datetime:
    """Loop shows and takes every time in UTC, so a time without a zone is read as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def checked_not_in_future(value: datetime, label: str, field: str, now: datetime) -> datetime:
    """`value` in UTC, refused when it lies after `now`."""
    value = as_utc(value)
    if value > now:
        raise ServiceError(
            f"{label} cannot be in the future (it is now {now:%Y-%m-%d %H:%M} UTC).", field=field
        )
    return value


# Ids beyond this many digits are no record's (and would overflow PostgreSQL's integer).
_ID_DIGITS = 9


def _record_id(value: Any) -> int | None:
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    return int(text) if text.isdigit() and len(text) <= _ID_DIGITS else -1


def checked_record(model: type, value: Any, message: str, field: str) -> Any:
    """The `model` record a form or API value names by id, or None when the value is blank. An id
    that is not a whole number, or names no record, is refused with `message` on `field`."""
    record_id = _record_id(value)
    if record_id is None:
        return None
    record = db.session.get(model, record_id) if record_id > 0 else None
    if record is None:
        raise ServiceError(message, field=field)
    return record


def checked_records(
    model: type, values: Any, field: str, message: str = "Choose from the list."
) -> list[Any]:
    """The `model` records named by the ids in `values` (blanks ignored), in id order; any id
    that is malformed or names no record refuses them all."""
    wanted = {_record_id(value) for value in values or ()} - {None}
    if not wanted:
        return []
    if any(record_id <= 0 for record_id in wanted):
        raise ServiceError(message, field=field)
    found = list(db.session.scalars(select(model).where(model.id.in_(wanted))))
    if len(found) != len(wanted):
        raise ServiceError(message, field=field)
    return sorted(found, key=lambda record: record.id)
