"""The SCAR-reminders job: for SCARs whose answer is due within N days, or overdue, the
supplier's contact gets a reminder with a fresh response link (the previous link is revoked:
only the newest works) and the SCAR's owner a notification, once per due date and kind.

Moving the due date (a returned SCAR with a new date) re-arms the reminders."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core.db import utcnow
from app.extensions import db
from app.notifications.services import notify
from app.scheduler.registry import JobContext, JobDefinition, JobSetting, register_job
from app.suppliers.models import WAITING_FOR_SUPPLIER, Scar
from app.suppliers.scar import _mail_supplier, _new_link

DEFAULT_DAYS_AHEAD = 3


def send_scar_reminders(
    as_of: datetime | None = None, days_ahead: int = DEFAULT_DAYS_AHEAD
) -> dict[str, int]:
    """Remind suppliers and owners of SCARs waiting for the supplier whose due date is within
    `days_ahead` days of `as_of`'s day (due) or before it (overdue). Each SCAR reminds once per
    due date and kind; a supplier without contact e-mail is skipped (the owner still hears)."""
    now = as_of or utcnow()
    today = now.date()
    counts = {"due": 0, "overdue": 0, "already_reminded": 0}
    scars = db.session.scalars(
        select(Scar)
        .options(joinedload(Scar.supplier), joinedload(Scar.owner))
        .where(
            Scar.status.in_(WAITING_FOR_SUPPLIER),
            Scar.due_date <= today + timedelta(days=days_ahead),
        )
        .order_by(Scar.id)
    ).all()
    for scar in scars:
        overdue = scar.due_date < today
        kind = "overdue" if overdue else "due"
        stamp = "reminded_overdue_on" if overdue else "reminded_due_on"
        if getattr(scar, stamp) == scar.due_date:
            counts["already_reminded"] += 1
            continue
        setattr(scar, stamp, scar.due_date)
        when = (
            f"was due {scar.due_date:%Y-%m-%d}" if overdue else f"is due {scar.due_date:%Y-%m-%d}"
        )
        if scar.supplier.contact_email:
            token = _new_link(scar, now, f"superseded by the {kind} reminder")
            _mail_supplier(
                scar,
                "reminder: answer overdue" if overdue else "reminder: answer due",
                f"Your answer to our corrective action request {when}:\n\n{scar.problem}",
                token,
            )
        if scar.owner is not None and scar.owner.active:
            notify(
                scar.owner,
                kind=f"scar_{kind}",
                subject=f"SCAR {scar.reference} to {scar.supplier.name} {when}",
                body=f"The answer of {scar.supplier.name} to {scar.reference} {when}; "
                "the supplier has been reminded.",
                link=f"/suppliers/scars/{scar.reference}",
                dedupe_key=f"scar-reminder:{kind}:{scar.id}:{scar.due_date:%Y-%m-%d}",
            )
        counts[kind] += 1
    db.session.flush()
    return counts


def _run(context: JobContext) -> dict[str, int]:
    return send_scar_reminders(context.as_of, int(context.settings["days_ahead"]))


SCAR_REMINDERS = register_job(
    JobDefinition(
        name="scar-reminders",
        title="Supplier corrective action reminders",
        description=(
            "Reminds suppliers (by e-mail, with a fresh response link) and SCAR owners of "
            "supplier corrective action requests whose answer is due within the next days or "
            "overdue, once per due date."
        ),
        default_cron="0 7 * * *",
        run=_run,
        settings=(
            JobSetting(
                "days_ahead", "Remind of answers due within (days)", DEFAULT_DAYS_AHEAD, 0, 30
            ),
        ),
    )
)
