"""Accounts: creating users, signing in with throttling, roles and deactivation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import LoginAttempt, User
from app.accounts.sessions import end_user_sessions
from app.core.audit import AuditAction, acting_as, current_context, record_event, record_type_of
from app.core.db import ensure_current_version, keep_despite_rollback, utcnow
from app.core.errors import ServiceError
from app.core.permissions import Permission, Role, role_can
from app.core.signatures import Signature, SignatureMeaning, record_signature
from app.extensions import db

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128

# argon2id at OWASP's minimum profile (m=19 MiB, t=2, p=1).
password_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the e-mail is unknown, so a miss costs the same time as a wrong password.
_DUMMY_HASH = password_hasher.hash("loop-qms-dummy-password")

GENERIC_SIGN_IN_ERROR = (
    "The e-mail or password is not right, or sign-in is paused after repeated failures. "
    "Check them and try again in a few minutes."
)


def normalise_email(email: str) -> str:
    """Lower-cased, validated e-mail address (no DNS look-up); raises ServiceError if malformed."""
    try:
        return validate_email(
            email.strip(), check_deliverability=False, globally_deliverable=False
        ).normalized.lower()
    except EmailNotValidError as exc:
        raise ServiceError(f"Not a valid e-mail address: {exc}", field="email") from None


def check_password_policy(password: str) -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ServiceError(
            f"Passwords need at least {PASSWORD_MIN_LENGTH} characters.", field="password"
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise ServiceError(
            f"Passwords may have at most {PASSWORD_MAX_LENGTH} characters.", field="password"
        )


def hash_password(password: str) -> str:
    check_password_policy(password)
    return password_hasher.hash(password)


def password_matches(user: User, password: str) -> bool:
    try:
        return password_hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def last_sign_ins() -> dict[str, datetime]:
    """When each e-mail last signed in successfully (kept off the user row, so signing in never
    makes an administrator's open edit of that account stale)."""
    rows = db.session.execute(
        select(LoginAttempt.email, func.max(LoginAttempt.attempted_at))
        .where(LoginAttempt.succeeded.is_(True))
        .group_by(LoginAttempt.email)
    )
    return {email: attempted_at for email, attempted_at in rows}


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(email: str, full_name: str, role: Role | str, password: str) -> User:
    """Create an active user. Refuses a taken e-mail, a bad role or a password outside 12–128."""
    address = normalise_email(email)
    if not full_name.strip():
        raise ServiceError("A full name is required.", field="full_name")
    try:
        role = Role(role)
    except ValueError:
        raise ServiceError(
            f"Unknown role {role!r}; choose one of {', '.join(r.value for r in Role)}.",
            field="role",
        ) from None
    if get_user_by_email(address) is not None:
        raise ServiceError("A user with this e-mail already exists.", field="email")
    user = User(
        email=address,
        full_name=full_name.strip(),
        role=role,
        active=True,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    return user


def _active_admin_count() -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
        )
        or 0
    )


def _refuse_losing_last_admin(user: User) -> None:
    if user.role == Role.ADMIN and user.active and _active_admin_count() <= 1:
        raise ServiceError("This is the last active administrator; appoint another one first.")


def change_role(user: User, role: Role | str) -> User:
    """Give `user` another role; their open sessions end (they sign in again under it)."""
    role = Role(role)
    if role == user.role:
        return user
    if role != Role.ADMIN:
        _refuse_losing_last_admin(user)
    user.role = role
    end_user_sessions(user, "role changed")
    db.session.flush()
    return user


def set_active(user: User, active: bool) -> User:
    """Deactivate (sessions end at the next request) or reactivate a user."""
    if active == user.active:
        return user
    if not active:
        _refuse_losing_last_admin(user)
        user.session_epoch += 1
        end_user_sessions(user, "deactivated")
    user.active = active
    db.session.flush()
    return user


def set_password(user: User, password: str, keep_session: str | None = None) -> User:
    """Change the password; the user's other sessions end (all of them unless `keep_session`,
    the token of the session that made the change, is given)."""
    user.password_hash = hash_password(password)
    if keep_session is None:
        user.session_epoch += 1
    end_user_sessions(user, "password changed", keep=keep_session)
    db.session.flush()
    return user


