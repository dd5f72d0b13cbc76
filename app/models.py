"""Every model, imported in one place so the metadata (and so Alembic) sees all tables."""

from app.accounts.models import LoginAttempt, User
from app.capa.models import Capa, EffectivenessCheck, TrainingAssignment
from app.complaints.models import Complaint, RecoveryAction
from app.core.audit import AuditEvent
from app.core.references import ReferenceCounter
from app.core.signatures import Signature
from app.nonconformities.models import Nonconformity
from app.organisation.models import Category, Customer, Process, Site, TQMPrinciple
from app.rca.models import EightDSection, IshikawaCause, RootCause, RootCauseAnalysis, WhyStep

__all__ = [
    "AuditEvent",
    "Capa",
    "Category",
    "Complaint",
    "Customer",
    "EffectivenessCheck",
    "EightDSection",
    "IshikawaCause",
    "LoginAttempt",
    "Nonconformity",
    "Process",
    "RecoveryAction",
    "ReferenceCounter",
    "RootCause",
    "RootCauseAnalysis",
    "Signature",
    "Site",
    "TQMPrinciple",
    "TrainingAssignment",
    "User",
    "WhyStep",
]
