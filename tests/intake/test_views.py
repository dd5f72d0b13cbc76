"""The import wizard over HTTP: upload, map, preview, import in steps, result and rejected CSV."""

from __future__ import annotations

import io
import json

from openpyxl import Workbook

from app.intake.models import ImportJob
from tests.intake.conftest import COMCAST, COMCAST_MAPPING, mapping_of


def _upload(client, name: str, content: bytes, **extra):
    return client.post(
        "/import",
        data={"file": (io.BytesIO(content), name), **extra},
        content_type="multipart/form-data",
    )


def _job_id(response) -> int:
    return int(response.headers["Location"].split("/")[2])


def test_the_wizard_imports_a_file_and_lists_the_rejected_rows(client, login) -> None:
    login("quality_lead")
    uploaded = _upload(client, "comcast.csv", COMCAST.read_bytes())
    assert uploaded.status_code == 302 and uploaded.headers["Location"].endswith("/mapping")
    job_id = _job_id(uploaded)

    page = client.get(f"/import/{job_id}/mapping").get_data(as_text=True)
    assert "Ticket #" in page and "DD-MM-YY" in page and "YYYY-MM-DD" in page

    mapped = client.post(
        f"/import/{job_id}/mapping",
        data={
            "mapping_json": json.dumps(mapping_of(COMCAST_MAPPING)),
            "save_as": "Comcast",
        },
    )
    assert mapped.status_code == 302 and mapped.headers["Location"].endswith("/preview")

    preview = client.get(f"/import/{job_id}/preview").get_data(as_text=True)
    assert "2,224 complaints from 2,224 rows" in preview
    assert "Comcast Cable Internet Speeds" in preview and "2015-04-22 15:53" in preview

    started = client.post(f"/import/{job_id}/preview", data={"mode": "skip_bad_rows"})
    assert started.status_code == 302
    states = []
    for _ in range(10):
        state = client.post(f"/import/{job_id}/step").get_json()
        states.append(state)
        if state["finished"]:
            break
    assert states[-1]["finished"] and states[-1]["status"] == "completed"
    assert states[-1]["imported"] == 2223 and states[-1]["rejected"] == 1
    assert [s["percent"] for s in states] == sorted(s["percent"] for s in states)

    result = client.get(f"/import/{job_id}").get_data(as_text=True)
    assert "Imported 2,223 complaints; 0 duplicates skipped; 1 row rejected." in result
    assert "1036" in result and "“comcas” does not match" in result
    listing = client.get("/import").get_data(as_text=True)
    recent = listing.split('data-testid="recent-imports"')[1]
    assert f'href="/import/{job_id}"' in recent and "comcast.csv" in recent
    assert "Completed" in recent and "2,223" in recent
    download = client.get(f"/import/{job_id}/rejected.csv")
    assert download.mimetype == "text/csv"
    lines = download.get_data(as_text=True).splitlines()
    assert lines[0].startswith("Row,Reason,Ticket #,Customer Complaint")
    assert lines[1].startswith("1036,") and ",comcas,nd intrenal miscommunication," in lines[1]


def test_a_saved_mapping_is_offered_and_skips_to_the_preview(client, login) -> None:
    login("quality_lead")
    first = _job_id(_upload(client, "comcast.csv", COMCAST.read_bytes()))
    client.post(
        f"/import/{first}/mapping",
        data={"mapping_json": json.dumps(mapping_of(COMCAST_MAPPING)), "save_as": "Comcast"},
    )
    form = client.get("/import").get_data(as_text=True)
    assert ">Comcast</option>" in form
    mapping_id = form.split(">Comcast</option>")[0].rsplit('value="', 1)[1].split('"')[0]
    again = _upload(client, "comcast.csv", COMCAST.read_bytes(), saved_mapping=mapping_id)
    assert again.headers["Location"].endswith("/preview")
    saved = client.get(f"/import/{_job_id(again)}/mapping").get_data(as_text=True)
    assert "Customer Care Call" in saved  # the value map keeps the file's spelling

    other = _upload(client, "other.csv", b"Ref,Subject\n1,x\n", saved_mapping=mapping_id)
    assert other.headers["Location"].endswith("/mapping")
    page = client.get(other.headers["Location"]).get_data(as_text=True)
    assert "The saved mapping “Comcast” does not fit this file" in page
    assert "the file has no column" in page


def test_the_mapping_fields_build_a_mapping_without_json(client, login) -> None:
    login("admin")
    content = (
        b"Ref;Subject;Opened;Via;State\n"
        b"A1;Late delivery;03/04/2026;Internet;Open\n"
        b"A2;Broken lid;13/04/2026;Customer Care Call;Closed\n"
    )
    job_id = _job_id(_upload(client, "tickets.csv", content))
    mapped = client.post(
        f"/import/{job_id}/mapping",
        data={
            "column-external_id": "Ref",
            "column-title": "Subject",
            "column-received_at": "Opened",
            "column-channel": "Via",
            "values-channel": "Internet = web_form\nCustomer Care Call = phone",
            "fixed-severity": "low",
            "column-status": "State",
            "values-status": "Open = received\nClosed = closed",
            "source_system": "helpdesk",
            "date_formats": ["%d/%m/%Y", "%m/%d/%Y"],
            "prefer_date_format": "%d/%m/%Y",
        },
    )
    assert mapped.status_code == 302, mapped.get_data(as_text=True)
    preview = client.get(f"/import/{job_id}/preview").get_data(as_text=True)
    # 03/04/2026 reads two ways; the preferred DD/MM/YYYY makes it 3 April.
    assert "2026-04-03 00:00" in preview and "2026-04-13 00:00" in preview
    assert "Web form" in preview and "Closed" in preview


