"""Complaint factories: records built through the services, as the app builds them."""

from __future__ import annotations

import itertools
from typing import Any

from app.accounts.models import User
from app.complaints import services
from app.complaints.models import Complaint
from app.organisation import services as organisation
from app.organisation.models import Category, Customer, Process

_sequence = itertools.count(1)


def new_process(name: str | None = None, **fields: Any) -> Process:
    return organisation.create_process(name=name or f"Process {next(_sequence)}", **fields)


def new_category(name: str | None = None, **fields: Any) -> Category:
    return organisation.create_category(name=name or f"Category {next(_sequence)}", **fields)


def new_customer(name: str | None = None, **fields: Any) -> Customer:
    fields.setdefault("segment", "consumer")
    return organisation.create_customer(name=name or f"Customer {next(_sequence)}", **fields)


def new_complaint(user: User, **overrides: Any) -> Complaint:
    values: dict[str, Any] = {
        "title": "Invoice charged twice",
        "channel": "email",
        "severity": "medium",
    }
    return services.record_complaint(user=user, **{**values, **overrides})


def walk(complaint: Complaint, user: User, *names: str, reason: str | None = None) -> Complaint:
    """Fire the named transitions in order (the last one gets `reason`)."""
    for index, name in enumerate(names):
        last = index == len(names) - 1
        services.transition_complaint(complaint, name, user=user, reason=reason if last else None)
    return complaint
