"""Sending e-mail over SMTP with the MAIL_* settings; no MAIL_SERVER means no e-mail at all."""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

SMTP_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class OutgoingMail:
    # None for mail to someone without an account (a supplier's contact): no notification row.
    notification_id: int | None
    to: str
    subject: str
    body: str


def mail_configured(config: Mapping[str, Any]) -> bool:
    return bool(config.get("MAIL_SERVER"))


def send_all(config: Mapping[str, Any], messages: list[OutgoingMail]) -> list[int | None]:
    """Send `messages` over one SMTP connection; returns the notification ids that were sent.

    A message the server refuses is skipped (the in-app notification stays); a connection
    failure raises, so the caller can record it."""
    if not messages or not mail_configured(config):
        return []
    sent: list[int | None] = []
    with smtplib.SMTP(
        str(config["MAIL_SERVER"]), int(config.get("MAIL_PORT") or 25), timeout=SMTP_TIMEOUT_SECONDS
    ) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(str(config["MAIL_USERNAME"]), str(config.get("MAIL_PASSWORD") or ""))
        for message in messages:
            email = EmailMessage()
            email["From"] = str(config.get("MAIL_FROM") or "loop-qms@localhost")
            email["To"] = message.to
            email["Subject"] = message.subject
            email.set_content(message.body)
            try:
                smtp.send_message(email)
            except smtplib.SMTPRecipientsRefused:
                continue
            sent.append(message.notification_id)
    return sent