def update_user(
    user: User,
    *,
    acting_user: User,
    full_name: str,
    role: Role | str,
    active: bool,
    expected_version: object,
) -> User:
    """Apply an administrator's edit of an account, refusing stale edits and self-lockout."""
    ensure_current_version(user, expected_version, f"The account of {user.full_name}")
    if not full_name.strip():
        raise ServiceError("A full name is required.", field="full_name")
    if user.id == acting_user.id and (not active or Role(role) != user.role):
        raise ServiceError("You cannot deactivate your own account or change your own role.")
    user.full_name = full_name.strip()
    change_role(user, role)
    set_active(user, active)
    return user


@dataclass(frozen=True)
class SignInResult:
    user: User | None

    @property
    def ok(self) -> bool:
        return self.user is not None


@dataclass(frozen=True)
class ThrottleSettings:
    lockout_threshold: int = 5
    lockout_window: timedelta = timedelta(minutes=15)
    ip_limit: int = 30
    ip_window: timedelta = timedelta(minutes=15)

    @classmethod
    def from_config(cls) -> ThrottleSettings:
        """The limits configured for this app (LOGIN_LOCKOUT_* and LOGIN_IP_*)."""
        config = current_app.config
        return cls(
            lockout_threshold=config["LOGIN_LOCKOUT_THRESHOLD"],
            lockout_window=config["LOGIN_LOCKOUT_WINDOW"],
            ip_limit=config["LOGIN_IP_LIMIT"],
            ip_window=config["LOGIN_IP_WINDOW"],
        )


def _recent_failures(*, email: str | None = None, remote_addr: str | None = None, since) -> int:
    query = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.attempted_at >= since, LoginAttempt.succeeded.is_(False))
    )
    if email is not None:
        last_success = db.session.scalar(
            select(func.max(LoginAttempt.attempted_at)).where(
                LoginAttempt.email == email, LoginAttempt.succeeded.is_(True)
            )
        )
        if last_success is not None and last_success > since:
            since = last_success
        query = query.where(LoginAttempt.email == email, LoginAttempt.attempted_at >= since)
    if remote_addr is not None:
        query = query.where(LoginAttempt.remote_addr == remote_addr)
    return db.session.scalar(query) or 0


def sign_in(
    email: str, password: str, remote_addr: str, throttle: ThrottleSettings
) -> SignInResult:
    """Check credentials, with lockout per e-mail and a rate limit per address.

    Every attempt is stored; the counts live in the database, so the limits hold across workers
    and hosts. The caller shows one generic message on failure whatever the cause, so nobody can
    learn which e-mail addresses have accounts. Failures and successes go to the audit trail.
    """
    address = email.strip().lower()[:254]
    now = utcnow()
    locked = (
        _recent_failures(email=address, since=now - throttle.lockout_window)
        >= throttle.lockout_threshold
    )
    rate_limited = (
        _recent_failures(remote_addr=remote_addr, since=now - throttle.ip_window)
        >= throttle.ip_limit
    )
    user = get_user_by_email(address)
    if user is None:
        _verify_dummy(password)
        credentials_ok = False
    else:
        credentials_ok = password_matches(user, password) and user.active
    succeeded = credentials_ok and not locked and not rate_limited
    db.session.add(
        LoginAttempt(email=address, remote_addr=remote_addr, attempted_at=now, succeeded=succeeded)
    )
    if not succeeded:
        why = "locked" if locked else "rate_limited" if rate_limited else "bad_credentials"
        if why == "bad_credentials" and user is not None and not user.active:
            why = "inactive"
        with acting_as(address or "anonymous", user.id if user else None):
            record_event(
                db.session,
                AuditAction.LOGIN_FAILED,
                "user_account",
                user.id if user else None,
                changes={"email": address, "cause": why},
            )
        db.session.flush()
        return SignInResult(None)
    assert user is not None
    if password_hasher.check_needs_rehash(user.password_hash):
        user.password_hash = password_hasher.hash(password)
    with acting_as(user.email, user.id):
        record_event(db.session, AuditAction.LOGIN, "user_account", user.id)
    db.session.flush()
    return SignInResult(user)


