from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.audit import Audited
from app.core.db import Base, TimestampMixin, VersionedMixin, enum_type


class Site(Audited, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "site"
    __audit_label__ = "name"
    __audit_type_label__ = "Site"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    address: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    processes: Mapped[list[Process]] = relationship(back_populates="site")


class Process(Audited, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "process"
    __audit_label__ = "name"
    __audit_type_label__ = "Process"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    owner: Mapped[User | None] = relationship()
    site: Mapped[Site | None] = relationship(back_populates="processes")


class CustomerSegment(enum.StrEnum):
    CONSUMER = "consumer"
    SMALL_BUSINESS = "small_business"
    ENTERPRISE = "enterprise"
    PUBLIC_SECTOR = "public_sector"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Customer(Audited, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "customer"
    __audit_label__ = "name"
    __audit_type_label__ = "Customer"
    __audit_money__ = {"annual_value": None}
    __audit_field_labels__ = {
        "annual_value": "Annual value",
        "customer_since": "Customer since",
        "left_on": "Left on",
        "external_id": "External id",
    }
    # The churn and retention figures read only these two columns of every customer.
    __table_args__ = (Index("ix_customer_since_left_on", "customer_since", "left_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    segment: Mapped[CustomerSegment] = mapped_column(
        enum_type(CustomerSegment, "customer_segment"), index=True
    )
    annual_value: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    customer_since: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    # The day the customer stopped being one (set when the customer is made inactive): with
    # customer_since it gives the churn and retention rates (app.metrics.customers).
    left_on: Mapped[date | None] = mapped_column(Date, index=True)
    # The customer's id in the system that sends complaints through the API (CRM, help desk).
    external_id: Mapped[str | None] = mapped_column(String(120), unique=True)


class TQMPrinciple(Audited, Base):
    """The eight TQM principles: reference data seeded by the first migration."""

    __tablename__ = "tqm_principle"
    __audit_label__ = "name"
    __audit_type_label__ = "TQM principle"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text)


class Category(Audited, TimestampMixin, VersionedMixin, Base):
    """The failure taxonomy shared by complaints and nonconformities (an admin-managed list), so
    that process + category fingerprints recurring failures across both."""

    __tablename__ = "category"
    __audit_label__ = "name"
    __audit_type_label__ = "Category"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
