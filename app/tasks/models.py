"""A background task: what was asked, by whom, how far it got, and the file it produced.

Tasks are operational records like job runs, not controlled ones: they are not in the audit trail
(what they export is: a report or CSV records its `export` event when it is made).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from app.accounts.models import User
from app.complaints.models import LabelledEnum
from app.core.db import Base, UTCDateTime, enum_type, utcnow


class TaskStatus(LabelledEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class BackgroundTask(Base):
    __tablename__ = "background_task"
    __table_args__ = (
        # Runners look for the oldest queued task; the purge job for expired results.
        Index("ix_background_task_status_id", "status", "id"),
        Index("ix_background_task_expires_at", "expires_at"),
        Index("ix_background_task_requested_by_id_id", "requested_by_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[TaskStatus] = mapped_column(enum_type(TaskStatus, "background_task_status"))
    params_json: Mapped[str] = mapped_column(Text, default="{}")
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    requested_by: Mapped[User | None] = relationship(User)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the result is purged (set when the task finishes).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    runner: Mapped[str] = mapped_column(String(200), default="")
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    progress_label: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    result_filename: Mapped[str | None] = mapped_column(String(255))
    result_mimetype: Mapped[str | None] = mapped_column(String(100))
    result_size: Mapped[int | None] = mapped_column(Integer)
    # Loaded only for the download: status polls must not read megabytes.
    result: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))

    @property
    def params(self) -> dict[str, Any]:
        return json.loads(self.params_json or "{}")

    @property
    def finished(self) -> bool:
        return self.status in (TaskStatus.DONE, TaskStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.status is TaskStatus.DONE:
            return 100
        if not self.progress_total:
            return 0
        return max(0, min(99, self.progress_done * 100 // self.progress_total))
