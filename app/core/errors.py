"""Errors that services raise for the caller to show: a readable message, optionally for a field."""

from __future__ import annotations


class ServiceError(Exception):
    """A rule refused the change; nothing was written. `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotPermitted(ServiceError):
    """The user may not make this change at all (views answer 403, not a field error)."""


class NotFound(ServiceError):
    """The record asked for does not exist."""


class StaleRecord(ServiceError):
    """Someone else saved the record since it was loaded; the save was refused."""
