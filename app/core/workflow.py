"""A small declarative state machine: states, transitions, guards and who may fire them.

One `Workflow` per record type. A transition names its source states, its target, the permission
it needs (optionally widened to the record's assignee) and guards that return the reason a
transition is refused. Firing it changes the record's state column, runs its effects (e.g. stamping
the first-response time) and — because the state column is the model's `__audit_state_field__` —
lands in the audit trail as a `transition` with the reason given.

Record control lives here too. A workflow names its `locked_states` (closed records): services
call `refuse_if_locked` before any change, so pages, the API and the import all meet the same
refusal, and only a transition out of the locked state (a reopen, with its reason) unlocks the
record. A reopen that `voids_signatures` marks the record's signatures void, visibly. Duty guards
(`duties`) see the acting user as well as the record: separation of duties (a signer other than
the record's owner) is one of them, switched by the `LOOP_SEPARATION_OF_DUTIES` setting.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from flask import current_app, has_app_context
from sqlalchemy.orm import object_session

from app.core.audit import audit_reason
from app.core.errors import ServiceError
from app.core.permissions import Permission, role_can
from app.core.signatures import void_signatures

R = TypeVar("R")
Guard = Callable[[Any], str | None]
# An effect gets the record, the acting user and the state the record is leaving.
Effect = Callable[[Any, Any, str], None]
# A duty guard gets the record and the acting user; it returns why that user may not act.
DutyGuard = Callable[[Any, Any], str | None]


class TransitionRefused(ServiceError):
    """The transition is not allowed now; the message says why in the user's terms."""


class RecordLocked(ServiceError):
    """The record is closed and read-only; it must be reopened (with a reason) to change."""


def separation_of_duties_on() -> bool:
    """Whether the separation-of-duties rules apply (setting LOOP_SEPARATION_OF_DUTIES, on by
    default; outside an application, on)."""
    if not has_app_context():
        return True
    return bool(current_app.config.get("LOOP_SEPARATION_OF_DUTIES", True))


def signer_other_than(
    people_of: Callable[[Any], Iterable[tuple[str, Any]]], signer: str = "A quality lead"
) -> DutyGuard:
    """A duty guard refusing a user who is one of the people `people_of(record)` names, each as
    (their part, e.g. "the CAPA owner"; the user or None). The refusal names who may sign:
    "A quality lead other than the CAPA owner (Quinn Lead) must sign."."""

    def guard(record: Any, user: Any) -> str | None:
        if not separation_of_duties_on() or user is None:
            return None
        named: dict[int, tuple[list[str], Any]] = {}
        for part, person in people_of(record):
            if person is not None:
                named.setdefault(person.id, ([], person))[0].append(part)
        if user.id not in named:
            return None
        described = [
            f"{' and '.join(parts)} ({person.full_name})" for parts, person in named.values()
        ]
        return f"{signer} other than {' or '.join(described)} must sign."

    return guard


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[str]
    target: str
    permission: Permission
    # A user without `permission` may still fire it on records assigned to them.
    assignee_may: bool = False
    guards: tuple[Guard, ...] = ()
    effects: tuple[Effect, ...] = ()
    requires_reason: bool = False
    duties: tuple[DutyGuard, ...] = ()
    # A reopen: the record's electronic signatures stop being valid (shown as void).
    voids_signatures: bool = False


def transition(
    name: str,
    label: str,
    sources: Iterable[str] | str,
    target: str,
    permission: Permission,
    *,
    assignee_may: bool = False,
    guards: Iterable[Guard] = (),
    effects: Iterable[Effect] = (),
    requires_reason: bool = False,
    duties: Iterable[DutyGuard] = (),
    voids_signatures: bool = False,
) -> Transition:
    return Transition(
        name=name,
        label=label,
        sources=frozenset([sources] if isinstance(sources, str) else sources),
        target=target,
        permission=permission,
        assignee_may=assignee_may,
        guards=tuple(guards),
        effects=tuple(effects),
        requires_reason=requires_reason,
        duties=tuple(duties),
        voids_signatures=voids_signatures,
    )


