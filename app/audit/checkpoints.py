"""Signed checkpoints: anchoring the audit chain outside the database.

The hash chain proves that nothing before its head changed, but not that the head is still the
head: an attacker with database access can delete the newest events, or rewrite the trail from some
event on and recompute every hash after it. A checkpoint records the head (event count, head id,
head hash, time), signed with an Ed25519 key that lives in a file outside the database
(`AUDIT_SIGNING_KEY_FILE`), and is published outside the database too: appended to
`AUDIT_CHECKPOINT_PUBLISH` (a file, or a directory holding one file per checkpoint) and, when
`AUDIT_CHECKPOINT_EMAIL` is set, mailed to that address. `verify_trail` then checks the chain
against every checkpoint, from the database or from an exported file: events a checkpoint covered
are missing (truncation), a checkpointed head hash differs (rewrite), or a signature is wrong.

What no checkpoint can prove is anything about the events written after the latest one; the
checkpoint interval is the window an operator accepts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import smtplib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app
from sqlalchemy import select
from sqlalchemy.engine import Connection

from app.audit.models import AuditCheckpoint
from app.core.audit import (
    GENESIS_HASH,
    AuditEvent,
    ChainVerification,
    canonical_json,
    current_context,
    format_timestamp,
    verify_chain,
)
from app.core.db import utcnow
from app.core.errors import ServiceError

PAYLOAD_VERSION = "loop-qms-checkpoint/1"


class KeyProblem(ServiceError):
    """The signing key is missing or unreadable (a setting to fix, not a tampered trail)."""


# --- keys ------------------------------------------------------------------------------------


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_key_file(path: Path) -> Ed25519PrivateKey:
    """Write a new Ed25519 private key (PEM, readable by its owner only) to `path`."""
    if path.exists():
        raise KeyProblem(f"{path} exists already; a signing key is never overwritten.")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return key


def signing_key_path(config: Mapping[str, Any]) -> Path:
    configured = str(config.get("AUDIT_SIGNING_KEY_FILE") or "")
    if configured:
        return Path(configured)
    if config.get("ENV_NAME") == "production":
        raise KeyProblem(
            "AUDIT_SIGNING_KEY_FILE is not set: production needs the checkpoint signing key "
            "(create one with: flask --app wsgi audit generate-key PATH)."
        )
    from config import instance_dir

    return instance_dir() / "audit_signing_key.pem"


def load_signing_key(config: Mapping[str, Any]) -> Ed25519PrivateKey:
    """The private key named by AUDIT_SIGNING_KEY_FILE; generated on first use outside production,
    required (KeyProblem naming the file) in production."""
    path = signing_key_path(config)
    if not path.exists():
        if config.get("ENV_NAME") == "production":
            raise KeyProblem(
                f"The checkpoint signing key {path} (AUDIT_SIGNING_KEY_FILE) does not exist "
                "(create one with: flask --app wsgi audit generate-key PATH)."
            )
        try:
            return generate_key_file(path)
        except (FileExistsError, KeyProblem):
            pass  # another process generated it a moment ago: read that one
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise KeyProblem(f"The checkpoint signing key {path} cannot be read: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyProblem(f"The checkpoint signing key {path} is not an Ed25519 key.")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """A PEM public key file (as `audit public-key` prints it)."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError, TypeError) as error:
        raise KeyProblem(f"The public key {path} cannot be read: {error}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyProblem(f"The public key {path} is not an Ed25519 key.")
    return key


def trusted_public_key(config: Mapping[str, Any], public_key_file: Path | None = None) -> Any:
    """The key checkpoints must be signed with: the file given, AUDIT_PUBLIC_KEY_FILE, or the
    public half of the signing key."""
    if public_key_file is not None:
        return load_public_key(public_key_file)
    if config.get("AUDIT_PUBLIC_KEY_FILE"):
        return load_public_key(Path(str(config["AUDIT_PUBLIC_KEY_FILE"])))
    return load_signing_key(config).public_key()


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


# --- the signed statement ----------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint as it is signed, stored and exported (a database row or a file line)."""

    created_at: str
    event_count: int
    head_event_id: int
    head_hash: str
    key_id: str
    signature: str
    number: int | None = None  # the database id, where known (not signed)

    def payload(self) -> bytes:
        return canonical_json(
            {
                "version": PAYLOAD_VERSION,
                "created_at": self.created_at,
                "event_count": self.event_count,
                "head_event_id": self.head_event_id,
                "head_hash": self.head_hash,
                "key_id": self.key_id,
            }
        ).encode()

    def signature_valid(self, public_key: Ed25519PublicKey) -> bool:
        if self.key_id != key_id(public_key):
            return False
        try:
            public_key.verify(base64.b64decode(self.signature, validate=True), self.payload())
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_json(self) -> str:
        return canonical_json(
            {
                "checkpoint": self.number,
                "created_at": self.created_at,
                "event_count": self.event_count,
                "head_event_id": self.head_event_id,
                "head_hash": self.head_hash,
                "key_id": self.key_id,
                "signature": self.signature,
                "version": PAYLOAD_VERSION,
            }
        )

    @property
    def label(self) -> str:
        number = f"#{self.number} " if self.number is not None else ""
        return f"checkpoint {number}of {self.created_at}"

    @classmethod
    def from_row(cls, row: AuditCheckpoint) -> Checkpoint:
        return cls(
            created_at=format_timestamp(row.created_at),
            event_count=row.event_count,
            head_event_id=row.head_event_id,
            head_hash=row.head_hash,
            key_id=row.key_id,
            signature=row.signature,
            number=row.id,
        )

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        data = json.loads(text)
        return cls(
            created_at=str(data["created_at"]),
            event_count=int(data["event_count"]),
            head_event_id=int(data["head_event_id"]),
            head_hash=str(data["head_hash"]),
            key_id=str(data["key_id"]),
            signature=str(data["signature"]),
            number=int(data["checkpoint"]) if data.get("checkpoint") is not None else None,
        )


def sign(
    private_key: Ed25519PrivateKey, created_at: datetime, count: int, head_id: int, head: str
) -> Checkpoint:
    unsigned = Checkpoint(
        format_timestamp(created_at), count, head_id, head, key_id(private_key.public_key()), ""
    )
    signature = base64.b64encode(private_key.sign(unsigned.payload())).decode()
    return Checkpoint(
        unsigned.created_at, count, head_id, head, unsigned.key_id, signature, unsigned.number
    )


# --- reading checkpoints -----------------------------------------------------------------------


def stored_checkpoints(connection: Connection) -> list[Checkpoint]:
    rows = connection.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.id)).all()
    return [
        Checkpoint(
            created_at=format_timestamp(row.created_at),
            event_count=row.event_count,
            head_event_id=row.head_event_id,
            head_hash=row.head_hash,
            key_id=row.key_id,
            signature=row.signature,
            number=row.id,
        )
        for row in rows
    ]


