"""API tokens: created by an administrator (or the CLI) for one named integration with scopes,
shown once, stored as a SHA-256 hash, revocable; each use is stamped so the admin page can show
when an integration last called.

Scopes: `read` (GET anything the API offers), `intake` (take complaints in and create or update
customers), `write` (act on existing complaints: transitions, recovery actions, satisfaction).
A token holds any combination; a help desk that pushes tickets and reads their recovery status
back needs `intake,read`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from app.api.models import ApiToken, IdempotencyRecord
from app.core.db import keep_despite_rollback, utcnow
from app.core.errors import ServiceError
from app.core.permissions import Role
from app.extensions import db

SCOPES: dict[str, str] = {
    "read": "Read complaints, customers, nonconformities, CAPAs and the reference lists.",
    "intake": "Take complaints in and create or update customers.",
    "write": "Act on existing complaints: transitions, recovery actions, satisfaction.",
    "metrics": "Record the monthly values of measured metrics.",
}
TOKEN_PREFIX = "loop_"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,79}$")
# last_used_at is stamped at most this often per token, so reads do not write on every call.
LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class ApiActor:
    """Who a token acts as inside the domain services: the services ask for a user's role and
    id, so a token answers with the role its scopes amount to (write → quality lead, intake →
    contributor, read only → auditor) and no user id (nobody is the reporter or the doer)."""

    token_id: int
    name: str
    scopes: frozenset[str]
    id: None = None
    is_authenticated: bool = True

    @property
    def role(self) -> Role:
        if "write" in self.scopes:
            return Role.QUALITY_LEAD
        if "intake" in self.scopes:
            return Role.CONTRIBUTOR
        return Role.AUDITOR

    @property
    def actor(self) -> str:
        """The actor written to the audit trail."""
        return f"api:{self.name}"

    @property
    def full_name(self) -> str:
        return self.actor


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def parse_scopes(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """Scopes from "intake,read" or a list; refuses unknown ones and an empty set."""
    items = value.split(",") if isinstance(value, str) else list(value)
    scopes = sorted({item.strip().lower() for item in items if item and item.strip()})
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise ServiceError(
            f"Unknown scope {', '.join(unknown)}; choose from {', '.join(SCOPES)}.", field="scopes"
        )
    if not scopes:
        raise ServiceError("Choose at least one scope.", field="scopes")
    return scopes


def create_token(
    *, name: str, scopes: str | list[str], created_by_id: int | None = None
) -> tuple[ApiToken, str]:
    """Create a token for integration `name` (unique, letters, digits, space . _ -, up to 80).
    Returns the record and the token itself, which is never shown again: only its hash is
    kept."""
    name = (name or "").strip()
    if not NAME_PATTERN.match(name):
        raise ServiceError(
            "Name the integration with up to 80 letters, digits, spaces, dots, dashes or "
            "underscores, starting with a letter or digit.",
            field="name",
        )
    if db.session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise ServiceError(
            f"There is already a token named {name}; revoke it or choose another name.",
            field="name",
        )
    checked = parse_scopes(scopes)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        scopes=",".join(checked),
        created_by_id=created_by_id,
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke_token(token: ApiToken, *, revoked_by_id: int | None = None) -> ApiToken:
    """Revoke `token`: from now on it authenticates nothing. Revoking twice is refused."""
    if token.revoked_at is not None:
        raise ServiceError(f"The token {token.name} is already revoked.")
    token.revoked_at = utcnow()
    token.revoked_by_id = revoked_by_id
    # Its stored answers can never be replayed again, and they hold complaint data.
    db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.token_id == token.id))
    db.session.flush()
    return token


def list_tokens() -> list[ApiToken]:
    """Every token, active first, then by name."""
    return list(
        db.session.scalars(
            select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.name)
        )
    )


def get_token(token_id: int) -> ApiToken | None:
    return db.session.get(ApiToken, token_id)


def get_token_by_name(name: str) -> ApiToken | None:
    return db.session.scalar(select(ApiToken).where(ApiToken.name == name))


# Every API call looks its token up: the statement is built once.
_BY_HASH = select(ApiToken).where(ApiToken.token_hash == bindparam("token_hash"))


def authenticate(secret: str, now: datetime | None = None) -> ApiToken | None:
    """The active token whose hash matches `secret` (None otherwise); stamps its last use."""
    if not secret:
        return None
    token = db.session.scalar(_BY_HASH, {"token_hash": hash_token(secret)})
    if token is None or token.revoked_at is not None:
        return None
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token_id = token.id

        def stamp(session: Session) -> None:
            used = session.get(ApiToken, token_id)
            if used is not None:
                used.last_used_at = now

        # Stamped in a commit of its own, so a refused request still counts as a use.
        keep_despite_rollback(db.session, stamp)
    return token
