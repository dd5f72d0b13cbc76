"""Helpers for the import tests: the two real files in tests/data and their shipped mappings."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
COMCAST = REPO / "tests" / "data" / "comcast_telecom_complaints.csv"
SERVICENOW = REPO / "tests" / "data" / "servicenow_incident_event_log_sample.csv"
COMCAST_MAPPING = REPO / "docs" / "mappings" / "comcast.json"
SERVICENOW_MAPPING = REPO / "docs" / "mappings" / "servicenow.json"


def mapping_of(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture()
def run_import(session) -> Callable[..., Any]:
    """Import a file with a mapping definition to the end (as the CLI does); returns the job."""
    from app.intake import services

    def run(
        path: Path | str,
        definition: dict[str, Any],
        mode: str = "skip_bad_rows",
        *,
        content: bytes | None = None,
        user: Any = None,
    ) -> Any:
        name = Path(path).name
        job = services.create_job(name, content or Path(path).read_bytes(), user=user)
        services.set_mapping(job, definition, user=user)
        services.start_job(job, mode, user=user)
        services.run_to_end(job)
        session.commit()
        return job

    return run