def latest_checkpoint(session: Any) -> AuditCheckpoint | None:
    return session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1))


class CheckpointFileError(ServiceError):
    pass


def read_checkpoint_file(path: Path) -> list[Checkpoint]:
    """Checkpoints from an exported file (one JSON object a line) or a published directory."""
    if path.is_dir():
        files = sorted(path.glob("checkpoint-*.json"))
        lines = [(file, 1, file.read_text().strip()) for file in files]
    elif path.is_file():
        lines = [
            (path, number, line.strip())
            for number, line in enumerate(path.read_text().splitlines(), start=1)
        ]
    else:
        raise CheckpointFileError(f"There is no checkpoint file or directory at {path}.")
    checkpoints = []
    for file, number, line in lines:
        if not line:
            continue
        try:
            checkpoints.append(Checkpoint.from_json(line))
        except (ValueError, KeyError, TypeError):
            raise CheckpointFileError(
                f"{file} line {number} is not a checkpoint (one JSON object a line expected)."
            ) from None
    if not checkpoints:
        raise CheckpointFileError(f"{path} holds no checkpoints.")
    return checkpoints


# --- verifying the trail against checkpoints ---------------------------------------------------


@dataclass(frozen=True)
class Finding:
    kind: str  # "truncated", "rewritten", "bad_signature"
    checkpoint: Checkpoint
    message: str


