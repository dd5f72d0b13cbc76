"""Who may do what: one role → permission table that views and templates both read."""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

F = TypeVar("F", bound=Callable[..., Any])


class Role(enum.StrEnum):
    ADMIN = "admin"
    QUALITY_LEAD = "quality_lead"
    CONTRIBUTOR = "contributor"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: "Administrator",
    Role.QUALITY_LEAD: "Quality lead",
    Role.CONTRIBUTOR: "Contributor",
    Role.AUDITOR: "Auditor",
}


class Permission(enum.StrEnum):
    DASHBOARD_VIEW = "dashboard:view"
    ORGANISATION_VIEW = "organisation:view"
    ORGANISATION_MANAGE = "organisation:manage"
    CUSTOMERS_MANAGE = "customers:manage"
    USERS_MANAGE = "users:manage"
    AUDIT_VIEW = "audit:view"
    # The quality loop: complaints, nonconformities, analyses, CAPAs.
    RECORDS_VIEW = "records:view"
    RECORDS_CREATE = "records:create"
    RECORDS_MANAGE = "records:manage"
    RECORDS_SIGN = "records:sign"
    RECORDS_EXPORT = "records:export"
    CATEGORIES_MANAGE = "categories:manage"
    # Scheduled reviews: the scheduler's admin page (read it; change schedules, run jobs).
    SCHEDULER_VIEW = "scheduler:view"
    SCHEDULER_MANAGE = "scheduler:manage"
    # Importing complaints from files (app/intake): quality leads and administrators.
    RECORDS_IMPORT = "records:import"
    API_TOKENS_MANAGE = "api_tokens:manage"


_EVERYONE = {Permission.DASHBOARD_VIEW, Permission.ORGANISATION_VIEW, Permission.RECORDS_VIEW}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        _EVERYONE
        | {
            Permission.ORGANISATION_MANAGE,
            Permission.CUSTOMERS_MANAGE,
            Permission.USERS_MANAGE,
            Permission.AUDIT_VIEW,
            Permission.CATEGORIES_MANAGE,
            Permission.RECORDS_EXPORT,
            Permission.SCHEDULER_VIEW,
            Permission.SCHEDULER_MANAGE,
            Permission.RECORDS_IMPORT,
            Permission.API_TOKENS_MANAGE,
        }
    ),
    Role.QUALITY_LEAD: frozenset(
        _EVERYONE
        | {
            Permission.CUSTOMERS_MANAGE,
            Permission.AUDIT_VIEW,
            Permission.RECORDS_CREATE,
            Permission.RECORDS_MANAGE,
            Permission.RECORDS_SIGN,
            Permission.RECORDS_EXPORT,
            Permission.CATEGORIES_MANAGE,
            Permission.SCHEDULER_VIEW,
            Permission.RECORDS_IMPORT,
        }
    ),
    # Contributors record failures; they change other records only where assigned (see
    # app.core.workflow's assignee_may and each domain's may_edit).
    Role.CONTRIBUTOR: frozenset(_EVERYONE | {Permission.RECORDS_CREATE}),
    # The auditor reads everything and changes nothing: no permission here may write.
    Role.AUDITOR: frozenset(
        _EVERYONE | {Permission.AUDIT_VIEW, Permission.RECORDS_EXPORT, Permission.SCHEDULER_VIEW}
    ),
}


def role_can(role: Role | str | None, permission: Permission) -> bool:
    if role is None:
        return False
    return permission in ROLE_PERMISSIONS.get(Role(role), frozenset())


def can(permission: Permission | str) -> bool:
    """Whether the signed-in user holds `permission` (usable from templates as `can(...)`)."""
    user = current_user._get_current_object()  # one look-up through the proxy, not two
    if not user.is_authenticated:
        return False
    return role_can(user.role, Permission(permission))


def requires(permission: Permission) -> Callable[[F], F]:
    """Guard a view: anonymous users go to the login page, others without `permission` get 403."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            from app.extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not can(permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permission = permission  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def public(view: F) -> F:
    """Mark a view as open to anyone (the login page): every other view needs `requires`."""
    view.required_permission = None  # type: ignore[attr-defined]
    return view
