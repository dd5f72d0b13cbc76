"""The FMEA pages as a quality lead sees them: starting an FMEA, rows with their scale errors,
the evidence from data, stale saves, approval with a signature, XLSX in and out, and the PDF
worksheet read back with pypdf (its header on every page)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from app.core.db import utcnow
from app.extensions import db
from app.fmea import services
from app.fmea.action_priority import action_priority
from tests.capa.factories import make_category, make_complaint, make_nonconformity, make_process
from tests.conftest import TEST_PASSWORD
from tests.factories import create_user
from tests.fmea.factories import make_fmea, make_row, row_values
from tests.reports.conftest import read_pdf


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _form(**overrides):
    values = {k: str(v) for k, v in row_values().items()}
    values.update(overrides)
    return values


def test_a_lead_builds_a_worksheet_that_shows_rpn_ap_and_the_data(client, login, committed):
    login("quality_lead")

    def setup():
        process = make_process("Billing")
        category = make_category("Billing error")
        for days in (3, 30, 90):
            make_complaint(
                process=process, category=category, received_at=utcnow() - timedelta(days=days)
            )
        return process.id, category.id

    process_id, category_id = committed(setup)
    response = client.post(
        "/fmea/new",
        data={
            "title": "Refunds PFMEA",
            "process_id": str(process_id),
            "prepared_on": utcnow().date().isoformat(),
        },
    )
    assert response.status_code == 302
    reference = response.headers["Location"].rsplit("/", 1)[-1]

    response = client.post(f"/fmea/{reference}/rows/new", data=_form(severity="11", detection="x"))
    page = _text(response)
    assert response.status_code == 422
    assert "Severity must be a whole number from 1 to 10." in page
    assert committed(lambda: len(services.rows_of(services.get_by_reference(reference)))) == 0

    response = client.post(
        f"/fmea/{reference}/rows/new",
        data={
            **_form(severity="8", occurrence="2", detection="7"),
            "category_ids": str(category_id),
        },
    )
    assert response.status_code == 302
    page = _text(client.get(f"/fmea/{reference}"))
    assert "Refund paid twice" in page
    assert 'data-testid="rpn">112<' in page
    assert 'title="Action priority Medium"' in page  # S8 O2 D7 is M in the AP table
    assert "C 3 · N 0" in page
    assert 'data-testid="occurrence-flag"' in page and "contradicts O2" in page


def test_a_stale_row_save_is_refused_with_a_clear_message(client, login, committed):
    def setup():
        lead = create_user("quality_lead")
        fmea = make_fmea(lead, make_process())
        row = make_row(fmea, lead)
        return fmea.reference, row.id, row.version

    reference, row_id, version = committed(setup)
    login("quality_lead")
    url = f"/fmea/{reference}/rows/{row_id}/edit"
    assert client.get(url).status_code == 200
    first = client.post(url, data=_form(occurrence="3", version=str(version)))
    assert first.status_code == 302
    second = client.post(url, data=_form(occurrence="9", version=str(version)))
    assert second.status_code == 422
    assert "changed by someone else" in _text(second)
    assert (
        committed(lambda: services.rows_of(services.get_by_reference(reference))[0].occurrence) == 3
    )


def test_approving_a_revision_from_the_page_and_reading_it_later(client, login, committed):
    approver = login("quality_lead", full_name="Ada Approver")

    def setup():
        fmea = make_fmea(approver, make_process())
        make_row(fmea, approver, occurrence=4)
        return fmea.reference, fmea.version

    reference, version = committed(setup)
    wrong = client.post(
        f"/fmea/{reference}/approve",
        data={"change_note": "First issue", "password": "nope", "version": str(version)},
    )
    assert wrong.status_code == 422
    response = client.post(
        f"/fmea/{reference}/approve",
        data={"change_note": "First issue", "password": TEST_PASSWORD, "version": str(version)},
    )
    assert response.status_code == 302
    page = _text(client.get(f"/fmea/{reference}"))
    assert "rev 2 (working copy)" in page and "Ada Approver — Approved" in page
    revision = _text(client.get(f"/fmea/{reference}/revisions/1"))
    assert "rev 1" in revision and "First issue" in revision and "Refund paid twice" in revision
    assert client.get(f"/fmea/{reference}/revisions/2").status_code == 404


def test_xlsx_export_and_a_refused_import_through_the_pages(client, login, committed):
    def setup():
        lead = create_user("quality_lead")
        fmea = make_fmea(lead, make_process())
        make_row(fmea, lead)
        return fmea.reference

    reference = committed(setup)
    login("quality_lead")
    exported = client.get(f"/fmea/{reference}/export.xlsx")
    assert exported.status_code == 200
    assert exported.mimetype.endswith("spreadsheetml.sheet")
    bad = client.post(
        f"/fmea/{reference}/import",
        data={"file": (io.BytesIO(b"not a workbook"), "pfmea.xlsx")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422
    assert "Nothing was imported" in _text(bad) and "not an XLSX workbook" in _text(bad)
    good = client.post(
        f"/fmea/{reference}/import",
        data={"file": (io.BytesIO(exported.data), "pfmea.xlsx")},
        content_type="multipart/form-data",
    )
    assert good.status_code == 302
    assert committed(lambda: len(services.rows_of(services.get_by_reference(reference)))) == 2


def test_the_pdf_worksheet_repeats_its_header_on_every_page(client, login, committed):
    def setup():
        lead = create_user("quality_lead")
        fmea = make_fmea(lead, make_process("Field repair"), title="Repair visits PFMEA")
        for index in range(45):
            make_row(
                fmea,
                lead,
                failure_mode=f"Failure mode number {index:02d}",
                effect="The customer waits another day for the repair. " * 3,
                severity=1 + index % 10,
                occurrence=1 + (index * 3) % 10,
                detection=1 + (index * 7) % 10,
            )
        return fmea.reference

    reference = committed(setup)
    login("auditor")
    response = client.get(f"/fmea/{reference}/worksheet.pdf")
    assert response.status_code == 200
    pdf = read_pdf(response.data)
    assert len(pdf.pages) >= 3
    worksheet_pages = 0
    for number, text in enumerate(pdf.pages, start=1):
        flat = re.sub(r"\s+", " ", text)
        assert f"Process FMEA {reference} rev 1" in flat, f"page {number} lacks the title"
        if "Failure mode number" in flat:
            worksheet_pages += 1
            assert f"{reference} rev 1 · Repair visits PFMEA · Process: Field repair" in flat
            assert "Failure mode" in flat and "Detection controls" in flat and "RPN" in flat
    assert worksheet_pages >= 3
    data = pdf.data()
    assert len(data["rows"]) == 45
    for item in data["rows"]:
        s, o, d = item["severity"], item["occurrence"], item["detection"]
        assert item["rpn"] == s * o * d
        assert item["ap"] == action_priority(s, o, d).value
    assert "Failure mode number 44" in pdf.flat


def test_contributors_read_the_fmea_but_see_no_editing(client, login, committed):
    reference = committed(lambda: make_fmea(create_user("quality_lead"), make_process()).reference)
    login("contributor")
    page = _text(client.get(f"/fmea/{reference}"))
    assert "Add a failure mode" not in page and "Approve and sign" not in page
    assert client.post(f"/fmea/{reference}/rows/new", data=_form()).status_code == 403
    assert committed(lambda: services.rows_of(services.get_by_reference(reference))) == []


def test_the_worksheet_page_reads_in_the_same_number_of_queries_for_more_rows(
    client, login, committed, count_queries
):
    lead = login("quality_lead")

    def setup(rows: int, reference: str | None = None):
        user = db.session.merge(lead)
        fmea = (
            services.get_by_reference(reference)
            if reference
            else make_fmea(user, make_process("Billing"))
        )
        for index in range(rows):
            category = make_category()
            row = make_row(fmea, user, [category], failure_mode=f"Mode {reference} {index}")
            services.raise_preventive_capa(
                row,
                title=f"Action {index}",
                owner_id=user.id,
                due_date=utcnow().date() + timedelta(days=30),
                principle_ids=[3],
                user=user,
            )
        if reference is None:
            services.approve_revision(
                fmea, user, TEST_PASSWORD, change_note="First", expected_version=fmea.version
            )
        return fmea.reference

    reference = committed(setup, 2)
    few = count_queries(lambda: client.get(f"/fmea/{reference}"))
    committed(setup, 12, reference)
    responses = []
    many = count_queries(lambda: responses.append(client.get(f"/fmea/{reference}")))
    assert responses[0].status_code == 200
    assert "Mode " in responses[0].get_data(as_text=True)
    assert many == few


def test_a_failure_mode_not_in_the_fmea_can_be_added_from_the_worksheet(client, login, committed):
    def setup():
        lead = create_user("quality_lead")
        process = make_process("Installation")
        category = make_category("Missed appointment")
        fmea = make_fmea(lead, process)
        nc = make_nonconformity(process=process, category=category, title="Technician did not come")
        return fmea.reference, nc.reference, category.id

    reference, nc_reference, category_id = committed(setup)
    login("quality_lead")
    page = client.get(f"/fmea/{reference}").get_data(as_text=True)
    assert nc_reference in page and "Add to this FMEA" in page
    form = client.get(
        f"/fmea/{reference}/rows/new?category={category_id}&failure_mode=Technician+did+not+come"
    ).get_data(as_text=True)
    assert 'value="Technician did not come"' in form
    assert f'<option selected value="{category_id}">' in form
    response = client.post(
        f"/fmea/{reference}/rows/new",
        data={**_form(failure_mode="Technician did not come"), "category_ids": str(category_id)},
    )
    assert response.status_code == 302
    assert nc_reference not in client.get(f"/fmea/{reference}").get_data(as_text=True)