@dataclass(frozen=True)
class TrailVerification:
    chain: ChainVerification
    checkpoints_checked: int
    findings: list[Finding] = field(default_factory=list)
    latest: Checkpoint | None = None

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.findings

    def lines(self) -> list[str]:
        lines = [self.chain.summary()]
        if self.checkpoints_checked == 0:
            lines.append("No checkpoints: truncation and rewrites cannot be detected yet.")
        lines.extend(finding.message for finding in self.findings)
        if self.checkpoints_checked and not self.findings:
            latest = self.latest
            assert latest is not None
            lines.append(
                f"OK {self.checkpoints_checked} checkpoints; the latest ({latest.label}) covers "
                f"{latest.event_count} events, head {latest.head_hash}"
            )
        return lines


def check_checkpoints(
    connection: Connection,
    checkpoints: Iterable[Checkpoint],
    public_key: Ed25519PublicKey,
) -> tuple[int, list[Finding]]:
    """Compare each checkpoint with the trail: its signature, that the event it named as head is
    still there, and that the event still has the hash it had."""
    checkpoints = list(checkpoints)
    findings: list[Finding] = []
    last_id = connection.execute(
        select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar()
    last_id = last_id or 0
    wanted = sorted({c.head_event_id for c in checkpoints if c.head_event_id})
    hashes: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        hashes.update(
            connection.execute(
                select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.id.in_(chunk))
            ).all()
        )
    for checkpoint in checkpoints:
        if not checkpoint.signature_valid(public_key):
            findings.append(
                Finding(
                    "bad_signature",
                    checkpoint,
                    f"BAD SIGNATURE: {checkpoint.label} was not signed by the audit key "
                    f"{key_id(public_key)} (forged or replaced); its claims are not trusted.",
                )
            )
            continue
        head_id = checkpoint.head_event_id
        if head_id == 0:
            continue
        if head_id > last_id or head_id not in hashes:
            first_missing = last_id + 1 if head_id > last_id else head_id
            findings.append(
                Finding(
                    "truncated",
                    checkpoint,
                    f"TRUNCATED: {checkpoint.label} covered {checkpoint.event_count} events up to "
                    f"event {head_id}, but event {head_id} is gone (the trail now ends at event "
                    f"{last_id}; events from {first_missing} on are missing).",
                )
            )
        elif hashes[head_id] != checkpoint.head_hash:
            findings.append(
                Finding(
                    "rewritten",
                    checkpoint,
                    f"REWRITTEN: {checkpoint.label} recorded head hash {checkpoint.head_hash} "
                    f"for event {head_id}; the trail's event {head_id} now has {hashes[head_id]}.",
                )
            )
    return len(checkpoints), findings


def verify_trail(
    connection: Connection,
    public_key: Ed25519PublicKey,
    checkpoints: list[Checkpoint] | None = None,
    progress: Callable[[int], None] | None = None,
) -> TrailVerification:
    """The whole chain recomputed, then checked against `checkpoints` (default: the stored ones)."""
    chain = verify_chain(connection, progress=progress)
    if checkpoints is None:
        checkpoints = stored_checkpoints(connection)
    checked, findings = check_checkpoints(connection, checkpoints, public_key)
    latest = max(checkpoints, key=lambda c: (c.head_event_id, c.created_at), default=None)
    return TrailVerification(chain, checked, findings, latest)


# --- writing a checkpoint ----------------------------------------------------------------------


class TrailDoesNotVerify(ServiceError):
    pass


@dataclass(frozen=True)
class CreatedCheckpoint:
    row: AuditCheckpoint
    checkpoint: Checkpoint
    published: list[str]
    mail_problem: str = ""


def _publish_targets(config: Mapping[str, Any]) -> tuple[Path | None, str]:
    target = str(config.get("AUDIT_CHECKPOINT_PUBLISH") or "")
    return (Path(target) if target else None), str(config.get("AUDIT_CHECKPOINT_EMAIL") or "")


