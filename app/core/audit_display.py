"""Audit events as a person reads them: field labels, referenced records by name, enum values by
label, money with its currency, times in the product's format, bookkeeping folded away.

The one set of rules for every reader of the trail: the history panel on record pages, the audit
log, its CSV export and the PDF reports. Reading never changes an event: the stored value is the
source of truth. A referenced record is shown by the name the event stored when it was written
(new events store it beside the id); older events fall back to the record's current name, looked
up for the whole page in one query (`app.core.audit_labels.lookup_labels`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Boolean, Date, Enum, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app.core.audit import REDACTED, AuditAction, AuditEvent
from app.core.audit_labels import lookup_labels, model_for
from app.core.audit_links import link_relationships, reference_relationships
from app.core.db import UTCDateTime

TIME_FORMAT = "%Y-%m-%d %H:%M:%S UTC"
# Fields every reader can do without: shown folded ("details"), never in the main list.
BOOKKEEPING = frozenset({"id", "created_at", "updated_at", "version"})

ACTION_LABELS = {
    AuditAction.CREATE: "Created",
    AuditAction.UPDATE: "Updated",
    AuditAction.DELETE: "Deleted",
    AuditAction.TRANSITION: "Status changed",
    AuditAction.SIGN: "Signed",
    AuditAction.EXPORT: "Exported",
    AuditAction.LOGIN: "Signed in",
    AuditAction.LOGIN_FAILED: "Sign-in failed",
    AuditAction.LOGOUT: "Signed out",
}
# Record types written by explicit events that name no model of their own.
TYPE_LABELS = {"audit_event": "Audit trail"}


@dataclass(frozen=True)
class FieldChange:
    """One field of an event, ready to print. `old`/`new` are None when empty; a link field has
    `added`/`removed` instead."""

    key: str
    label: str
    old: str | None = None
    new: str | None = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    is_link: bool = False

    def text(self, action: str = "") -> str:
        """The change as one line: "Label: old → new", "Label: new", "Label: added …; removed …"."""
        if self.is_link:
            parts = []
            if self.added:
                parts.append("added " + ", ".join(self.added))
            if self.removed:
                parts.append("removed " + ", ".join(self.removed))
            return f"{self.label}: {'; '.join(parts) or 'unchanged'}"
        new = self.new if self.new is not None else "empty"
        if action == AuditAction.DELETE.value:
            return f"{self.label}: {self.old if self.old is not None else 'empty'}"
        if self.old is None:
            return f"{self.label}: {new}"
        return f"{self.label}: {self.old} → {new}"


@dataclass(frozen=True)
class ReadableEvent:
    event: AuditEvent
    when: str
    action: str
    action_label: str
    record_type_label: str
    record_label: str
    changes: list[FieldChange] = field(default_factory=list)
    bookkeeping: list[FieldChange] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [change.text(self.action) for change in self.changes]


def format_time(value: datetime | str | None) -> str | None:
    """A timestamp in the product's format (UTC, to the second), from a datetime or ISO text."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        value = parsed
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime(TIME_FORMAT)


def type_label(record_type: str) -> str:
    """A record type as a reader names it ("Complaint", "CAPA", "Recovery action")."""
    model = model_for(record_type)
    declared = getattr(model, "__audit_type_label__", None) if model is not None else None
    return declared or TYPE_LABELS.get(record_type) or record_type.replace("_", " ").capitalize()


def field_label(model: Any, key: str) -> str:
    declared = getattr(model, "__audit_field_labels__", {}) if model is not None else {}
    if key in declared:
        return declared[key]
    name = key[:-3] if key.endswith("_id") and key != "external_id" else key
    return name.replace("_", " ").capitalize()


def _plain(value: Any) -> str | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_plain(item) or 'empty'}" for key, item in value.items()) or None
    if isinstance(value, list):
        return ", ".join(_plain(item) or "empty" for item in value)
    return str(value)


def _money(value: Any, currency: Any) -> str | None:
    if value is None or value == "":
        return None
    try:
        amount = f"{Decimal(str(value)):,.2f}"
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{amount} {currency}" if currency else amount


