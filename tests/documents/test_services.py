"""Document control without HTTP: numbers, the signed workflow, supersession, the as-of view,
read-and-understood assignments and the bad inputs the issue names."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from app.core.errors import ServiceError, StaleRecord
from app.core.files import FileRefused, read_bytes
from app.core.signatures import changed_after_signature
from app.core.workflow import TransitionRefused
from app.documents import reading, services
from app.documents.models import ContentKind, RevisionStatus
from app.documents.rendering import render_markdown
from app.extensions import db
from tests import factories
from tests.capa.factories import plan
from tests.conftest import TEST_PASSWORD
from tests.documents.factories import make_document, release


def test_a_new_document_is_numbered_per_type_with_a_draft_first_revision(session) -> None:
    lead = factories.create_user("quality_lead")
    first = make_document(lead)
    second = make_document(lead, title="Escalating complaints")
    policy = make_document(lead, doc_type="policy", title="Quality policy")
    assert [first.number, second.number, policy.number] == [
        "DOC-PRO-0001",
        "DOC-PRO-0002",
        "DOC-POL-0001",
    ]
    (revision,) = first.revisions
    assert revision.status == RevisionStatus.DRAFT
    assert revision.label == "DOC-PRO-0001 rev 1"


def test_the_prefix_per_type_is_a_setting(app, session, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "LOOP_DOCUMENT_PREFIXES", {"work_instruction": "WI"})
    lead = factories.create_user("quality_lead")
    assert make_document(lead, doc_type="work_instruction").number == "WI-0001"


def test_a_file_document_keeps_the_file_by_hash(session) -> None:
    lead = factories.create_user("quality_lead")
    content = b"%PDF-1.7\n" + b"x" * 500
    document = make_document(
        lead, body_markdown="", upload=(io.BytesIO(content), "refund-form.pdf")
    )
    revision = document.revisions[0]
    assert revision.content_kind == ContentKind.FILE
    assert read_bytes(session, revision.file_sha256) == content


def test_a_disguised_program_is_not_a_document(session) -> None:
    lead = factories.create_user("quality_lead")
    with pytest.raises(FileRefused, match="is a program"):
        make_document(lead, upload=(io.BytesIO(b"MZ\x90\x00" + bytes(300)), "procedure.docx"))


def test_the_signed_workflow_to_effective_and_its_readers(session) -> None:
    lead = factories.create_user("quality_lead", full_name="Quinn Author")
    approver = factories.other_lead(lead)
    readers = [factories.create_user("contributor") for _ in range(2)]
    factories.create_user("auditor")  # not a reader role of this document
    document = make_document(lead)
    revision = document.revisions[0]
    release(revision, lead, approver)
    assert revision.status == RevisionStatus.EFFECTIVE
    assert services.effective_revision(document) is revision
    assert [row.purpose_label for row in services.signature_rows(revision)] == [
        "Authored",
        "Reviewed",
        "Approved",
    ]
    assert not any(row.changed for row in services.signature_rows(revision))
    assert document.review_due == services.add_months(revision.effective_from.date(), 12)
    acknowledgements = reading.acknowledgements_of(revision)
    assert {ack.user_id for ack in acknowledgements} == {reader.id for reader in readers}
    assert all(
        ack.due_date == revision.effective_from.date() + timedelta(days=14)
        for ack in acknowledgements
    )
    reading.acknowledge(revision, readers[0])
    with pytest.raises(ServiceError, match="already confirmed"):
        reading.acknowledge(revision, readers[0])
    with pytest.raises(ServiceError, match="not asked"):
        reading.acknowledge(revision, approver)
    assert [ack.user_id for ack in reading.open_acknowledgements_of(readers[1])] == [readers[1].id]


def test_approving_ones_own_revision_is_refused_unless_the_setting_allows(
    app, session, monkeypatch
) -> None:
    lead = factories.create_user("quality_lead")
    revision = make_document(lead).revisions[0]
    services.submit_for_review(revision, lead, TEST_PASSWORD)
    services.sign_review(revision, factories.other_lead(lead), TEST_PASSWORD)
    with pytest.raises(TransitionRefused, match="someone other than its author must approve"):
        services.approve(revision, lead, TEST_PASSWORD)
    assert revision.status == RevisionStatus.IN_REVIEW
    monkeypatch.setitem(app.config, "LOOP_DOCUMENT_SELF_APPROVAL", True)
    services.approve(revision, lead, TEST_PASSWORD)
    assert revision.status == RevisionStatus.APPROVED


def test_approval_needs_a_review_and_the_right_password(session) -> None:
    lead = factories.create_user("quality_lead")
    approver = factories.other_lead(lead)
    revision = make_document(lead).revisions[0]
    with pytest.raises(ServiceError):
        services.submit_for_review(revision, lead, "not the password")
    assert revision.status == RevisionStatus.DRAFT
    services.submit_for_review(revision, lead, TEST_PASSWORD)
    with pytest.raises(TransitionRefused, match="reviewer must sign"):
        services.approve(revision, approver, TEST_PASSWORD)


def test_a_new_revision_needs_a_reason_cites_its_capa_and_supersedes_the_old(session) -> None:
    lead = factories.create_user("quality_lead")
    document = make_document(lead)
    first = document.revisions[0]
    release(first, lead)
    with pytest.raises(ServiceError, match="A change reason is required"):
        services.start_revision(document, change_reason=" ", capa_reference=None, user=lead)
    with pytest.raises(ServiceError, match="There is no CAPA CAPA-1999-000001"):
        services.start_revision(
            document, change_reason="Fix", capa_reference="CAPA-1999-000001", user=lead
        )
    capa = plan(lead)
    second = services.start_revision(
        document, change_reason="Add the duplicate check", capa_reference=capa.reference, user=lead
    )
    assert second.number == 2 and second.body_markdown == first.body_markdown
    with pytest.raises(ServiceError, match="Revision 2 is still draft"):
        services.start_revision(document, change_reason="Again", capa_reference=None, user=lead)
    services.save_draft(
        second,
        body_markdown=first.body_markdown + "\n3. Check for an earlier refund.",
        upload=None,
        change_reason="Add the duplicate check",
        capa_reference=capa.reference,
        expected_version=second.version,
        user=lead,
    )
    release(second, lead)
    assert first.status == RevisionStatus.SUPERSEDED
    assert first.effective_until == second.effective_from
    assert services.effective_revision(document) is second
    assert services.revisions_caused_by(capa) == [second]


def test_the_database_refuses_two_effective_revisions(session) -> None:
    lead = factories.create_user("quality_lead")
    document = make_document(lead)
    release(document.revisions[0], lead)
    second = services.start_revision(document, change_reason="Typo", capa_reference=None, user=lead)
    second.status = RevisionStatus.EFFECTIVE
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_stale_save_and_a_save_after_submission_are_refused(session) -> None:
    lead = factories.create_user("quality_lead")
    revision = make_document(lead).revisions[0]
    stale = revision.version
    services.save_draft(
        revision,
        body_markdown="Version A",
        upload=None,
        change_reason="New document",
        capa_reference=None,
        expected_version=stale,
        user=lead,
    )
    with pytest.raises(StaleRecord):
        services.save_draft(
            revision,
            body_markdown="Version B",
            upload=None,
            change_reason="New document",
            capa_reference=None,
            expected_version=stale,
            user=lead,
        )
    services.submit_for_review(revision, lead, TEST_PASSWORD)
    with pytest.raises(ServiceError, match="only a draft changes"):
        services.save_draft(
            revision,
            body_markdown="Version C",
            upload=None,
            change_reason="New document",
            capa_reference=None,
            expected_version=revision.version,
            user=lead,
        )


def test_returning_to_draft_voids_the_signatures(session) -> None:
    lead = factories.create_user("quality_lead")
    reviewer = factories.other_lead(lead)
    revision = make_document(lead).revisions[0]
    services.submit_for_review(revision, lead, TEST_PASSWORD)
    with pytest.raises(TransitionRefused, match="needs a reason"):
        services.return_to_draft(revision, reviewer, "")
    services.return_to_draft(revision, reviewer, "Step 2 contradicts the refund policy")
    assert revision.status == RevisionStatus.DRAFT
    assert all(row.signature.is_void for row in services.signature_rows(revision))


def test_the_approval_signature_covers_the_content_not_the_workflow_stamps(session) -> None:
    lead = factories.create_user("quality_lead")
    revision = make_document(lead).revisions[0]
    release(revision, lead)
    approval = services.signature_rows(revision)[-1].signature
    assert not changed_after_signature(approval, revision)
    revision.body_markdown = "Edited behind the workflow's back"
    db.session.flush()
    assert changed_after_signature(approval, revision)


def test_the_revision_in_force_on_a_date(session) -> None:
    lead = factories.create_user("quality_lead")
    document = make_document(lead)
    first = document.revisions[0]
    release(first, lead)
    second = services.start_revision(
        document, change_reason="Annual update", capa_reference=None, user=lead
    )
    release(second, lead)
    # Move the history into the past so each day has a known answer.
    document.created_at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    first.effective_from = datetime(2026, 1, 10, 9, tzinfo=UTC)
    first.effective_until = second.effective_from = datetime(2026, 3, 1, 12, tzinfo=UTC)
    db.session.flush()

    def on(day: str):
        return dict(services.in_force_on(datetime.fromisoformat(day).date())).get(document)

    assert document not in dict(services.in_force_on(datetime(2026, 1, 4).date()))
    assert on("2026-01-07") is None  # written, not yet in force
    assert on("2026-01-10") is first
    assert on("2026-02-28") is first
    assert on("2026-03-01") is second  # in force by the end of that day
    assert on("2026-12-31") is second
    services.make_obsolete(second, lead, "Process discontinued")
    second.effective_until = datetime(2026, 6, 1, tzinfo=UTC)
    db.session.flush()
    assert on("2026-05-31") is second
    assert on("2026-06-01") is None


def test_markdown_is_rendered_without_raw_html_or_script_links() -> None:
    html = str(render_markdown("**Bold** <script>alert(1)</script> [x](javascript:alert(1))"))
    assert "<strong>Bold</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html


def test_review_reminders_e_mail_the_owner_once_per_due_date(app, session, monkeypatch) -> None:
    from app.core.db import utcnow
    from app.scheduler.models import JobRunStatus
    from app.scheduler.runner import run_job
    from tests.scheduler.smtp import smtp_server

    owner = factories.create_user("quality_lead", email="owner@example.com")
    document = make_document(owner)
    release(document.revisions[0], owner)
    not_due = make_document(owner, title="Fresh procedure")
    release(not_due.revisions[0], owner)
    document.review_due = utcnow().date() - timedelta(days=1)
    db.session.commit()
    with smtp_server() as (inbox, port):
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", port)
        now = utcnow()
        first = run_job("document-review-reminders", now)
        second = run_job("document-review-reminders", now + timedelta(seconds=1))
    assert first.status == JobRunStatus.SUCCEEDED, first.error
    assert first.counts == {"due": 1, "reminded": 1, "already_reminded": 0, "emails_sent": 1}
    assert second.counts == {"due": 1, "reminded": 0, "already_reminded": 1, "emails_sent": 0}
    review_mails = [m for m in inbox.messages if m.message["Subject"].startswith("Review due")]
    assert [(m.recipients, m.message["Subject"]) for m in review_mails] == [
        (["owner@example.com"], f"Review due: {document.number} Handling refund requests")
    ]
