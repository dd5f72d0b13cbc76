"""seed-demo's audits and review: a year's programme with audits done (findings linked to
nonconformities), one overdue, and one held management review with frozen inputs."""

from __future__ import annotations

from sqlalchemy import select

from app.audits.models import Audit, AuditStatus, Finding
from app.core.audit import verify_chain
from app.extensions import db
from app.reviews.models import ManagementReview, ReviewStatus


def test_seed_demo_runs_a_year_of_audits_and_holds_a_review(databases) -> None:
    app = databases.new_migrated_app()
    result = app.test_cli_runner().invoke(args=["seed-demo", "--complaints", "300"])
    assert result.exit_code == 0, result.output
    assert "5 internal audits" in result.output and "1 management reviews" in result.output
    with app.app_context():
        audits = list(db.session.scalars(select(Audit).order_by(Audit.planned_start)))
        assert len(audits) == 5
        statuses = [audit.status for audit in audits]
        if AuditStatus.CLOSED in statuses:
            findings = list(db.session.scalars(select(Finding)))
            raised = [f for f in findings if f.kind.is_nonconformity]
            assert raised and all(f.nonconformity is not None for f in raised)
            assert all(f.nonconformity.audit_finding == f for f in raised)
        review = db.session.scalar(select(ManagementReview))
        assert review.status == ReviewStatus.HELD
        assert review.inputs["previous_actions"] == []
        assert [o.kind.value for o in review.outputs] == ["decision", "action", "action"]
        assert review.outputs[2].capa is not None
        db.session.rollback()  # end the read before the chain check's own connection
        with app.extensions["loop_db"].engine.connect() as connection:
            assert verify_chain(connection).ok
