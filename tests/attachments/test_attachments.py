"""Attachments on quality records: the services (rules, audit, signatures) and the pages."""

from __future__ import annotations

import io
import json
from html import unescape

import pytest
from sqlalchemy import func, select

from app.attachments import services
from app.attachments.models import Attachment
from app.attachments.services import TARGETS, AttachNotAllowed
from app.capa.models import CapaStatus
from app.core.audit import AuditEvent
from app.core.files import FileRefused, StoredFile
from app.core.signatures import changed_after_signature, record_signature
from app.core.workflow import RecordLocked
from app.extensions import db
from tests import factories
from tests.capa.factories import advance, make_complaint, plan

NOTES = b"Call notes: customer charged twice on 3 March.\n"
PDF = b"%PDF-1.7\n" + b"1 0 obj <<>> endobj\n" * 20
WINDOWS_PROGRAM = b"MZ\x90\x00" + bytes(300)


def files(*pairs: tuple[bytes, str]) -> list[tuple[io.BytesIO, str]]:
    return [(io.BytesIO(content), name) for content, name in pairs]


def events_for(record_type: str, record_id: object) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.record_type == record_type, AuditEvent.record_id == str(record_id))
            .order_by(AuditEvent.id)
        )
    )


def test_files_attach_to_a_complaint_and_the_trail_carries_their_hashes(session) -> None:
    lead = factories.create_user("quality_lead")
    complaint = make_complaint()
    attached = services.attach_files(
        TARGETS["complaints"], complaint, files((NOTES, "notes.txt"), (PDF, "refund.pdf")), lead
    )
    assert [item.filename for item in attached] == ["notes.txt", "refund.pdf"]
    assert [item.media_type for item in services.attachments_of(complaint)] == [
        "text/plain",
        "application/pdf",
    ]
    created = events_for("attachment", attached[1].id)[0]
    assert created.action == "create"
    assert created.changes_dict["file_sha256"][1] == attached[1].file_sha256
    on_complaint = events_for("complaint", complaint.id)[-1].changes_dict
    assert on_complaint["attachment_added"][1] == (
        f"refund.pdf (SHA-256 {attached[1].file_sha256})"
    )


def test_one_bad_file_stores_none_of_the_upload(session) -> None:
    lead = factories.create_user("quality_lead")
    complaint = make_complaint()
    before = session.scalar(select(func.count()).select_from(StoredFile))
    with pytest.raises(FileRefused, match=r"“invoice\.pdf” is a program"):
        services.attach_files(
            TARGETS["complaints"],
            complaint,
            files((NOTES, "notes.txt"), (WINDOWS_PROGRAM, "invoice.pdf")),
            lead,
        )
    assert services.attachments_of(complaint) == []
    assert session.scalar(select(func.count()).select_from(StoredFile)) == before


def test_an_empty_upload_is_refused(session) -> None:
    lead = factories.create_user("quality_lead")
    with pytest.raises(Exception, match="Choose at least one file"):
        services.attach_files(TARGETS["complaints"], make_complaint(), [], lead)


def test_only_those_who_may_edit_attach(session) -> None:
    contributor = factories.create_user("contributor")
    auditor = factories.create_user("auditor")
    complaint = make_complaint()
    for user in (contributor, auditor):
        with pytest.raises(AttachNotAllowed):
            services.attach_files(TARGETS["complaints"], complaint, files((NOTES, "n.txt")), user)
    complaint.assignee_id = contributor.id
    assert services.attach_files(
        TARGETS["complaints"], complaint, files((NOTES, "n.txt")), contributor
    )


def test_a_closed_capa_takes_no_attachments(session) -> None:
    lead = factories.create_user("quality_lead")
    capa = plan(lead)
    advance(capa, CapaStatus.CLOSED, lead)
    with pytest.raises(RecordLocked, match="closed and read-only"):
        services.attach_files(TARGETS["capa"], capa, files((NOTES, "late.txt")), lead)


