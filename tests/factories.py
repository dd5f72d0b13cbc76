"""Factories that build records through the services, as the app does."""

from __future__ import annotations

import itertools

from app.accounts.models import User
from app.accounts.services import create_user as create_user_service

TEST_PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_sequence)}@example.com"


def create_user(role: str = "quality_lead", **fields: object) -> User:
    return create_user_service(
        email=str(fields.get("email") or unique_email(role)),
        full_name=str(fields.get("full_name") or f"Test {role.replace('_', ' ').title()}"),
        role=role,
        password=str(fields.get("password") or TEST_PASSWORD),
    )
