"""Writers in separate processes that all change the same rollup cells at once: none deadlocks
or fails, the dashboard's sums come out exact, and the audit chain stays one chain."""

from __future__ import annotations

from sqlalchemy import func, select

from app.complaints.models import Complaint
from app.core.audit import verify_chain
from app.extensions import db
from app.metrics import kpis, rollup
from app.metrics.kpis import Scope
from app.organisation.models import Process
from tests import factories
from tests.processes import run_together


def test_concurrent_writers_to_the_same_cells_keep_the_rollups_exact(databases):
    app = databases.new_migrated_app()
    with app.app_context():
        lead = factories.create_user("quality_lead")
        process = Process(name="Contended process")
        db.session.add(process)
        db.session.commit()
        lead_id, process_id = lead.id, process.id
    writers, per_writer = 3, 6
    url = app.config["DATABASE_URL"]
    writer = ["-m", "tests.metrics.concurrent_complaints", url, str(lead_id), str(process_id)]
    run_together([[*writer, str(per_writer)] for _ in range(writers)])

    with app.app_context():
        scope = Scope.last_days(1, process_id=process_id)
        from_rollups = kpis.complaint_totals(scope)
        assert from_rollups == kpis.complaint_totals(scope, from_base=True)
        assert from_rollups["complaints"] == writers * per_writer
        assert from_rollups["resolutions_timed"] == writers * per_writer
        assert rollup.rebuild(db.session.connection()).corrected == 0
        db.session.rollback()
        assert db.session.scalar(select(func.count(Complaint.id))) == writers * per_writer
        result = verify_chain(db.session.connection())
        assert result.ok, result.summary()
