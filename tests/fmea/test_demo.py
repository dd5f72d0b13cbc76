"""seed-demo's FMEAs: two worksheets whose rows link to the seeded failure categories, one row
showing the risk before and after its effective preventive CAPA, an approved revision."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.services import create_user, signatures_of
from app.core.audit import acting_as, verify_chain
from app.demo import seed_demo_data
from app.demo.fmea import seed_demo_fmeas
from app.extensions import db
from app.fmea import services
from app.fmea.models import Fmea


def test_seed_demo_makes_two_fmeas_that_learn_from_the_seeded_categories(databases):
    app = databases.new_migrated_app()
    with app.app_context(), acting_as("system:seed-demo"):
        seed_demo_data()
        create_user("approver@loop.example", "Morgan Approver", "quality_lead", "A-long-pass-123")
        assert seed_demo_fmeas() == 2
        assert seed_demo_fmeas() == 0  # once only
        db.session.commit()
        fmeas = db.session.scalars(select(Fmea).order_by(Fmea.id)).all()
        assert [f.process.name for f in fmeas] == ["Billing", "Installation"]
        rows = [row for fmea in fmeas for row in services.rows_of(fmea)]
        assert len(rows) == 7 and all(row.categories for row in rows)
        revised = [row for row in rows if row.is_revised]
        assert len(revised) == 1
        assert (revised[0].ap.value, revised[0].revised_ap.value) == ("M", "L")
        billing = fmeas[0]
        assert billing.revision == 2 and len(billing.revisions) == 1
        (signature,) = signatures_of(billing.revisions[0])
        assert signature.signer_name == "Morgan Approver"
        assert sum(len(row.actions) for row in rows) == 2
        db.session.rollback()  # end the read before another connection checks the chain
        with app.extensions["loop_db"].engine.connect() as connection:
            assert verify_chain(connection).ok
