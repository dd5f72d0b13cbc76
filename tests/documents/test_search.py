"""Full-text search over titles and text, the same on SQLite (FTS5) and PostgreSQL."""

from __future__ import annotations

from html import unescape

from app.documents import search, services
from tests import factories
from tests.documents.factories import make_document, release


def test_words_in_titles_and_text_find_their_documents(session) -> None:
    lead = factories.create_user("quality_lead")
    refunds = make_document(lead, title="Refund approvals", body_markdown="Check the **ledger**.")
    parcels = make_document(
        lead, title="Parcel handling", body_markdown="Fragile parcels are wrapped twice."
    )
    make_document(lead, title="Quality policy", body_markdown="We listen to customers.")
    assert search.matching_documents("refund") == [refunds.id]
    assert search.matching_documents("LEDGER") == [refunds.id]
    assert search.matching_documents("fragile wrapped") == [parcels.id]
    assert search.matching_documents("fragile ledger") == []  # every word must match
    assert search.matching_documents(parcels.number) == [parcels.id]
    # Search syntax typed by a user is only words, never an error.
    assert search.matching_documents('"refund" OR NEAR(ledger') == []
    assert search.matching_documents("   ") == []


def test_the_index_follows_the_revision_in_force(session) -> None:
    lead = factories.create_user("quality_lead")
    document = make_document(lead, title="Escalation", body_markdown="Call the supervisor.")
    release(document.revisions[0], lead)
    draft = services.start_revision(
        document, change_reason="New role", capa_reference=None, user=lead
    )
    services.save_draft(
        draft,
        body_markdown="Call the duty manager.",
        upload=None,
        change_reason="New role",
        capa_reference=None,
        expected_version=draft.version,
        user=lead,
    )
    # The draft is not in force yet: the text in force is what is found.
    assert search.matching_documents("supervisor") == [document.id]
    assert search.matching_documents("manager") == []
    release(draft, lead)
    assert search.matching_documents("manager") == [document.id]
    assert search.matching_documents("supervisor") == []


def test_the_list_searches_and_filters_together(client, login, committed) -> None:
    login("auditor")

    def build() -> tuple[str, str]:
        lead = factories.create_user("quality_lead")
        procedure = make_document(lead, title="Refund procedure")
        form = make_document(lead, doc_type="form", title="Refund request form")
        return procedure.number, form.number

    procedure, form = committed(build)
    page = unescape(client.get("/documents?q=refund&doc_type=form").get_data(as_text=True))
    assert form in page and procedure not in page
