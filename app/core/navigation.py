"""The main navigation: each entry shows only to roles holding its permission."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from flask import request, url_for
from flask_login import current_user

from app.core.permissions import Permission, role_can


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    permission: Permission
    # Endpoints (or "blueprint." prefixes) that count as being in this section.
    section: tuple[str, ...] = ()
    children: tuple[NavItem, ...] = field(default_factory=tuple)

    def is_current(self, endpoint: str | None) -> bool:
        if endpoint is None:
            return False
        if endpoint == self.endpoint or any(child.is_current(endpoint) for child in self.children):
            return True
        return any(
            endpoint.startswith(marker) if marker.endswith(".") else endpoint == marker
            for marker in self.section
        )


ORGANISATION = (
    NavItem(
        "Customers",
        "organisation.customer_list",
        Permission.ORGANISATION_VIEW,
        ("organisation.customer_new", "organisation.customer_edit"),
    ),
    NavItem(
        "Processes",
        "organisation.process_list",
        Permission.ORGANISATION_VIEW,
        ("organisation.process_new", "organisation.process_edit"),
    ),
    NavItem(
        "Sites",
        "organisation.site_list",
        Permission.ORGANISATION_VIEW,
        ("organisation.site_new", "organisation.site_edit"),
    ),
    NavItem(
        "Failure categories",
        "organisation.category_list",
        Permission.ORGANISATION_VIEW,
        ("organisation.category_new", "organisation.category_edit"),
    ),
    NavItem("TQM principles", "organisation.principle_list", Permission.ORGANISATION_VIEW),
)

# One menu, so that an administrator's navigation fits one line on a laptop screen.
ADMINISTRATION = (
    NavItem("Scheduler", "scheduler.job_list", Permission.SCHEDULER_VIEW, ("scheduler.",)),
    NavItem("Users", "accounts.user_list", Permission.USERS_MANAGE, ("accounts.user_",)),
    NavItem(
        "API tokens", "api_admin.token_list", Permission.API_TOKENS_MANAGE, ("api_admin.token_",)
    ),
)

NAVIGATION: list[NavItem] = [
    NavItem(
        "Dashboard",
        "metrics.dashboard",
        Permission.DASHBOARD_VIEW,
        ("metrics.dashboard_export", "metrics.principle_coverage"),
    ),
    NavItem("Financial case", "metrics.financial_case", Permission.DASHBOARD_VIEW),
    NavItem(
        "Objectives",
        "metrics.objective_list",
        Permission.DASHBOARD_VIEW,
        (
            "metrics.objective_new",
            "metrics.objective_detail",
            "metrics.initiative_new",
            "metrics.goal_new",
            "metrics.goal_edit",
        ),
    ),
    NavItem("Strategy", "strategy.workspace", Permission.DASHBOARD_VIEW, ("strategy.",)),
    NavItem("My work", "capa.my_work", Permission.RECORDS_VIEW),
    NavItem("Complaints", "complaints.complaint_list", Permission.RECORDS_VIEW, ("complaints.",)),
    NavItem(
        "Nonconformities",
        "nonconformities.nonconformity_list",
        Permission.RECORDS_VIEW,
        ("nonconformities.", "rca."),
    ),
    NavItem("CAPA", "capa.capa_list", Permission.RECORDS_VIEW, ("capa.",)),
    NavItem("Audits", "audits.programme", Permission.RECORDS_VIEW, ("audits.",)),
    NavItem("Reviews", "reviews.review_list", Permission.RECORDS_VIEW, ("reviews.",)),
    NavItem("Documents", "documents.document_list", Permission.RECORDS_VIEW, ("documents.",)),
    NavItem("FMEA", "fmea.fmea_list", Permission.RECORDS_VIEW, ("fmea.",)),
    NavItem("Suppliers", "suppliers.supplier_list", Permission.RECORDS_VIEW, ("suppliers.",)),
    NavItem("Import", "intake.upload", Permission.RECORDS_IMPORT, ("intake.",)),
    NavItem(
        "Organisation",
        "organisation.customer_list",
        Permission.ORGANISATION_VIEW,
        children=ORGANISATION,
    ),
    NavItem("Reports", "reports.index", Permission.RECORDS_EXPORT, ("reports.",)),
    NavItem("Audit trail", "audit.event_list", Permission.AUDIT_VIEW, ("audit.",)),
    NavItem(
        "Administration",
        "scheduler.job_list",
        Permission.SCHEDULER_VIEW,
        children=ADMINISTRATION,
    ),
]


def visible(items: tuple[NavItem, ...] | list[NavItem]) -> list[NavItem]:
    """The items the current user's role may open; a menu shows while any of its items does."""
    user = current_user._get_current_object()
    if not user.is_authenticated:
        return []
    return list(_visible_to(str(user.role), tuple(items)))


@functools.cache
def _visible_to(role: str, items: tuple[NavItem, ...]) -> tuple[NavItem, ...]:
    # A role's navigation never changes while the process runs: work it out once per role.
    return tuple(
        item
        for item in items
        if (_visible_to(role, item.children) if item.children else role_can(role, item.permission))
    )


def main_navigation() -> list[NavItem]:
    return visible(NAVIGATION)


_FIXED_URLS: dict[tuple[str, str, tuple[tuple[str, str], ...]], str] = {}
_FIXED_URLS_MAX = 512


def fixed_url(endpoint: str, **values: str) -> str:
    """`url_for(endpoint, **values)` for a link that is the same on every page (the navigation,
    the stylesheets), built once per process (and script root) instead of on every request:
    the navigation's ~40 url_for calls cost a list page more than some of its queries."""
    key = (request.script_root, endpoint, tuple(sorted(values.items())))
    url = _FIXED_URLS.get(key)
    if url is None:
        if len(_FIXED_URLS) >= _FIXED_URLS_MAX:  # script roots come from the request: bounded
            _FIXED_URLS.clear()
        url = _FIXED_URLS[key] = url_for(endpoint, **values)
    return url


def current_section(endpoint: str | None) -> NavItem | None:
    """The top-level item the page at `endpoint` belongs to: an exact match beats a section."""
    for item in NAVIGATION:
        if item.endpoint == endpoint:
            return item
    return next((item for item in NAVIGATION if item.is_current(endpoint)), None)