class _Rules:
    """How each field of one model reads; built once per model and reused."""

    def __init__(self, model: Any) -> None:
        self.model = model
        mapper = inspect(model) if model is not None else None
        self.columns: dict[str, Any] = {}
        self.order: dict[str, int] = {}
        self.references: dict[str, Any] = {}
        self.links: dict[str, Any] = {}
        self.money: Mapping[str, str | None] = {}
        self.bookkeeping = BOOKKEEPING
        self.reference_names: set[str] = set()
        if mapper is None:
            return
        for position, attribute in enumerate(mapper.column_attrs):
            self.columns[attribute.key] = attribute.columns[0]
            self.order[attribute.key] = position
        self.references = reference_relationships(mapper)
        self.links = {r.key: r for r in link_relationships(mapper)}
        for relationship in mapper.relationships:
            if relationship.secondary is not None and relationship.key not in self.links:
                self.links[relationship.key] = relationship  # old events may hold a mirror
        self.money = getattr(model, "__audit_money__", {})
        self.bookkeeping = BOOKKEEPING | frozenset(getattr(model, "__audit_bookkeeping__", ()))
        self.reference_names = {r.key for r in self.references.values()}

    def sort_key(self, key: str) -> tuple[int, str]:
        return (self.order.get(key, len(self.order) + (0 if key in self.links else 1)), key)

    def value(self, key: str, value: Any, changes: Mapping[str, Any], side: int) -> str | None:
        if value == REDACTED:
            return REDACTED
        column = self.columns.get(key)
        if key in self.money:
            currency_key = self.money[key]
            pair = changes.get(currency_key) if currency_key else None
            currency = pair[side] if isinstance(pair, list) and len(pair) == 2 else None
            return _money(value, currency)
        if column is None or value is None:
            return _plain(value)
        kind = column.type
        if isinstance(kind, UTCDateTime):
            return format_time(value)
        if isinstance(kind, Enum) and kind.enum_class is not None:
            return _enum_label(kind.enum_class, value)
        if isinstance(kind, Boolean):
            return "Yes" if value else "No"
        if isinstance(kind, Date) and isinstance(value, str):
            return value[:10]
        return _plain(value)


def _enum_label(enum_class: type[enum.Enum], value: Any) -> str:
    try:
        member = enum_class(value)
    except ValueError:
        return str(value)
    return str(getattr(member, "label", member.value))


_rules_cache: dict[str, _Rules] = {}


def _rules(record_type: str) -> _Rules:
    rules = _rules_cache.get(record_type)
    if rules is None:
        rules = _rules_cache[record_type] = _Rules(model_for(record_type))
    return rules


def _wanted_names(events: Sequence[AuditEvent]) -> dict[str, set[str]]:
    """Record type → ids this page needs the names of: each event's record, and the records its
    fields point to where the event did not store their names (events written before it did)."""
    wanted: dict[str, set[str]] = {}
    for event in events:
        if event.record_id and model_for(event.record_type) is not None:
            wanted.setdefault(event.record_type, set()).add(event.record_id)
        rules = _rules(event.record_type)
        changes = event.changes_dict
        for key, relationship in rules.references.items():
            pair = changes.get(key)
            if not isinstance(pair, list) or relationship.key in changes:
                continue
            target = relationship.mapper.class_.__tablename__
            wanted.setdefault(target, set()).update(str(v) for v in pair if v is not None)
        for key, relationship in rules.links.items():
            stored = changes.get(key)
            if isinstance(stored, list):  # the old shape: [ids before, ids after]
                target = relationship.mapper.class_.__tablename__
                for ids in stored:
                    wanted.setdefault(target, set()).update(str(v) for v in ids or [])
    return wanted


def readable_events(
    events: Sequence[AuditEvent], bind: Session | Connection | None = None
) -> list[ReadableEvent]:
    """The events as a person reads them, in the order given, with one query for every name the
    page needs."""
    if bind is None:
        from app.extensions import db

        bind = db.session
    wanted = _wanted_names(events)
    names = lookup_labels(bind, wanted) if wanted else {}
    return [_readable(event, names) for event in events]


def _named(target: str, value: Any, names: Mapping[tuple[str, str], str]) -> str | None:
    if value is None:
        return None
    name = names.get((target, str(value)))
    if name is not None:
        return name
    return f"{type_label(target)} {value} (no longer exists)"


