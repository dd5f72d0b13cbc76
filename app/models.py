"""Every model, imported in one place so the metadata (and so Alembic) sees all tables."""

from app.accounts.models import LoginAttempt, User
from app.core.audit import AuditEvent
from app.organisation.models import Customer, Process, Site, TQMPrinciple

__all__ = ["AuditEvent", "Customer", "LoginAttempt", "Process", "Site", "TQMPrinciple", "User"]