def test_removal_needs_a_reason_keeps_the_bytes_and_is_audited(session) -> None:
    lead = factories.create_user("quality_lead")
    complaint = make_complaint()
    (attachment,) = services.attach_files(
        TARGETS["complaints"], complaint, files((NOTES, "wrong.txt")), lead
    )
    with pytest.raises(Exception, match="Say why"):
        services.remove_attachment(attachment, "  ", lead)
    services.remove_attachment(attachment, "Attached to the wrong complaint", lead)
    assert attachment.is_removed
    assert session.get(StoredFile, attachment.file_sha256) is not None
    removal = events_for("attachment", attachment.id)[-1]
    assert removal.reason == "Attached to the wrong complaint"
    assert "removed_at" in removal.changes_dict
    assert events_for("complaint", complaint.id)[-1].changes_dict["attachment_removed"][1] == (
        f"wrong.txt (SHA-256 {attachment.file_sha256})"
    )
    with pytest.raises(Exception, match="already removed"):
        services.remove_attachment(attachment, "again", lead)


def test_replacing_a_file_after_signing_shows_as_changed_after_signature(session) -> None:
    lead = factories.create_user("quality_lead")
    capa = plan(lead)
    (evidence,) = services.attach_files(
        TARGETS["capa"], capa, files((b"Checklist v1\n", "checklist.txt")), lead
    )
    signature = record_signature(session, capa, lead, "approved", "test")
    assert not changed_after_signature(signature, capa)
    services.remove_attachment(evidence, "Replaced by the corrected checklist", lead)
    services.attach_files(TARGETS["capa"], capa, files((b"Checklist v2\n", "checklist.txt")), lead)
    assert changed_after_signature(signature, capa)


def test_a_record_without_attachments_hashes_as_before(session) -> None:
    from app.core.signatures import content_hash

    lead = factories.create_user("quality_lead")
    capa = plan(lead)
    before = content_hash(capa)
    (item,) = services.attach_files(TARGETS["capa"], capa, files((NOTES, "n.txt")), lead)
    assert content_hash(capa) != before
    services.remove_attachment(item, "Not evidence", lead)
    assert content_hash(capa) == before


# --- pages ---------------------------------------------------------------------------------------


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


@pytest.fixture()
def complaint_ref(committed) -> str:
    return committed(lambda: make_complaint(title="Parcel left in the rain").reference)


def stored_attachment(committed, filename: str) -> Attachment:
    return committed(
        lambda: db.session.scalars(select(Attachment).where(Attachment.filename == filename)).one()
    )


def upload(client, path: str, *pairs: tuple[bytes, str], json_answer: bool = False):
    data = {"files": [(io.BytesIO(content), name) for content, name in pairs]}
    headers = {"Accept": "application/json"} if json_answer else {}
    return client.post(path, data=data, content_type="multipart/form-data", headers=headers)


