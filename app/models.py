"""Every model, imported in one place so the metadata (and so Alembic) sees all tables."""

from app.accounts.models import LoginAttempt, User, UserSession
from app.api.models import ApiToken, IdempotencyRecord
from app.attachments.models import Attachment
from app.audit.models import AuditCheckpoint
from app.audits.models import (
    Audit,
    AuditProgramme,
    AuditQuestion,
    ChecklistQuestion,
    ChecklistTemplate,
    Clause,
    Finding,
    Standard,
)
from app.capa.models import Capa, EffectivenessCheck, TrainingAssignment
from app.complaints.models import Complaint, RecoveryAction
from app.core.audit import AuditEvent
from app.core.data_version import DataVersion
from app.core.files import StoredFile, StoredFileChunk
from app.core.references import ReferenceCounter
from app.core.signatures import Signature
from app.documents.models import ControlledDocument, DocumentRevision, ReadAcknowledgement
from app.fmea.models import Fmea, FmeaAction, FmeaRevision, FmeaRow
from app.intake.models import ImportJob, ImportMapping, ImportRejection
from app.metrics.models import Initiative, MeasuredMetric, MetricGoal, MetricValue, Objective
from app.metrics.rollup import (
    ComplaintCategoryDayRollup,
    ComplaintDayRollup,
    RecoveryCostDayRollup,
)
from app.nonconformities.models import Nonconformity
from app.notifications.models import Notification
from app.organisation.models import Category, Customer, Process, Site, TQMPrinciple
from app.rca.models import EightDSection, IshikawaCause, RootCause, RootCauseAnalysis, WhyStep
from app.reports.models import ArchivedReport
from app.reviews.models import ManagementReview, ReviewOutput
from app.scheduler.models import CapaRecurrenceFlag, JobRun, RecurrenceSignal, ScheduledJob
from app.strategy.models import (
    AssessmentEntry,
    AssessmentRevision,
    Capability,
    Department,
    RecoveryOwnership,
    Stakeholder,
)
from app.suppliers.models import (
    ComplaintAttribution,
    NonconformityAttribution,
    Scar,
    ScarLink,
    Supplier,
)
from app.tasks.models import BackgroundTask

__all__ = [
    "ApiToken",
    "ArchivedReport",
    "AssessmentEntry",
    "AssessmentRevision",
    "Attachment",
    "Audit",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditProgramme",
    "AuditQuestion",
    "BackgroundTask",
    "Capa",
    "CapaRecurrenceFlag",
    "Capability",
    "Category",
    "ChecklistQuestion",
    "ChecklistTemplate",
    "Clause",
    "Complaint",
    "ComplaintAttribution",
    "ComplaintCategoryDayRollup",
    "ComplaintDayRollup",
    "ControlledDocument",
    "Customer",
    "DataVersion",
    "Department",
    "DocumentRevision",
    "EffectivenessCheck",
    "EightDSection",
    "Finding",
    "Fmea",
    "FmeaAction",
    "FmeaRevision",
    "FmeaRow",
    "IdempotencyRecord",
    "ImportJob",
    "ImportMapping",
    "ImportRejection",
    "Initiative",
    "IshikawaCause",
    "JobRun",
    "LoginAttempt",
    "ManagementReview",
    "MeasuredMetric",
    "MetricGoal",
    "MetricValue",
    "Nonconformity",
    "NonconformityAttribution",
    "Notification",
    "Objective",
    "Process",
    "ReadAcknowledgement",
    "RecoveryAction",
    "RecoveryCostDayRollup",
    "RecoveryOwnership",
    "RecurrenceSignal",
    "ReferenceCounter",
    "ReviewOutput",
    "RootCause",
    "RootCauseAnalysis",
    "Scar",
    "ScarLink",
    "ScheduledJob",
    "Signature",
    "Site",
    "Stakeholder",
    "Standard",
    "StoredFile",
    "StoredFileChunk",
    "Supplier",
    "TQMPrinciple",
    "TrainingAssignment",
    "User",
    "UserSession",
    "WhyStep",
]
