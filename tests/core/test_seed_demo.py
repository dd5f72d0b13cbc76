"""seed-demo: realistic, linked demo data that the rest of the app can keep working on."""

from __future__ import annotations

from sqlalchemy import func, select

from app.accounts.models import User
from app.capa.models import Capa
from app.complaints.models import Complaint
from app.core.audit import verify_chain
from app.core.references import next_reference
from app.extensions import db
from app.intake.models import ImportMapping
from app.nonconformities.models import Nonconformity, complaint_nonconformity
from app.organisation.models import Site


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_seed_demo_builds_the_linked_loop_and_keeps_the_trail_intact(databases):
    app = databases.new_migrated_app()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--complaints", "1500"])
    assert result.exit_code == 0, result.output
    assert "Seeded 1500 complaints" in result.output
    assert "4 saved import mappings" in result.output
    with app.app_context():
        assert count(Complaint) == 1500
        # The ready-made mappings of docs/mappings/, offered by the import wizard.
        names = set(db.session.scalars(select(ImportMapping.name)))
        assert "Airline complaints on Twitter (US airline sentiment export)" in names
        assert len(names) == 4
        assert count(Nonconformity) >= 12
        assert count(Capa) >= 1
        assert db.session.scalar(select(func.count()).select_from(complaint_nonconformity)) > 0
        references = db.session.scalars(select(Complaint.reference).order_by(Complaint.received_at))
        years = {}
        for reference in references:
            _, year, number = reference.split("-")
            assert int(number) == years.get(year, 0) + 1, "references run in date order"
            years[year] = int(number)
        # The app carries on where the seed stopped: new numbers and ids do not collide.
        latest_year = max(int(year) for year in years)
        assert next_reference(db.session, "CMP", latest_year) == (
            f"CMP-{latest_year}-{years[str(latest_year)] + 1:06d}"
        )
        db.session.add(Site(code="AFTER", name="Added after seeding"))
        db.session.add(
            Complaint(
                reference="CMP-1999-000001",
                title="Added through the ORM",
                received_at=db.session.scalar(select(func.max(Complaint.received_at))),
                channel="phone",
                severity="low",
            )
        )
        db.session.commit()
        with app.extensions["loop_db"].engine.connect() as connection:
            assert verify_chain(connection).ok


def test_seed_demo_append_adds_complaints_and_refuses_an_empty_database(databases):
    app = databases.new_migrated_app()
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["seed-demo", "--append", "--complaints", "10"])
    assert refused.exit_code == 1
    assert "run seed-demo on an empty database first" in refused.output
    assert runner.invoke(args=["seed-demo", "--complaints", "100"]).exit_code == 0
    again = runner.invoke(args=["seed-demo", "--complaints", "100"])
    assert again.exit_code == 1 and "Use --append" in again.output
    appended = runner.invoke(args=["seed-demo", "--append", "--complaints", "250"])
    assert appended.exit_code == 0, appended.output
    with app.app_context():
        assert count(Complaint) == 350
        assert db.session.scalar(select(func.count(func.distinct(Complaint.reference)))) == 350
        # The bulk seeding is indexed for the Search like any other write (database triggers).
        from app.complaints.listing import search_complaints

        last = db.session.scalar(select(Complaint).order_by(Complaint.id.desc()).limit(1))
        assert last.id in search_complaints(last.reference)
        assert last.id in search_complaints(last.title)


def test_a_negative_count_is_refused_in_one_line(databases):
    app = databases.new_migrated_app()
    result = app.test_cli_runner().invoke(args=["seed-demo", "--complaints", "-5"])
    assert result.exit_code == 2
    assert "Invalid value for '--complaints'" in result.output


def test_every_seeded_record_has_its_own_create_event_and_a_readable_history(databases):
    from app.accounts.services import set_password
    from app.core.audit import AuditAction, AuditEvent
    from app.rca.models import RootCause
    from tests.audit.test_readable_history import history_panel

    app = databases.new_migrated_app()
    assert app.test_cli_runner().invoke(args=["seed-demo", "--complaints", "600"]).exit_code == 0
    with app.app_context():
        for model in (Complaint, Nonconformity, Capa, RootCause):
            created = db.session.scalar(
                select(func.count(func.distinct(AuditEvent.record_id))).where(
                    AuditEvent.record_type == model.__tablename__,
                    AuditEvent.action == AuditAction.CREATE,
                )
            )
            assert created == count(model), model.__tablename__
        capa = db.session.scalars(select(Capa).order_by(Capa.id)).first()
        capa_created = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.record_type == "capa", AuditEvent.record_id == str(capa.id)
            )
        ).one()
        changes = capa_created.changes_dict
        assert changes["reference"] == [None, capa.reference]
        assert [m["id"] for m in changes["principles"]["added"]] == [p.id for p in capa.principles]
        assert changes["principles"]["added"][0]["label"] == capa.principles[0].name
        assert changes["nonconformities"]["added"] == [
            {"id": nc.id, "label": nc.reference} for nc in capa.nonconformities
        ]
        nc = capa.nonconformities[0]
        complaint = nc.complaints[0]
        lead = db.session.scalars(select(User).where(User.role == "quality_lead")).first()
        set_password(lead, "a demo password 1234")
        db.session.commit()
        email = lead.email
        with app.extensions["loop_db"].engine.connect() as connection:
            assert verify_chain(connection).ok
    client = app.test_client()
    client.post("/login", data={"email": email, "password": "a demo password 1234"})
    panel = history_panel(client.get(f"/complaints/{complaint.reference}").get_data(as_text=True))
    assert "No recorded changes yet" not in panel
    assert "Created" in panel and f"{complaint.reference} · by system:seed-demo" in panel
    assert "reason: demo data from seed-demo" in panel
    assert "Received " in panel and "Channel " in panel
    nc_panel = history_panel(client.get(f"/nonconformities/{nc.reference}").get_data(as_text=True))
    assert f"Complaints added {complaint.reference}" in nc_panel
