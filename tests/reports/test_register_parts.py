"""A long nonconformity register is rendered in page-sized parts and joined: read back, it is one
PDF/A file as an auditor would expect of a register rendered in one piece."""

from __future__ import annotations

import hashlib
import re

import pytest

from app.core.audit import AuditEvent
from tests.reports.conftest import read_pdf
from tests.reports.test_record_reports import assert_common, export_events
from tests.reports.test_register_and_extract import many_nonconformities

HEADER = "Reference Title Status Source Process Category Owner Detected (UTC) S × O × D = RPN"
ORGANISATION = 'Loop QMS "North" \\ Care'


@pytest.mark.parametrize("workers", [2, 1], ids=["worker processes", "in this process"])
def test_a_register_in_parts_reads_as_one_register(
    app, client, login, committed, monkeypatch, workers
):
    monkeypatch.setitem(app.config, "REPORT_PART_ROWS", 20)
    monkeypatch.setitem(app.config, "REPORT_RENDER_WORKERS", workers)
    monkeypatch.setitem(app.config, "ORG_NAME", ORGANISATION)
    references = committed(many_nonconformities, 60, "Parcel left at the wrong door")
    login("auditor", full_name="Avery Auditor")

    response = client.get("/reports/nonconformity-register.pdf?q=wrong+door&sort=reference")
    assert response.status_code == 200
    pdf = read_pdf(response.data)

    # Still PDF/A-3b with its data attached, and on every page the running header, the footer
    # with the report id and the attachment's hash, and "Page N of M" with the joined file's M.
    report_id = assert_common(pdf, "Nonconformity register", "Avery Auditor")
    total = len(pdf.pages)
    assert total >= 3  # three parts of 20 rows, each on pages of its own
    for number, page in enumerate(pdf.pages, start=1):
        flat_page = re.sub(r"\s+", " ", page)
        assert re.findall(r"Page \d+ of \d+", flat_page) == [f"Page {number} of {total}"]
        assert ORGANISATION in flat_page
        assert HEADER in flat_page, f"no table header on page {number}"

    # The title block and the summary once, on the first page; the end line once, on the last.
    flat = pdf.flat
    assert flat.count(f"Report id {report_id}") == 1 and f"Report id {report_id}" in pdf.pages[0]
    assert flat.count("Filters used Search: wrong door; Sort: Reference") == 1
    assert flat.count("60 nonconformities as of") == 1 and "60 nonconformities" in pdf.pages[0]
    assert flat.count("End of register: 60 rows.") == 1
    assert "End of register: 60 rows." in pdf.pages[-1]
    # Every row once, in the list's order.
    assert re.findall(r"NC-\d{4}-\d{6}", flat) == sorted(references)
    assert pdf.reader.outline[0].title == "Nonconformity register"

    # The attachment is the data of all 60 rows, and its hash is the footer's and the export's.
    _name, attached = pdf.attachment()
    data = pdf.data()
    assert [row["reference"] for row in data["rows"]] == sorted(references)
    assert data["count"] == 60
    digest = hashlib.sha256(attached).hexdigest()
    assert f"Data SHA-256 {digest}" in flat
    with app.app_context():
        (event,) = export_events("nonconformity")
        assert isinstance(event, AuditEvent)
        changes = event.changes_dict
    assert changes["report_id"] == [None, report_id]
    assert changes["data_sha256"] == [None, digest]
    assert changes["pages"] == [None, total]
