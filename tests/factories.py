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


def other_lead(*excluded: User | None) -> User:
    """A quality lead who is none of `excluded`: the second signer separation of duties asks
    for (the owner or implementer of a record may not sign it). Reuses one made before."""
    from sqlalchemy import select

    from app.extensions import db

    excluded_ids = {person.id for person in excluded if person is not None}
    for person in db.session.scalars(
        select(User).where(User.role == "quality_lead", User.active.is_(True)).order_by(User.id)
    ):
        if person.id not in excluded_ids and person.email.startswith("signer"):
            return person
    return create_user("quality_lead", email=unique_email("signer"), full_name="Sam Signer")
