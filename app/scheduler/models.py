from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.capa.models import Capa
from app.complaints.models import LabelledEnum
from app.core.audit import Audited
from app.core.db import Base, TimestampMixin, UTCDateTime, VersionedMixin, enum_type, utcnow
from app.nonconformities.models import Nonconformity


class ScheduledJob(Audited, TimestampMixin, VersionedMixin, Base):
    """A job's schedule and settings, as the admin page sets them (the code says what it does)."""

    __tablename__ = "scheduled_job"
    __audit_label__ = "name"
    __audit_type_label__ = "Scheduled job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    cron: Mapped[str] = mapped_column(String(120))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    settings_json: Mapped[str] = mapped_column(Text, default="{}")
    # Slots are counted from here: a new or re-scheduled job does not run for slots before it.
    schedule_since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def settings(self) -> dict[str, Any]:
        return json.loads(self.settings_json or "{}")


class JobRunStatus(LabelledEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # The runner died (or stopped answering) before it finished: its work was never committed.
    ABANDONED = "abandoned"
    # The slot came while another run of the job was still going: it was not run, only recorded.
    SKIPPED = "skipped"


class JobTrigger(LabelledEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"


class JobRun(Base):
    """One run of a job. (job_name, scheduled_for) is unique: the row is the claim on the slot,
    inserted before the work starts, so a slot runs once however many schedulers see it."""

    __tablename__ = "job_run"
    __table_args__ = (
        UniqueConstraint("job_name", "scheduled_for"),
        Index("ix_job_run_job_name_started_at", "job_name", "started_at"),
        Index("ix_job_run_trigger_job_name_scheduled_for", "trigger", "job_name", "scheduled_for"),
        # Every tick looks for running runs (stale ones to abandon, active ones to wait for).
        Index("ix_job_run_status_job_name", "status", "job_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_name: Mapped[str] = mapped_column(String(60))
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime())
    trigger: Mapped[JobTrigger] = mapped_column(enum_type(JobTrigger, "job_trigger"))
    status: Mapped[JobRunStatus] = mapped_column(enum_type(JobRunStatus, "job_run_status"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    counts_json: Mapped[str] = mapped_column(Text, default="{}")
    error: Mapped[str] = mapped_column(Text, default="")
    # host:pid of the scheduler (or web worker, for "Run now") that claimed the slot.
    runner: Mapped[str] = mapped_column(String(200), default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    requested_by: Mapped[User | None] = relationship()

    @property
    def counts(self) -> dict[str, int]:
        return json.loads(self.counts_json or "{}")

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class RecurrenceRule(LabelledEnum):
    WINDOW_THRESHOLD = "window_threshold"
    ABOVE_UPPER_LIMIT = "above_upper_limit"
    RUN_ABOVE_CENTRE = "run_above_centre"

    @property
    def label(self) -> str:
        return RULE_LABELS[self]


RULE_LABELS = {
    RecurrenceRule.WINDOW_THRESHOLD: "Count in the rolling window reached the threshold",
    RecurrenceRule.ABOVE_UPPER_LIMIT: "A weekly count above the c-chart upper control limit",
    RecurrenceRule.RUN_ABOVE_CENTRE: "8 weeks in a row above the c-chart centre line",
}

recurrence_signal_nonconformity = Table(
    "recurrence_signal_nonconformity",
    Base.metadata,
    Column("signal_id", ForeignKey("recurrence_signal.id"), primary_key=True),
    Column("nonconformity_id", ForeignKey("nonconformity.id"), primary_key=True, index=True),
)


class RecurrenceSignal(Base):
    """A recurring pattern the review found, and the nonconformity it opened.

    Contributing complaints are linked to that nonconformity (complaint_nonconformity);
    contributing nonconformities through recurrence_signal_nonconformity."""

    __tablename__ = "recurrence_signal"
    __table_args__ = (
        Index("ix_recurrence_signal_fingerprint_raised_at", "fingerprint", "raised_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(120))
    process_id: Mapped[int | None] = mapped_column(ForeignKey("process.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"))
    rules: Mapped[str] = mapped_column(String(200))  # comma-separated RecurrenceRule values
    nonconformity_id: Mapped[int] = mapped_column(ForeignKey("nonconformity.id"), index=True)
    job_run_id: Mapped[int | None] = mapped_column(ForeignKey("job_run.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    record_count: Mapped[int] = mapped_column(Integer)
    details: Mapped[str] = mapped_column(Text, default="")

    nonconformity: Mapped[Nonconformity] = relationship()
    contributing_nonconformities: Mapped[list[Nonconformity]] = relationship(
        secondary=recurrence_signal_nonconformity, order_by=Nonconformity.id
    )

    @property
    def rule_list(self) -> list[RecurrenceRule]:
        return [RecurrenceRule(rule) for rule in self.rules.split(",") if rule]


class CapaRecurrenceFlag(Base):
    """A recurrence found after the CAPA was verified effective: shown on the CAPA's page."""

    __tablename__ = "capa_recurrence_flag"
    __table_args__ = (UniqueConstraint("capa_id", "signal_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    capa_id: Mapped[int] = mapped_column(ForeignKey("capa.id"), index=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("recurrence_signal.id"), index=True)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    records_since_verified: Mapped[int] = mapped_column(Integer)

    capa: Mapped[Capa] = relationship()
    signal: Mapped[RecurrenceSignal] = relationship()
