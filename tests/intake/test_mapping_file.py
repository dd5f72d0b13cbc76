"""The import wizard loads a saved mapping file (the JSON of docs/mappings/) to fill in the
mapping step, and says clearly what is wrong with a bad file."""

from __future__ import annotations

import io
import json
from pathlib import Path

from app.intake.models import ImportJob

ROOT = Path(__file__).resolve().parents[2]
CSV = (
    b"Ticket #,Customer Complaint,Date,Time,Received Via,City,State,Zip code,Status,"
    b"Filing on Behalf of Someone\n"
    b"250635,Internet speeds,22-04-15,3:53:50 PM,Customer Care Call,Abingdon,Maryland,21009,"
    b"Closed,No\n"
)


def uploaded_job(client) -> int:
    response = client.post(
        "/import",
        data={"file": (io.BytesIO(CSV), "tickets.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    return int(response.headers["Location"].split("/")[2])


def load(client, job_id: int, content: bytes, name: str = "mapping.json"):
    return client.post(
        f"/import/{job_id}/mapping/file",
        data={"mapping_file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_the_mapping_page_offers_to_load_a_file(client, login) -> None:
    login("quality_lead")
    job_id = uploaded_job(client)
    html = client.get(f"/import/{job_id}/mapping").get_data(as_text=True)
    assert f'action="/import/{job_id}/mapping/file"' in html
    assert 'enctype="multipart/form-data"' in html


def test_a_mapping_file_fills_in_the_mapping_step(client, login, fetch) -> None:
    login("quality_lead")
    job_id = uploaded_job(client)
    content = (ROOT / "docs" / "mappings" / "comcast.json").read_bytes()
    response = load(client, job_id, content, "comcast.json")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Loaded the mapping file comcast.json" in html
    # The comcast mapping uses a pattern, so the page shows it in the JSON box, as it would a
    # saved mapping; the source system field is filled as well.
    box = html[
        html.index('id="mapping_json"') : html.index("</textarea>", html.index('id="mapping_json"'))
    ]
    assert json.loads(box[box.index(">") + 1 :].replace("&#34;", '"').replace("&quot;", '"')) == (
        json.loads(content)
    )
    assert 'name="source_system" value="comcast"' in html
    # Nothing is stored until the page's own form is sent.
    assert fetch(ImportJob, job_id).mapping is None


def test_a_bad_mapping_file_is_refused_with_the_reason(client, login) -> None:
    login("quality_lead")
    job_id = uploaded_job(client)
    cases = {
        b'{"fields": {"title": "Customer Complaint",}': "is not valid JSON: ",
        b"\xff\xfe\x00bad": "is not a text file in UTF-8",
        b'["fields"]': "must be a JSON object",
        json.dumps(
            {
                "fields": {
                    "title": "Subject",
                    "channel": {"value": "email"},
                    "severity": {"value": "low"},
                }
            }
        ).encode(): "Subject",  # a column the file does not have
        json.dumps({"fields": {"title": "Customer Complaint"}}).encode(): "map Channel, Severity",
        b"": "Choose a mapping file",
    }
    for content, expected in cases.items():
        response = load(client, job_id, content, "bad.json" if content else "")
        html = response.get_data(as_text=True)
        assert response.status_code == 422, expected
        assert expected in html, (expected, html[html.index("mapping-file") :][:1500])
    response = load(client, job_id, b'{"fields": {"title": "Customer Complaint",}')
    assert "at line 1, column 43" in response.get_data(as_text=True)
