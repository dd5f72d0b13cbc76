from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.complaints.models import LabelledEnum
from app.core.audit import Audited
from app.core.audit_labels import enum_label
from app.core.db import Base, TimestampMixin, UTCDateTime, VersionedMixin, enum_type
from app.nonconformities.models import Nonconformity


class AnalysisMethod(LabelledEnum):
    FIVE_WHYS = "five_whys"
    ISHIKAWA = "ishikawa"
    EIGHT_D = "eight_d"

    @property
    def label(self) -> str:
        return {"five_whys": "5 Whys", "ishikawa": "Ishikawa", "eight_d": "8D"}[self.value]


# The classic six Ms of an Ishikawa diagram; analysts may add categories of their own.
ISHIKAWA_CATEGORIES = ("people", "method", "equipment", "materials", "measurement", "environment")

EIGHT_D_DISCIPLINES = {
    "D0": "Plan and emergency response",
    "D1": "Form the team",
    "D2": "Describe the problem",
    "D3": "Interim containment",
    "D4": "Root causes and escape points",
    "D5": "Choose permanent corrective actions",
    "D6": "Implement and validate the actions",
    "D7": "Prevent recurrence",
    "D8": "Recognise the team",
}


class RootCauseAnalysis(Audited, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "root_cause_analysis"
    __audit_type_label__ = "Root-cause analysis"
    __audit_field_labels__ = {"created_by_id": "Analyst"}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nonconformity_id: Mapped[int] = mapped_column(ForeignKey("nonconformity.id"), index=True)
    method: Mapped[AnalysisMethod] = mapped_column(enum_type(AnalysisMethod, "analysis_method"))
    problem_statement: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    nonconformity: Mapped[Nonconformity] = relationship(back_populates="analyses")
    created_by: Mapped[User | None] = relationship()
    why_steps: Mapped[list[WhyStep]] = relationship(
        back_populates="analysis", order_by="WhyStep.position", cascade="all, delete-orphan"
    )
    ishikawa_causes: Mapped[list[IshikawaCause]] = relationship(
        back_populates="analysis", order_by="IshikawaCause.id", cascade="all, delete-orphan"
    )
    eight_d_sections: Mapped[list[EightDSection]] = relationship(
        back_populates="analysis", order_by="EightDSection.discipline", cascade="all, delete-orphan"
    )
    root_causes: Mapped[list[RootCause]] = relationship(
        back_populates="analysis", order_by="RootCause.id", cascade="all, delete-orphan"
    )

    @classmethod
    def audit_label_expression(cls) -> Any:
        reference = (
            select(Nonconformity.reference)
            .where(Nonconformity.id == cls.nonconformity_id)
            .scalar_subquery()
        )
        return enum_label(cls.method, AnalysisMethod) + " of " + func.coalesce(reference, "")

    @property
    def audit_label(self) -> str:
        return f"{AnalysisMethod(self.method).label} of {self.nonconformity.reference}"


class WhyStep(Audited, Base):
    __tablename__ = "why_step"
    __audit_label__ = "why"
    __audit_type_label__ = "5 Whys step"
    __audit_field_labels__ = {"analysis_id": "Analysis"}
    __table_args__ = (UniqueConstraint("analysis_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("root_cause_analysis.id"))
    position: Mapped[int] = mapped_column(Integer)
    why: Mapped[str] = mapped_column(Text)
    because: Mapped[str] = mapped_column(Text)

    analysis: Mapped[RootCauseAnalysis] = relationship(back_populates="why_steps")


class IshikawaCause(Audited, Base):
    __tablename__ = "ishikawa_cause"
    __audit_label__ = "cause"
    __audit_type_label__ = "Ishikawa cause"
    __audit_field_labels__ = {"analysis_id": "Analysis"}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("root_cause_analysis.id"), index=True)
    category: Mapped[str] = mapped_column(String(60))
    cause: Mapped[str] = mapped_column(Text)

    analysis: Mapped[RootCauseAnalysis] = relationship(back_populates="ishikawa_causes")


class EightDSection(Audited, Base):
    __tablename__ = "eight_d_section"
    __audit_label__ = "discipline"
    __audit_type_label__ = "8D discipline"
    __audit_field_labels__ = {"analysis_id": "Analysis"}
    __table_args__ = (UniqueConstraint("analysis_id", "discipline"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("root_cause_analysis.id"))
    discipline: Mapped[str] = mapped_column(String(2))
    content: Mapped[str] = mapped_column(Text, default="")

    analysis: Mapped[RootCauseAnalysis] = relationship(back_populates="eight_d_sections")


class RootCause(Audited, TimestampMixin, Base):
    """A root-cause statement; its category feeds the root-cause Pareto chart."""

    __tablename__ = "root_cause"
    __audit_label__ = "statement"
    __audit_type_label__ = "Root cause"
    __audit_field_labels__ = {
        "analysis_id": "Analysis",
        "cause_category": "Cause category",
        "verified_by_id": "Verified by",
        "verified_at": "Verified",
    }

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("root_cause_analysis.id"), index=True)
    statement: Mapped[str] = mapped_column(Text)
    cause_category: Mapped[str] = mapped_column(String(60), index=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    analysis: Mapped[RootCauseAnalysis] = relationship(back_populates="root_causes")
    verified_by: Mapped[User | None] = relationship()
