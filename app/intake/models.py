"""Import records: saved column mappings, import jobs (with their file and progress) and the rows
an import rejected."""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from app.accounts.models import User
from app.core.audit import Audited
from app.core.db import Base, TimestampMixin, UTCDateTime, VersionedMixin, enum_type


class ImportMapping(Audited, TimestampMixin, VersionedMixin, Base):
    """A named, reusable column mapping (the JSON format of docs/import.md)."""

    __tablename__ = "import_mapping"
    __audit_label__ = "name"
    __audit_type_label__ = "Import mapping"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    definition: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    created_by: Mapped[User | None] = relationship()

    @property
    def definition_dict(self) -> dict[str, Any]:
        return json.loads(self.definition)

    @property
    def field_names(self) -> list[str]:
        """The complaint fields the definition fills, in the definition's order."""
        fields = self.definition_dict.get("fields") or {}
        return [name for name, spec in fields.items() if spec] if isinstance(fields, dict) else []


class ImportMode(enum.StrEnum):
    ALL_OR_NOTHING = "all_or_nothing"
    SKIP_BAD_ROWS = "skip_bad_rows"

    @property
    def label(self) -> str:
        return "All or nothing" if self is ImportMode.ALL_OR_NOTHING else "Skip bad rows"


class ImportStatus(enum.StrEnum):
    UPLOADED = "uploaded"  # the file is read; no mapping yet
    MAPPED = "mapped"  # a mapping is chosen; preview and start
    VALIDATING = "validating"  # all-or-nothing: every row is checked before any is written
    IMPORTING = "importing"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class ImportJob(Audited, TimestampMixin, VersionedMixin, Base):
    """One import of one file. The file is kept (normalised to UTF-8 CSV, compressed) so that the
    import can run in chunks, each in its own transaction, and resume after an interruption."""

    __tablename__ = "import_job"
    __audit_label__ = "filename"
    __audit_type_label__ = "Import"
    # Progress counters change on every chunk: the trail records the job's creation, its mapping
    # and its status changes (with the final counts), not every step.
    __audit_exclude__ = frozenset({"updated_at", "version", "position", "data"})
    __audit_state_field__ = "status"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    # zlib-compressed UTF-8 CSV with a header row, whatever the uploaded format was.
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    columns: Mapped[str] = mapped_column(Text)  # JSON list of the header names
    file_rows: Mapped[int] = mapped_column(Integer)
    mapping: Mapped[str | None] = mapped_column(Text)  # JSON mapping definition
    mapping_name: Mapped[str] = mapped_column(String(120), default="")
    # The saved mapping the job was mapped with, while it exists: it counts the mapping's uses.
    # The job runs and shows its own copy (`mapping`, `mapping_name`), so deleting the saved
    # mapping only clears this link (the service does it through the ORM, for the audit trail;
    # the database's SET NULL is the safety net).
    mapping_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_mapping.id", ondelete="SET NULL"), index=True
    )
    mode: Mapped[ImportMode] = mapped_column(
        enum_type(ImportMode, "import_mode"), default=ImportMode.SKIP_BAD_ROWS
    )
    status: Mapped[ImportStatus] = mapped_column(
        enum_type(ImportStatus, "import_status"), default=ImportStatus.UPLOADED, index=True
    )
    # Rows (complaints-to-be, after grouping an event log) and how far the current phase got.
    total: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    imported_count: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_count: Mapped[int] = mapped_column(Integer, default=0)
    rejected_count: Mapped[int] = mapped_column(Integer, default=0)
    # Rows (groups) the mapping's row filter left out; complaints imported with a time their
    # status implies but the file does not give (kept unknown); external ids that several rows
    # give with different values, and the first of them (JSON list, see id_conflicts).
    filtered_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unknown_time_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    conflict_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    conflicts: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by: Mapped[User | None] = relationship()
    saved_mapping: Mapped[ImportMapping | None] = relationship()

    @property
    def column_names(self) -> list[str]:
        return json.loads(self.columns)

    @property
    def mapping_dict(self) -> dict[str, Any] | None:
        return json.loads(self.mapping) if self.mapping else None

    @property
    def conflict_list(self) -> list[dict[str, Any]]:
        return json.loads(self.conflicts) if self.conflicts else []

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.COMPLETED, ImportStatus.FAILED)

    @property
    def running(self) -> bool:
        return self.status in (ImportStatus.VALIDATING, ImportStatus.IMPORTING)

    @property
    def percent(self) -> int:
        if self.finished:
            return 100
        if not self.total or not self.running:
            return 0
        # All-or-nothing runs two passes over the rows: validation is the first half.
        done = self.position / self.total
        if self.mode is ImportMode.ALL_OR_NOTHING:
            done = done / 2 if self.status is ImportStatus.VALIDATING else 0.5 + done / 2
        return min(100, int(done * 100))


class ImportRejection(Base):
    """A row an import refused, with the reason and the row's values (for the CSV download)."""

    __tablename__ = "import_rejection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("import_job.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    values: Mapped[str] = mapped_column(Text)  # JSON object: column → text, as in the file

    @property
    def values_dict(self) -> dict[str, str]:
        return json.loads(self.values)
