"""`flask --app wsgi import complaints`: one readable line, a non-zero exit on error, nothing
written when it fails."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from app.complaints.models import Complaint
from app.core.audit import AuditEvent
from app.extensions import db
from tests.intake.conftest import COMCAST, COMCAST_MAPPING, SERVICENOW, SERVICENOW_MAPPING


def _complaints(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Complaint))


def test_the_cli_imports_reports_and_refuses_bad_input(databases, tmp_path) -> None:
    app = databases.new_migrated_app()
    runner = app.test_cli_runner()
    command = ["import", "complaints", str(COMCAST), "--mapping", str(COMCAST_MAPPING)]

    strict = runner.invoke(args=command)
    assert strict.exit_code == 1
    assert "row 1036: External id (ticket number) “comcas” does not match" in strict.output
    assert "Error: 1 of 2,224 rows failed the checks; nothing was imported." in strict.output
    assert _complaints(app) == 0

    lenient = runner.invoke(args=[*command, "--skip-bad-rows"])
    assert lenient.exit_code == 0, lenient.output
    assert (
        "comcast_telecom_complaints.csv: Imported 2,223 complaints; 0 duplicates skipped; "
        "1 row rejected." in lenient.output
    )
    again = runner.invoke(args=[*command, "--skip-bad-rows"])
    assert "Imported 0 complaints; 2,223 duplicates skipped; 1 row rejected." in again.output
    assert _complaints(app) == 2223
    with app.app_context():
        actors = set(db.session.scalars(select(AuditEvent.actor).distinct()))
    assert actors == {"system:cli-import"}

    missing = runner.invoke(
        args=["import", "complaints", str(tmp_path / "nope.csv"), "--mapping", str(COMCAST_MAPPING)]
    )
    assert missing.exit_code == 1 and "Cannot read" in missing.output
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    bad_json = runner.invoke(args=["import", "complaints", str(COMCAST), "--mapping", str(broken)])
    assert bad_json.exit_code == 1 and "is not valid JSON" in bad_json.output
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"fields": {"title": "Subject"}}), encoding="utf-8")
    refused = runner.invoke(args=["import", "complaints", str(COMCAST), "--mapping", str(wrong)])
    assert refused.exit_code == 1
    assert "Error: The mapping is not usable: map Channel, Severity" in refused.output
    # The ServiceNow log through the CLI: 890 incidents from 5,998 events.
    servicenow = runner.invoke(
        args=["import", "complaints", str(SERVICENOW), "--mapping", str(SERVICENOW_MAPPING)]
    )
    assert servicenow.exit_code == 0, servicenow.output
    assert "Imported 890 complaints; 0 duplicates skipped; 0 rows rejected." in servicenow.output


def test_the_cli_names_ids_whose_rows_disagree(databases, tmp_path) -> None:
    """The ServiceNow log mapped without grouping: its incidents' rows share the number."""
    app = databases.new_migrated_app()
    mapping = json.loads(SERVICENOW_MAPPING.read_text(encoding="utf-8"))
    mapping.pop("group_by")
    ungrouped = tmp_path / "ungrouped.json"
    ungrouped.write_text(json.dumps(mapping), encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=[
            "import",
            "complaints",
            str(SERVICENOW),
            "--mapping",
            str(ungrouped),
            "--skip-bad-rows",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "external ids are on several rows that disagree." in result.output
    first = next(line for line in result.output.splitlines() if line.startswith("  id INC"))
    assert " on rows 2, " in first and "that differ in" in first and "incident_state" in first
    assert _complaints(app) == 890 - sum(
        1 for line in result.output.splitlines() if line.startswith("  rejected row")
    )
