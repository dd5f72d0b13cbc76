"""The demo data holds document control and evidence: several revisions, confirmations pending
and given, a review overdue, and files on complaints and CAPAs."""

from __future__ import annotations

from sqlalchemy import func, select

from app.attachments.models import Attachment
from app.core.audit import verify_chain
from app.documents import services
from app.documents.models import ControlledDocument, ReadAcknowledgement, RevisionStatus
from app.extensions import db


def test_the_demo_seeds_documents_readers_and_attachments(databases) -> None:
    app = databases.new_migrated_app()
    result = app.test_cli_runner().invoke(args=["seed-demo", "--complaints", "200"])
    assert result.exit_code == 0, result.output
    assert "5 controlled documents" in result.output
    assert "approver@loop.example" in result.output
    with app.app_context():
        handling = services.get_by_number("DOC-PRO-0001")
        assert [r.status for r in handling.revisions] == [
            RevisionStatus.SUPERSEDED,
            RevisionStatus.SUPERSEDED,
            RevisionStatus.EFFECTIVE,
        ]
        assert handling.revisions[-1].capa is not None
        assert services.get_by_number("DOC-PRO-0002").revisions[0].status == (
            RevisionStatus.IN_REVIEW
        )
        assert services.is_review_overdue(services.get_by_number("DOC-WI-0001"))
        acknowledged = db.session.scalar(
            select(func.count()).where(ReadAcknowledgement.acknowledged_at.is_not(None))
        )
        pending = db.session.scalar(
            select(func.count()).where(ReadAcknowledgement.acknowledged_at.is_(None))
        )
        assert acknowledged >= 1 and pending >= 1
        kinds = set(db.session.scalars(select(Attachment.record_type)))
        assert kinds == {"complaint", "capa"}
        assert db.session.scalar(select(func.count(ControlledDocument.id))) == 5
        db.session.rollback()  # let go of the write lock before the verification reads
        with app.extensions["loop_db"].engine.connect() as connection:
            assert verify_chain(connection).ok
        db.session.remove()
