"""The document pages as a quality lead, a reader and an auditor see them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import unescape

from app.core.db import utcnow
from app.documents import services
from app.extensions import db
from tests import factories
from tests.capa.factories import plan
from tests.conftest import TEST_PASSWORD
from tests.documents.factories import make_document, release
from tests.reports.conftest import read_pdf


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_a_lead_creates_submits_reviews_approves_and_releases_through_the_pages(
    client, login, committed
) -> None:
    author = login("quality_lead", full_name="Alex Author")
    committed(lambda: factories.create_user("contributor", full_name="Robin Reader"))
    response = client.post(
        "/documents/new",
        data={
            "doc_type": "work_instruction",
            "title": "Packing fragile parcels",
            "owner_id": str(author.id),
            "reader_roles": ["contributor"],
            "review_interval_months": "6",
            "change_reason": "New instruction after breakage complaints",
            "body_markdown": "# Packing\n\nWrap twice. <script>alert(1)</script>",
        },
    )
    assert response.status_code == 302
    number = response.headers["Location"].rsplit("/", 1)[-1]
    assert number == "DOC-WI-0001"
    raw = client.get(f"/documents/{number}/revisions/1").get_data(as_text=True)
    assert "<h1>Packing</h1>" in raw
    assert "<script>alert(1)</script>" not in raw
    assert "Wrap twice. &lt;script&gt;alert(1)&lt;/script&gt;" in raw

    signed = client.post(
        f"/documents/{number}/revisions/1/sign", data={"step": "submit", "password": "wrong"}
    )
    assert signed.status_code == 422
    assert "password" in text(signed).lower()
    client.post(
        f"/documents/{number}/revisions/1/sign", data={"step": "submit", "password": TEST_PASSWORD}
    )
    client.post(
        f"/documents/{number}/revisions/1/sign", data={"step": "review", "password": TEST_PASSWORD}
    )
    refused = client.post(
        f"/documents/{number}/revisions/1/sign", data={"step": "approve", "password": TEST_PASSWORD}
    )
    assert refused.status_code == 422
    assert "someone other than its author must approve" in text(refused)

    approver = committed(lambda: factories.create_user("quality_lead", full_name="Pat Approver"))
    client.post("/logout")
    client.post("/login", data={"email": approver.email, "password": TEST_PASSWORD})
    client.post(
        f"/documents/{number}/revisions/1/sign", data={"step": "approve", "password": TEST_PASSWORD}
    )
    released = client.post(
        f"/documents/{number}/revisions/1/transition", data={"action": "make_effective"}
    )
    assert released.status_code == 302
    page = text(client.get(f"/documents/{number}"))
    assert "Rev 1 in force" in page
    assert "0 of 1 confirmed. Not yet: Robin Reader." in page
    revision_page = text(client.get(f"/documents/{number}/revisions/1"))
    for line in ("Authored", "Reviewed", "Approved"):
        assert line in revision_page
    assert "Changed after signature" not in revision_page


def test_a_reader_confirms_and_the_document_shows_it(client, login, committed) -> None:
    reader = login("contributor", full_name="Sam Reader")

    def build() -> str:
        lead = factories.create_user("quality_lead")
        document = make_document(lead)
        release(document.revisions[0], lead)
        return document.number

    number = committed(build)
    page = text(client.get(f"/documents/{number}"))
    assert "You are asked to read revision 1" in page
    response = client.post(f"/documents/{number}/revisions/1/acknowledge")
    assert response.status_code == 302
    page = text(client.get(f"/documents/{number}"))
    assert "You are asked to read" not in page
    assert "1 of 1 confirmed." in page
    assert reader.full_name in page


def test_a_superseded_revision_is_marked_and_its_pdf_watermarked(client, login, committed) -> None:
    login("auditor")

    def build() -> str:
        lead = factories.create_user("quality_lead")
        capa = plan(lead)
        document = make_document(lead)
        release(document.revisions[0], lead)
        second = services.start_revision(
            document, change_reason="Add the check", capa_reference=capa.reference, user=lead
        )
        release(second, lead)
        return document.number, capa.reference

    number, capa_reference = committed(build)
    old = text(client.get(f"/documents/{number}/revisions/1"))
    assert "This revision is superseded" in old
    listing = text(client.get(f"/documents/{number}"))
    assert "Superseded" in listing and "Rev 2 in force" in listing
    assert capa_reference in listing
    capa_page = text(client.get(f"/capa/{capa_reference}"))
    assert f"{number} revision 2" in capa_page

    superseded = read_pdf(client.get(f"/documents/{number}/revisions/1.pdf").data)
    assert all("Uncontrolled — superseded" in page for page in superseded.pages)
    current = read_pdf(client.get(f"/documents/{number}/revisions/2.pdf").data)
    assert "Controlled copy: " + number + " revision 2" in current.flat
    assert "Uncontrolled" not in current.flat
    assert "Approval signatures" in current.flat and "Approved" in current.flat


def test_the_in_force_page_answers_for_a_past_date(client, login, committed) -> None:
    login("auditor")

    def build() -> str:
        lead = factories.create_user("quality_lead")
        document = make_document(lead, title="Complaint intake")
        release(document.revisions[0], lead)
        second = services.start_revision(
            document, change_reason="New channel", capa_reference=None, user=lead
        )
        release(second, lead)
        document.created_at = datetime(2025, 12, 1, tzinfo=UTC)
        document.revisions[0].effective_from = datetime(2026, 1, 1, tzinfo=UTC)
        document.revisions[0].effective_until = second.effective_from = datetime(
            2026, 2, 1, tzinfo=UTC
        )
        db.session.flush()
        return document.number

    number = committed(build)
    january = text(client.get("/documents/in-force?date=2026-01-15"))
    row = january.split(number, 1)[1].split("</tr>", 1)[0]
    assert "Revision 1" in row
    march = text(client.get("/documents/in-force?date=2026-03-01"))
    assert "Revision 2" in march.split(number, 1)[1].split("</tr>", 1)[0]
    assert client.get("/documents/in-force?date=not-a-date").status_code == 422


def test_the_list_filters_review_overdue(client, login, committed) -> None:
    login("quality_lead")

    def build() -> tuple[str, str]:
        lead = factories.create_user("quality_lead")
        late = make_document(lead, title="Late review")
        release(late.revisions[0], lead)
        late.review_due = utcnow().date() - timedelta(days=3)
        fresh = make_document(lead, title="Fresh review")
        release(fresh.revisions[0], lead)
        return late.number, fresh.number

    late, fresh = committed(build)
    page = text(client.get("/documents?review_overdue=y"))
    assert late in page and fresh not in page
    assert "Review overdue" in page
    assert fresh in text(client.get("/documents"))


def test_stale_and_bad_saves_are_refused_with_a_message(client, login, committed) -> None:
    login("quality_lead")

    def build() -> tuple[str, int]:
        lead = factories.create_user("quality_lead")
        document = make_document(lead)
        return document.number, document.revisions[0].version

    number, version = committed(build)
    path = f"/documents/{number}/revisions/1/edit"
    fields = {"change_reason": "New document", "capa_reference": "", "version": str(version)}
    assert client.post(path, data={**fields, "body_markdown": "First"}).status_code == 302
    stale = client.post(path, data={**fields, "body_markdown": "Second"})
    assert stale.status_code == 422
    assert "changed" in text(stale).lower()
    empty = client.post("/documents/new", data={"doc_type": "form", "title": ""})
    assert empty.status_code == 422 and "A title is required." in text(empty)
    saved = committed(lambda: services.get_by_number(number).revisions[0].body_markdown)
    assert saved == "First"


def test_unknown_documents_are_404(client, login) -> None:
    login("quality_lead")
    assert client.get("/documents/DOC-PRO-9999").status_code == 404
    assert client.get("/documents/DOC-PRO-9999/revisions/1").status_code == 404


def test_my_work_lists_the_documents_to_read(client, login, committed) -> None:
    login("contributor")

    def build() -> str:
        lead = factories.create_user("quality_lead")
        document = make_document(lead, title="Answering chats")
        release(document.revisions[0], lead)
        return document.number

    number = committed(build)
    page = text(client.get("/my-work"))
    section = page.split("Documents to read and confirm", 1)[1]
    assert number in section and "Answering chats" in section
    client.post(f"/documents/{number}/revisions/1/acknowledge")
    assert "Nothing to read." in text(client.get("/my-work"))