def address_rate_limited(remote_addr: str, throttle: ThrottleSettings) -> bool:
    """Whether `remote_addr` has failed too often lately: the sign-in rate limit, which the other
    pages open to anonymous visitors (the supplier response page) apply too."""
    since = utcnow() - throttle.ip_window
    return _recent_failures(remote_addr=remote_addr, since=since) >= throttle.ip_limit


def record_failed_attempt(what: str, remote_addr: str) -> None:
    """Count a failed anonymous attempt (`what`, e.g. a wrong supplier link) toward the address's
    rate limit. Kept although the refused request rolls back."""
    now = utcnow()

    def write_attempt(session: Session) -> None:
        session.add(
            LoginAttempt(
                email=what[:254], remote_addr=remote_addr[:64], attempted_at=now, succeeded=False
            )
        )

    keep_despite_rollback(db.session, write_attempt)


def _verify_dummy(password: str) -> bool:
    try:
        return password_hasher.verify(_DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def record_sign_out(user: User) -> None:
    with acting_as(user.email, user.id):
        record_event(db.session, AuditAction.LOGOUT, "user_account", user.id)


SIGNATURE_PASSWORD_ERROR = "The password is not right; nothing was signed."
SIGNATURE_LOCKED_ERROR = (
    "Signing is locked for a while after too many wrong passwords; nothing was signed."
)


def _refuse_signature(signer: User, cause: str, message: str) -> None:
    """Refuse the signing and count it as a failed sign-in attempt.

    The attempt is written when the request ends, after its rollback, so the lockout counts it:
    otherwise the rollback would erase it and the signing form could be used to guess a password
    without limit."""
    email, signer_id = signer.email, signer.id
    remote_addr = current_context().remote_addr or ""
    attempted_at = utcnow()

    def write_attempt(session: Session) -> None:
        session.add(
            LoginAttempt(
                email=email, remote_addr=remote_addr, attempted_at=attempted_at, succeeded=False
            )
        )
        record_event(
            session,
            AuditAction.LOGIN_FAILED,
            "user_account",
            signer_id,
            changes={"email": email, "cause": cause},
        )

    keep_despite_rollback(db.session, write_attempt)
    raise ServiceError(message, field="password")


def sign_record(
    record: object,
    signer: User,
    password: str,
    meaning: str,
    purpose: str,
    throttle: ThrottleSettings | None = None,
    *,
    signer_named_by_record: bool = False,
) -> Signature:
    """Sign `record` as `signer` after re-checking their password (21 CFR Part 11 style).

    Signing needs the role's sign permission, unless `signer_named_by_record`: the caller has
    checked that the record itself names the signer for this signature (an audit's lead auditor
    signs its report whatever their role).

    A wrong password signs nothing and counts as a failed sign-in attempt, kept even though the
    signing is undone; once the account is locked out no password is checked, so the signing
    form cannot be used to guess passwords past the lockout."""
    try:
        meaning = SignatureMeaning(meaning)
    except ValueError:
        raise ServiceError("Choose what the signature means.", field="meaning") from None
    if not signer_named_by_record and not role_can(signer.role, Permission.RECORDS_SIGN):
        raise ServiceError("Your role may not sign records.")
    throttle = throttle or ThrottleSettings.from_config()
    failures = _recent_failures(email=signer.email, since=utcnow() - throttle.lockout_window)
    if failures >= throttle.lockout_threshold:
        _refuse_signature(signer, "signature_locked", SIGNATURE_LOCKED_ERROR)
    if not signer.active or not password_matches(signer, password):
        _refuse_signature(signer, "signature_password", SIGNATURE_PASSWORD_ERROR)
    return record_signature(db.session, record, signer, meaning, purpose)


def signatures_of(record: object) -> list[Signature]:
    """The record's signatures, oldest first."""
    from sqlalchemy import inspect as sa_inspect

    return list(
        db.session.scalars(
            select(Signature)
            .where(
                Signature.record_type == record_type_of(record),
                Signature.record_id == str(sa_inspect(record).identity[0]),
            )
            .order_by(Signature.signed_at, Signature.id)
        )
    )
