"""The jobs the scheduler knows: a name, a default cron schedule, settings, and a function.

A new job is one `register_job(JobDefinition(...))` call in a module that `load_jobs` imports;
its schedule, settings and on/off switch then appear on the admin page, and its runs are claimed
once per slot like every other job's.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.core.errors import NotFound, ServiceError

# Modules that register jobs when imported (a later job adds its module here).
JOB_MODULES = (
    "app.scheduler.jobs",
    "app.reports.archive",
    "app.tasks.jobs",
    "app.audit.jobs",
    "app.backups.jobs",
    "app.audits.jobs",
    "app.documents.jobs",
    "app.suppliers.jobs",
)


@dataclass(frozen=True)
class JobSetting:
    """One threshold or option of a job, edited on the admin page."""

    name: str
    label: str
    default: int | str
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[tuple[str, str], ...] = ()
    help: str = ""

    def clean(self, value: Any) -> int | str:
        """The value checked and converted; ServiceError (for this field) when it is not valid."""
        if self.choices:
            if value not in {key for key, _ in self.choices}:
                raise ServiceError(f"Choose one of the options for {self.label}.", field=self.name)
            return str(value)
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            raise ServiceError(f"{self.label} must be a whole number.", field=self.name) from None
        if self.minimum is not None and number < self.minimum:
            raise ServiceError(f"{self.label} must be at least {self.minimum}.", field=self.name)
        if self.maximum is not None and number > self.maximum:
            raise ServiceError(f"{self.label} must be at most {self.maximum}.", field=self.name)
        return number


@dataclass(frozen=True)
class JobContext:
    """What a running job gets: its settings, the time it evaluates as of, and its run's id."""

    name: str
    settings: dict[str, Any]
    as_of: datetime
    run_id: int
    # What one manual run was asked for beyond the settings (the recurrence review's history
    # range); empty for scheduled runs.
    options: dict[str, Any] = field(default_factory=dict)


JobFunction = Callable[[JobContext], dict[str, int]]


@dataclass(frozen=True)
class JobDefinition:
    name: str
    title: str
    description: str
    default_cron: str
    run: JobFunction
    settings: tuple[JobSetting, ...] = field(default_factory=tuple)

    @property
    def actor(self) -> str:
        """Who the audit trail names for everything the job changes."""
        return f"system:{self.name}"

    def settings_with_defaults(self, stored: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {setting.name: setting.default for setting in self.settings}
        values.update({key: value for key, value in stored.items() if key in values})
        return values


_REGISTRY: dict[str, JobDefinition] = {}


def register_job(definition: JobDefinition) -> JobDefinition:
    """Make a job known to every scheduler and the admin page (a later call replaces it)."""
    _REGISTRY[definition.name] = definition
    return definition


def unregister_job(name: str) -> None:
    _REGISTRY.pop(name, None)


def load_jobs() -> None:
    for module in JOB_MODULES:
        importlib.import_module(module)


def registered_jobs() -> list[JobDefinition]:
    load_jobs()
    return list(_REGISTRY.values())


def job_definition(name: str) -> JobDefinition:
    load_jobs()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise NotFound(f"There is no job called {name!r}.") from None