def create_checkpoint(session: Any) -> CreatedCheckpoint:
    """Sign the chain's current head, store the checkpoint and publish it outside the database.

    Only a head that verifies is signed: the events since the previous checkpoint are recomputed
    and that checkpoint's head checked first (TrailDoesNotVerify otherwise, nothing written).
    Flushes; the caller commits."""
    config = current_app.config
    private_key = load_signing_key(config)
    connection = session.connection()
    previous = latest_checkpoint(session)
    after_id, after_hash = 0, GENESIS_HASH
    if previous is not None and previous.head_event_id:
        _, findings = check_checkpoints(
            connection, [Checkpoint.from_row(previous)], private_key.public_key()
        )
        if findings:
            raise TrailDoesNotVerify(f"No checkpoint signed. {findings[0].message}")
        after_id, after_hash = previous.head_event_id, previous.head_hash
    chain = verify_chain(connection, after_id=after_id, after_hash=after_hash)
    if not chain.ok:
        raise TrailDoesNotVerify(f"No checkpoint signed: the trail is {chain.summary()}.")
    head_id = after_id + chain.count
    now = utcnow()
    checkpoint = sign(private_key, now, head_id, head_id, chain.head_hash)
    file_target, email = _publish_targets(config)
    published = ([f"file {file_target}"] if file_target else []) + (
        [f"e-mail {email}"] if email else []
    )
    row = AuditCheckpoint(
        created_at=now,
        event_count=checkpoint.event_count,
        head_event_id=checkpoint.head_event_id,
        head_hash=checkpoint.head_hash,
        key_id=checkpoint.key_id,
        signature=checkpoint.signature,
        created_by=current_context().actor,
        published_to="; ".join(published),
    )
    session.add(row)
    session.flush()
    numbered = Checkpoint.from_row(row)
    if file_target is not None:
        append_to_file(file_target, numbered)
    mail_problem = ""
    if email:
        try:
            mail_checkpoint(config, email, numbered)
        except (OSError, smtplib.SMTPException, ServiceError) as error:
            # The signed checkpoint stands (database and file); only the witness copy is missing.
            detail = error.message if isinstance(error, ServiceError) else f"{error}"
            mail_problem = f"The checkpoint could not be e-mailed to {email}: {detail}"
    return CreatedCheckpoint(row, numbered, published, mail_problem)


def append_to_file(target: Path, checkpoint: Checkpoint) -> Path:
    """Append one line to the publish file, or write `checkpoint-<id>.json` into a directory
    (an existing one, or a path ending in a slash). fsynced: it is the copy that must survive."""
    if target.is_dir() or str(target).endswith(os.sep):
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"checkpoint-{checkpoint.number or 0:08d}.json"
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        path = target
    with path.open("a", encoding="utf-8") as handle:
        handle.write(checkpoint.to_json() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return path


def mail_checkpoint(config: Mapping[str, Any], address: str, checkpoint: Checkpoint) -> None:
    """E-mail the checkpoint through the app's mail settings (the witness's mailbox)."""
    from app.notifications.mail import OutgoingMail, mail_configured, send_all

    if not mail_configured(config):
        raise ServiceError(
            f"AUDIT_CHECKPOINT_EMAIL is {address} but MAIL_SERVER is not set: no e-mail can go."
        )
    body = (
        f"Audit-trail checkpoint of {config.get('ORG_NAME', 'Loop QMS')}\n\n"
        f"Events covered: {checkpoint.event_count}\n"
        f"Head event:     {checkpoint.head_event_id}\n"
        f"Head hash:      {checkpoint.head_hash}\n"
        f"Taken at:       {checkpoint.created_at}\n"
        f"Signing key:    {checkpoint.key_id}\n\n"
        "Keep this message. The line below is the checkpoint as `audit verify --checkpoints` "
        "reads it:\n\n"
        f"{checkpoint.to_json()}\n"
    )
    subject = f"Audit checkpoint {checkpoint.number}: {checkpoint.event_count} events"
    send_all(config, [OutgoingMail(0, address, subject, body)])


def export_checkpoints(connection: Connection) -> str:
    """Every stored checkpoint, one JSON line each (the format `audit verify --checkpoints`
    reads)."""
    return "".join(checkpoint.to_json() + "\n" for checkpoint in stored_checkpoints(connection))


def covering_checkpoint(session: Any, last_event_id: int) -> AuditCheckpoint | None:
    """The earliest checkpoint whose head is at or after `last_event_id`: it covers every event up
    to that one."""
    return session.scalar(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.head_event_id >= last_event_id)
        .order_by(AuditCheckpoint.head_event_id, AuditCheckpoint.id)
        .limit(1)
    )
