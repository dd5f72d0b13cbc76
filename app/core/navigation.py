"""The main navigation: each entry shows only to roles holding its permission."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.permissions import Permission, can


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    permission: Permission


NAVIGATION: list[NavItem] = [
    NavItem("Dashboard", "metrics.dashboard", Permission.DASHBOARD_VIEW),
    NavItem("Customers", "organisation.customer_list", Permission.ORGANISATION_VIEW),
    NavItem("Processes", "organisation.process_list", Permission.ORGANISATION_VIEW),
    NavItem("Sites", "organisation.site_list", Permission.ORGANISATION_VIEW),
    NavItem("TQM principles", "organisation.principle_list", Permission.ORGANISATION_VIEW),
    NavItem("Audit trail", "audit.event_list", Permission.AUDIT_VIEW),
    NavItem("Users", "accounts.user_list", Permission.USERS_MANAGE),
]


def main_navigation() -> list[NavItem]:
    return [item for item in NAVIGATION if can(item.permission)]