def test_upload_two_files_list_them_and_download_one_byte_for_byte(
    client, login, committed, complaint_ref
) -> None:
    login("quality_lead")
    response = upload(
        client,
        f"/attachments/complaints/{complaint_ref}",
        (NOTES, "call notes.txt"),
        (PDF, "photo-of-label.pdf"),
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/complaints/{complaint_ref}#attachments")
    page = text(client.get(f"/complaints/{complaint_ref}"))
    assert "call notes.txt" in page and "photo-of-label.pdf" in page
    attachment = stored_attachment(committed, "photo-of-label.pdf")
    assert attachment.file_sha256[:16] in page
    download = client.get(f"/attachments/files/{attachment.id}/download")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment; ")
    assert "photo-of-label.pdf" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_html_is_served_as_a_plain_text_download_never_inline(
    client, login, committed, complaint_ref
) -> None:
    login("quality_lead")
    html = b"<html><body><script>alert(1)</script></body></html>"
    upload(client, f"/attachments/complaints/{complaint_ref}", (html, "reply.html"))
    attachment = stored_attachment(committed, "reply.html")
    download = client.get(f"/attachments/files/{attachment.id}/download")
    assert download.headers["Content-Type"].startswith("text/plain")
    assert download.headers["Content-Disposition"].startswith("attachment")


def test_a_refused_upload_answers_with_its_reason(app, client, login, complaint_ref) -> None:
    login("quality_lead")
    path = f"/attachments/complaints/{complaint_ref}"
    response = upload(client, path, (WINDOWS_PROGRAM, "invoice.pdf"), json_answer=True)
    assert response.status_code == 422
    assert "“invoice.pdf” is a program" in json.loads(response.data)["errors"][0]
    response = upload(client, path, (b"", "empty.txt"))
    assert response.status_code == 422
    assert "“empty.txt” is empty." in text(response)
    app.config["LOOP_FILE_MAX_BYTES"] = 100
    try:
        response = upload(client, path, (b"x" * 101, "big.txt"))
    finally:
        app.config["LOOP_FILE_MAX_BYTES"] = 25 * 1024 * 1024
    assert response.status_code == 422
    assert "larger than 100 bytes, the limit per file" in text(response)
    assert "No files attached." in text(client.get(path))


def test_remove_from_the_page_with_a_reason(client, login, committed, complaint_ref) -> None:
    user = login("quality_lead")
    upload(client, f"/attachments/complaints/{complaint_ref}", (NOTES, "draft.txt"))
    attachment = stored_attachment(committed, "draft.txt")
    response = client.post(f"/attachments/files/{attachment.id}/remove", data={"reason": ""})
    assert response.status_code == 422
    assert "Say why the file is removed." in text(response)
    response = client.post(
        f"/attachments/files/{attachment.id}/remove", data={"reason": "Superseded by the final"}
    )
    assert response.status_code == 302
    page = text(client.get(f"/complaints/{complaint_ref}"))
    assert f"by {user.full_name}: Superseded by the final" in page
    assert client.get(f"/attachments/files/{attachment.id}/download").data == NOTES


def test_readers_download_but_do_not_see_the_upload_form(
    client, login, committed, complaint_ref
) -> None:
    def attach() -> int:
        lead = factories.create_user("quality_lead")
        complaint = services.target_of("complaints").find(complaint_ref)
        return services.attach_files(
            TARGETS["complaints"], complaint, files((NOTES, "n.txt")), lead
        )[0].id

    attachment_id = committed(attach)
    login("auditor")
    page = text(client.get(f"/complaints/{complaint_ref}"))
    assert "n.txt" in page
    assert "Attach files" not in page
    assert client.get(f"/attachments/files/{attachment_id}/download").data == NOTES
    assert (
        upload(client, f"/attachments/complaints/{complaint_ref}", (NOTES, "x.txt")).status_code
        == 403
    )


def test_unknown_records_and_files_are_404(client, login) -> None:
    login("quality_lead")
    assert client.get("/attachments/complaints/CMP-1999-000001").status_code == 404
    assert client.get("/attachments/spaceships/1").status_code == 404
    assert client.get("/attachments/checks/abc").status_code == 404
    assert client.get("/attachments/files/999999/download").status_code == 404


def test_the_capa_report_lists_the_attachments_with_their_hashes(client, login, committed) -> None:
    from tests.reports.conftest import read_pdf

    def build() -> tuple[str, str, str]:
        lead = factories.create_user("quality_lead")
        capa = plan(lead)
        kept, dropped = services.attach_files(
            TARGETS["capa"], capa, files((NOTES, "briefing.txt"), (PDF, "old-plan.pdf")), lead
        )
        services.remove_attachment(dropped, "Replaced by the new plan", lead)
        return capa.reference, kept.file_sha256, dropped.file_sha256

    reference, kept_hash, dropped_hash = committed(build)
    login("auditor")
    response = client.get(f"/reports/capa/{reference}.pdf")
    assert response.status_code == 200
    pdf = read_pdf(response.data)
    flat = pdf.flat.replace(" ", "")
    assert "briefing.txt" in pdf.flat and "old-plan.pdf" in pdf.flat
    assert kept_hash in flat and dropped_hash in flat
    assert "Replaced by the new plan" in pdf.flat
    assert [row["sha256"] for row in pdf.data()["attachments"]] == [kept_hash, dropped_hash]
