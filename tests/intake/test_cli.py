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
