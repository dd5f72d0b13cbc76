"""Objectives → initiatives → SMART metric goals, and the indexes the KPI queries need."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.complaints.models import Complaint, LabelledEnum, RecoveryAction
from app.core.audit import Audited
from app.core.db import Base, TimestampMixin, VersionedMixin, enum_type
from app.metrics.units import Better, MetricCategory, Unit
from app.organisation.models import TQMPrinciple

objective_principle = Table(
    "objective_principle",
    Base.metadata,
    Column("objective_id", ForeignKey("objective.id"), primary_key=True),
    Column("principle_id", ForeignKey("tqm_principle.id"), primary_key=True, index=True),
)

initiative_principle = Table(
    "initiative_principle",
    Base.metadata,
    Column("initiative_id", ForeignKey("initiative.id"), primary_key=True),
    Column("principle_id", ForeignKey("tqm_principle.id"), primary_key=True, index=True),
)


class Objective(Audited, TimestampMixin, VersionedMixin, Base):
    """A corporate quality objective, e.g. "Customers get their problem solved fast"."""

    __tablename__ = "objective"
    __audit_label__ = "title"
    __audit_type_label__ = "Objective"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)

    owner: Mapped[User | None] = relationship()
    principles: Mapped[list[TQMPrinciple]] = relationship(
        secondary=objective_principle, order_by=TQMPrinciple.id
    )
    initiatives: Mapped[list[Initiative]] = relationship(
        back_populates="objective", order_by="Initiative.id"
    )


class Initiative(Audited, TimestampMixin, VersionedMixin, Base):
    """A service-recovery initiative aligned to an objective and mapped to TQM principles."""

    __tablename__ = "initiative"
    __audit_label__ = "title"
    __audit_type_label__ = "Initiative"
    __table_args__ = (
        CheckConstraint(
            "start_date IS NULL OR end_date IS NULL OR end_date >= start_date",
            name="end_after_start",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    objective_id: Mapped[int] = mapped_column(ForeignKey("objective.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)

    objective: Mapped[Objective] = relationship(back_populates="initiatives")
    owner: Mapped[User | None] = relationship()
    principles: Mapped[list[TQMPrinciple]] = relationship(
        secondary=initiative_principle, order_by=TQMPrinciple.id
    )
    goals: Mapped[list[MetricGoal]] = relationship(
        back_populates="initiative", order_by="MetricGoal.id"
    )


class TargetKind(LabelledEnum):
    ABSOLUTE = "absolute"
    RELATIVE = "relative"


class MetricGoal(Audited, TimestampMixin, VersionedMixin, Base):
    """A SMART goal: a KPI, a baseline period, a target (absolute, or a % improvement on the
    baseline), a deadline and an owner. Progress and status are computed, never stored."""

    __tablename__ = "metric_goal"
    __audit_label__ = "kpi"
    __audit_type_label__ = "Metric goal"
    __table_args__ = (
        CheckConstraint("baseline_end >= baseline_start", name="baseline_ordered"),
        CheckConstraint("deadline > baseline_end", name="deadline_after_baseline"),
        CheckConstraint("target_value >= 0", name="target_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id"), index=True)
    kpi: Mapped[str] = mapped_column(String(60))
    baseline_start: Mapped[date] = mapped_column(Date)
    baseline_end: Mapped[date] = mapped_column(Date)
    target_kind: Mapped[TargetKind] = mapped_column(enum_type(TargetKind, "target_kind"))
    target_value: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    deadline: Mapped[date] = mapped_column(Date, index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)

    initiative: Mapped[Initiative] = relationship(back_populates="goals")
    owner: Mapped[User | None] = relationship()


class MeasuredMetric(Audited, TimestampMixin, VersionedMixin, Base):
    """A metric whose values come from another system (web analytics, CRM, billing, monitoring):
    one value per calendar month, typed, imported or posted to the API. Goals work on it exactly
    as on the computed KPIs (app.metrics.catalogue)."""

    __tablename__ = "measured_metric"
    __audit_label__ = "key"
    __audit_type_label__ = "Measured metric"
    __table_args__ = (CheckConstraint("length(key) >= 2", name="key_not_empty"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[MetricCategory] = mapped_column(
        enum_type(MetricCategory, "metric_category"), index=True
    )
    unit: Mapped[Unit] = mapped_column(enum_type(Unit, "metric_unit"))
    better: Mapped[Better] = mapped_column(enum_type(Better, "metric_better"))

    values: Mapped[list[MetricValue]] = relationship(
        back_populates="metric", order_by="MetricValue.period_start"
    )


class MetricValue(Audited, TimestampMixin, Base):
    """The value of a measured metric for one calendar month (`period_start` is its first day).
    Rates are stored as percentages (0–100), as they are entered."""

    __tablename__ = "metric_value"
    __audit_label__ = "period_start"
    __audit_type_label__ = "Metric value"
    __table_args__ = (
        UniqueConstraint("metric_id", "period_start"),
        CheckConstraint("source IN ('form', 'import', 'api')", name="source_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric_id: Mapped[int] = mapped_column(ForeignKey("measured_metric.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date, index=True)
    value: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    source: Mapped[str] = mapped_column(String(10))

    metric: Mapped[MeasuredMetric] = relationship(back_populates="values")


# The dashboard's complaint aggregates read only these columns for a period: a covering index lets
# the database scan the index alone instead of the (wide) complaint rows.
Index(
    "ix_complaint_kpi_cover",
    Complaint.received_at,
    Complaint.process_id,
    Complaint.channel,
    Complaint.first_response_seconds,
    Complaint.resolution_seconds,
    Complaint.first_contact_resolution,
    Complaint.escalation_level,
    Complaint.csat_score,
    Complaint.retention_status,
    Complaint.category_id,
    Complaint.status,
)
# Recovery costs by date: only the actions that cost money.
Index(
    "ix_recovery_action_cost_by_date",
    RecoveryAction.done_at,
    RecoveryAction.complaint_id,
    RecoveryAction.amount,
    sqlite_where=RecoveryAction.amount.is_not(None),
    postgresql_where=RecoveryAction.amount.is_not(None),
)