def test_an_unknown_column_in_the_mapping_is_shown_and_nothing_changes(client, login) -> None:
    login("quality_lead")
    job_id = _job_id(_upload(client, "comcast.csv", COMCAST.read_bytes()))
    broken = mapping_of(COMCAST_MAPPING)
    broken["fields"]["title"] = "Subject"
    response = client.post(f"/import/{job_id}/mapping", data={"mapping_json": json.dumps(broken)})
    assert response.status_code == 422
    assert "the file has no column “Subject”" in response.get_data(as_text=True)


def test_an_xlsx_file_is_read_with_its_date_cells(client, login, session) -> None:
    from datetime import datetime

    login("quality_lead")
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Ticket", "Title", "Received", "Channel"])
    sheet.append([101, "Invoice wrong", datetime(2025, 11, 3, 9, 30), "E-mail"])
    sheet.append([102, "Rude agent", datetime(2025, 11, 4, 14, 0), "Chat"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    job_id = _job_id(_upload(client, "tickets.xlsx", buffer.getvalue()))
    definition = {
        "source_system": "xlsx-test",
        "fields": {
            "external_id": "Ticket",
            "title": "Title",
            "received_at": "Received",
            "channel": "Channel",
            "severity": {"value": "high"},
        },
    }
    client.post(f"/import/{job_id}/mapping", data={"mapping_json": json.dumps(definition)})
    preview = client.get(f"/import/{job_id}/preview").get_data(as_text=True)
    assert "2025-11-03 09:30" in preview and "E-mail" in preview
    assert ">101<" in preview  # a whole number, not 101.0


def test_limits_are_enforced_with_a_clear_message(app, client, login) -> None:
    login("quality_lead")
    app.config.update(IMPORT_MAX_BYTES=1000, IMPORT_MAX_ROWS=5)
    try:
        too_big = _upload(client, "big.csv", b"a,b\n" + b"1,2\n" * 400)
        assert too_big.status_code == 422
        assert (
            "The file is larger than 1,000 bytes, the limit per import (IMPORT_MAX_BYTES)."
            in too_big.get_data(as_text=True)
        )
        far_too_big = _upload(client, "huge.csv", b"a,b\n" + b"1,2\n" * 40_000)
        assert far_too_big.status_code == 413
        assert "larger than 1,000 bytes" in far_too_big.get_data(as_text=True)
        too_long = _upload(client, "long.csv", b"a,b\n" + b"1,2\n" * 6)
        assert too_long.status_code == 422
        assert "more than 5 rows; the limit is 5 rows" in too_long.get_data(as_text=True)
    finally:
        app.config.update(IMPORT_MAX_BYTES=20 * 1024 * 1024, IMPORT_MAX_ROWS=100_000)


def test_an_upload_without_a_file_says_so(client, login, count) -> None:
    login("quality_lead")
    response = client.post("/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose a CSV or XLSX file." in response.get_data(as_text=True)
    assert count(ImportJob) == 0


def test_a_started_import_runs_as_a_background_task_while_the_page_watches(
    app, client, login
) -> None:
    from app.extensions import db
    from app.tasks.services import run_due_tasks

    login("quality_lead")
    job_id = _job_id(_upload(client, "comcast.csv", COMCAST.read_bytes()))
    client.post(
        f"/import/{job_id}/mapping", data={"mapping_json": json.dumps(mapping_of(COMCAST_MAPPING))}
    )
    assert (
        client.post(f"/import/{job_id}/preview", data={"mode": "skip_bad_rows"}).status_code == 302
    )

    watching = client.get(f"/import/{job_id}").get_data(as_text=True)
    assert 'id="task-progress"' in watching and "tasks.js" in watching
    assert "import.js" not in watching  # the page does not step the import itself
    task_id = int(watching.split('data-status-url="/tasks/')[1].split("/")[0])
    assert client.get(f"/tasks/{task_id}/status").get_json()["status"] == "queued"

    with app.app_context():
        assert run_due_tasks() == [task_id]
        job = db.session.get(ImportJob, job_id)
        assert job.status.value == "completed" and job.imported_count == 2223

    status = client.get(f"/tasks/{task_id}/status").get_json()
    assert status["status"] == "done"
    assert status["message"] == (
        "Imported 2,223 complaints; 0 duplicates skipped; 1 row rejected. 1,860 with a response "
        "or resolution time the file does not give: kept unknown, out of the duration KPIs."
    )
    result = client.get(f"/import/{job_id}").get_data(as_text=True)
    assert "Imported 2,223 complaints; 0 duplicates skipped; 1 row rejected." in result
    assert 'id="task-progress"' not in result


def test_the_wizard_guesses_the_consumer_finance_outcome_columns(client, login) -> None:
    login("quality_lead")
    sample = COMCAST.parent / "cfpb_outcomes_sample.csv"
    job_id = _job_id(_upload(client, "complaints.csv", sample.read_bytes()))

    page = client.get(f"/import/{job_id}/mapping").get_data(as_text=True)
    for field, column in (
        ("timely_response", "Timely response?"),
        ("disputed", "Consumer disputed?"),
        ("public_response", "Company public response"),
        ("region", "State"),
    ):
        select = page.split(f'name="column-{field}"', 1)[1].split("</select>", 1)[0]
        assert f'<option selected value="{column}">' in select or (
            f'value="{column}" selected' in select
        ), (field, select[:400])


def test_the_mapping_page_filters_rows_and_creates_categories(client, login) -> None:
    """The real airline tweets through the page's own fields: only negative rows, the negative
    reason as a category created on import; the preview lists what will be created."""
    airline = COMCAST.parent / "airline_tweets_sample.csv"
    login("quality_lead")
    job_id = _job_id(_upload(client, "tweets.csv", airline.read_bytes()))
    page = client.get(f"/import/{job_id}/mapping").get_data(as_text=True)
    assert 'name="filter-column"' in page and 'name="category-if-missing"' in page
    assert '<option value="create">unknown category: create it</option>' in page

    mapped = client.post(
        f"/import/{job_id}/mapping",
        data={
            "column-external_id": "tweet_id",
            "column-title": "negativereason",
            "columns-description": ["text"],
            "column-received_at": "tweet_created",
            "fixed-channel": "social_media",
            "fixed-severity": "medium",
            "column-category": "negativereason",
            "category-if-missing": "create",
            "source_system": "twitter-airline",
            "date_formats": ["%Y-%m-%d %H:%M:%S %z"],
            "filter-column": "airline_sentiment",
            "filter-operator": "in",
            "filter-values": "Negative\n",
        },
    )
    assert mapped.status_code == 302, mapped.get_data(as_text=True)
    preview = client.get(f"/import/{job_id}/preview").get_data(as_text=True)
    assert "2 complaints from 5 rows" in preview
    assert "3 rows are left out by the row filter (airline_sentiment is “Negative”)" in preview
    created = preview.split('data-testid="create-category"')[1].split("</details>")[0]
    assert "2 categories" in created and "Bad Flight" in created and "Can&#39;t Tell" in created
    assert "2015-02-24 19:15" in preview  # 11:15:36 -0800 in UTC

    client.post(f"/import/{job_id}/preview", data={"mode": "skip_bad_rows"})
    for _ in range(5):
        if client.post(f"/import/{job_id}/step").get_json()["finished"]:
            break
    result = client.get(f"/import/{job_id}").get_data(as_text=True)
    assert "Imported 2 complaints; 0 duplicates skipped; 0 rows rejected." in result
    assert "Left out by the row filter" in result
    assert 'data-testid="unknown-times">0<' in result

    again = _job_id(_upload(client, "tweets.csv", airline.read_bytes()))
    client.post(
        f"/import/{again}/mapping",
        data={
            "mapping_json": json.dumps(
                {
                    "source_system": "twitter-airline",
                    "fields": {
                        "external_id": "tweet_id",
                        "title": "negativereason",
                        "channel": {"value": "social_media"},
                        "severity": {"value": "medium"},
                        "category": "negativereason",
                    },
                    "filter": {"column": "airline_sentiment", "equals": "negative"},
                }
            )
        },
    )
    repeat = client.get(f"/import/{again}/preview").get_data(as_text=True)
    assert repeat.count("duplicate, skipped") == 2 and "Rejected" not in repeat
    assert "570301031407624196" in repeat and 'data-testid="planned-creations"' not in repeat


def test_the_job_page_counts_unknown_times_and_names_disagreeing_ids(client, login) -> None:
    login("quality_lead")
    text = COMCAST.read_text(encoding="utf-8").splitlines()
    header, first = text[0], text[1]
    changed = first.replace("Solved", "Closed") if "Solved" in first else first + "x"
    assert changed != first
    content = "\n".join([header, first, changed, ""]).encode()
    job_id = _job_id(_upload(client, "conflict.csv", content))
    client.post(
        f"/import/{job_id}/mapping", data={"mapping_json": json.dumps(mapping_of(COMCAST_MAPPING))}
    )
    preview = client.get(f"/import/{job_id}/preview").get_data(as_text=True)
    assert "1 external id is on several rows that disagree." in preview
    assert "250635: rows 2, 3 differ in" in preview
    client.post(f"/import/{job_id}/preview", data={"mode": "skip_bad_rows"})
    for _ in range(5):
        if client.post(f"/import/{job_id}/step").get_json()["finished"]:
            break
    result = client.get(f"/import/{job_id}").get_data(as_text=True)
    assert "Imported 1 complaints; 1 duplicates skipped; 0 rows rejected." in result
    assert 'data-testid="unknown-times">1 <' in result
    assert "250635: rows 2, 3 differ in" in result