def _readable(event: AuditEvent, names: Mapping[tuple[str, str], str]) -> ReadableEvent:
    rules = _rules(event.record_type)
    changes = event.changes_dict
    action = str(event.action)
    shown: list[FieldChange] = []
    folded: list[FieldChange] = []
    currencies = {c for amount, c in rules.money.items() if c and amount in changes}
    for key in sorted(changes, key=rules.sort_key):
        if key in rules.reference_names or key in currencies:
            continue  # the stored names of a foreign key, a currency: shown with their field
        stored = changes[key]
        label = field_label(rules.model, key)
        if key in rules.links:
            target = rules.links[key].mapper.class_.__tablename__
            change = _link_change(key, label, stored, target, names)
        elif isinstance(stored, list) and len(stored) == 2:
            old, new = stored
            if key in rules.references:
                relationship = rules.references[key]
                target = relationship.mapper.class_.__tablename__
                stored_names = changes.get(relationship.key)
                if isinstance(stored_names, list) and len(stored_names) == 2:
                    old_text = stored_names[0] if old is not None else None
                    new_text = stored_names[1] if new is not None else None
                    old_text = old_text or _named(target, old, names)
                    new_text = new_text or _named(target, new, names)
                else:
                    old_text, new_text = _named(target, old, names), _named(target, new, names)
            else:
                old_text = rules.value(key, old, changes, 0)
                new_text = rules.value(key, new, changes, 1)
            change = FieldChange(key, label, old_text, new_text)
        else:
            change = FieldChange(key, label, None, _plain(stored))
        if action == AuditAction.CREATE.value and change.new is None and not change.is_link:
            continue  # a new record's empty fields say nothing
        (folded if key in rules.bookkeeping else shown).append(change)
    return ReadableEvent(
        event=event,
        when=format_time(event.occurred_at) or "",
        action=action,
        action_label=ACTION_LABELS.get(AuditAction(action), action.replace("_", " ").capitalize()),
        record_type_label=type_label(event.record_type),
        record_label=_record_label(event, changes, names),
        changes=shown,
        bookkeeping=folded,
    )


def _link_change(
    key: str, label: str, stored: Any, target: str, names: Mapping[tuple[str, str], str]
) -> FieldChange:
    if isinstance(stored, dict):
        added = tuple(_member(m, target, names) for m in stored.get("added") or [])
        removed = tuple(_member(m, target, names) for m in stored.get("removed") or [])
    elif isinstance(stored, list) and len(stored) == 2:
        before, after = (set(map(str, stored[0] or [])), set(map(str, stored[1] or [])))
        added = tuple(_named(target, v, names) or v for v in sorted(after - before, key=_by_id))
        removed = tuple(_named(target, v, names) or v for v in sorted(before - after, key=_by_id))
    else:
        return FieldChange(key, label, None, _plain(stored))
    return FieldChange(key, label, added=added, removed=removed, is_link=True)


def _by_id(value: str) -> str:
    return value.zfill(20)


def _member(member: Any, target: str, names: Mapping[tuple[str, str], str]) -> str:
    if isinstance(member, dict):
        return str(member.get("label") or _named(target, member.get("id"), names))
    return _named(target, member, names) or str(member)


def _record_label(
    event: AuditEvent, changes: Mapping[str, Any], names: Mapping[tuple[str, str], str]
) -> str:
    kind = type_label(event.record_type)
    if not event.record_id:
        return kind
    name = names.get((event.record_type, event.record_id))
    if name is None:
        # A record that no longer exists: its name as the event itself stored it, if it did.
        model = model_for(event.record_type)
        attribute = getattr(model, "__audit_label__", None) if model is not None else None
        pair = changes.get(attribute) if attribute else None
        if isinstance(pair, list) and len(pair) == 2:
            name = pair[1] if pair[1] is not None else pair[0]
    if name is None:
        return f"{kind} {event.record_id}"
    # A reference (CMP-2026-000123) names its type itself; other names get the type before them.
    if getattr(model_for(event.record_type), "__audit_label__", None) == "reference":
        return str(name)
    return f"{kind}: {name}"