@dataclass
class Workflow(Generic[R]):
    record_label: str
    states: tuple[str, ...]
    initial: str
    transitions: tuple[Transition, ...]
    state_attribute: str = "status"
    assignee_of: Callable[[Any], Iterable[int | None]] = field(default=lambda record: ())
    # Closed states: the record is read-only there until a transition out of it (a reopen).
    locked_states: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        names = [t.name for t in self.transitions]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.record_label}: duplicate transition names")
        for item in self.transitions:
            unknown = (item.sources | {item.target}) - set(self.states)
            if unknown:
                raise ValueError(f"{self.record_label}.{item.name}: unknown states {unknown}")

    def state_of(self, record: R) -> str:
        return str(getattr(record, self.state_attribute))

    def is_locked(self, record: R) -> bool:
        """Whether the record is in a closed state and so read-only."""
        return self.state_of(record) in self.locked_states

    def refuse_if_locked(self, record: R, action: str) -> None:
        """Raise RecordLocked when the record is closed: "NC-2026-000001 is closed and
        read-only; reopen it (with a reason) before you edit it."."""
        if self.is_locked(record):
            name = getattr(record, "reference", None) or f"This {self.record_label}"
            state = self.state_of(record).replace("_", " ")
            reopen = next(
                (item for item in self.transitions if self.state_of(record) in item.sources),
                None,
            )
            if reopen is None:
                raise RecordLocked(f"{name} is {state} and read-only; it can no longer change.")
            with_reason = " (with a reason)" if reopen.requires_reason else ""
            raise RecordLocked(
                f"{name} is {state} and read-only; {reopen.label.lower()} it{with_reason} "
                f"before you {action}."
            )

    def get(self, name: str) -> Transition:
        for item in self.transitions:
            if item.name == name:
                return item
        raise TransitionRefused(f"There is no action called {name!r} for a {self.record_label}.")

    def may_act(self, item: Transition, user: Any, record: R) -> bool:
        if user is None:
            return False
        if role_can(user.role, item.permission):
            return True
        return item.assignee_may and user.id in set(self.assignee_of(record))

    def refusal(self, item: Transition, record: R, user: Any) -> str | None:
        """Why `user` may not fire `item` on `record` now, or None when they may."""
        state = self.state_of(record)
        if state not in item.sources:
            return (
                f"“{item.label}” is not possible while the {self.record_label} is "
                f"{state.replace('_', ' ')}."
            )
        if not self.may_act(item, user, record):
            return f"Your role may not “{item.label}” this {self.record_label}."
        for guard in item.guards:
            reason = guard(record)
            if reason:
                return reason
        for duty in item.duties:
            reason = duty(record, user)
            if reason:
                return reason
        return None

    def available(self, record: R, user: Any) -> list[tuple[Transition, str | None]]:
        """Transitions from the record's state that the user's role allows, each with the reason
        it is refused now (None when it can be fired), for pages to offer or explain."""
        state = self.state_of(record)
        offered = []
        for item in self.transitions:
            if state in item.sources and self.may_act(item, user, record):
                offered.append((item, self.refusal(item, record, user)))
        return offered

    def fire(self, record: R, name: str, user: Any, *, reason: str | None = None) -> R:
        """Fire transition `name` as `user`; raises TransitionRefused with a readable reason."""
        item = self.get(name)
        refused = self.refusal(item, record, user)
        if refused:
            raise TransitionRefused(refused)
        reason = (reason or "").strip() or None
        if item.requires_reason and not reason:
            raise TransitionRefused(f"“{item.label}” needs a reason.", field="reason")
        session = object_session(record)
        # Flush inside the block: the audit event is written at flush time, with the reason.
        previous = self.state_of(record)
        with audit_reason(reason) if reason else contextlib.nullcontext():
            setattr(record, self.state_attribute, item.target)
            for effect in item.effects:
                effect(record, user, previous)
            if session is not None:
                session.flush()
                if item.voids_signatures:
                    void_signatures(session, record, user, reason or item.label)
        return record
