"""The migrations build the schema the models describe, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select

import app.models  # noqa: F401
from app.core.db import Base
from app.core.migration_support import compare_type, include_name
from app.organisation.models import TQMPrinciple


def test_models_and_migrations_agree(app):
    engine = app.extensions["loop_db"].engine
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": compare_type, "include_name": include_name}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_db_check_command_agrees(app):
    result = app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    assert "Models and migrations agree." in result.output


def test_the_first_migration_seeds_the_eight_tqm_principles(session):
    principles = session.scalars(select(TQMPrinciple).order_by(TQMPrinciple.id)).all()
    assert [p.name for p in principles] == [
        "Customer-focused",
        "Total employee involvement",
        "Process-centered",
        "Integrated processes",
        "Strategic and systematic approach",
        "Continual improvement",
        "Fact-based decision making",
        "Communications",
    ]
    assert principles[0].description == "The customer determines the level of quality."


def test_downgrade_to_base_and_upgrade_again(databases):
    app = databases.new_migrated_app()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "downgrade", "base"]).exit_code == 0
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output


def test_upgrading_a_database_full_of_linked_records_keeps_them(databases):
    """Later migrations rebuild tables other rows point at (SQLite's batch mode); a database in
    use, not only an empty one, must upgrade with every record and link intact."""
    from sqlalchemy import text

    app = databases.new_migrated_app()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "downgrade", "eb95161ba327"])  # the quality loop
    assert result.exit_code == 0, result.output
    with app.app_context():
        from app.extensions import db

        with db.engine().begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO customer (id, name, segment, annual_value, active, version,"
                    " created_at, updated_at) VALUES (1, 'Ada', 'consumer', 0, true, 1,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO complaint (id, reference, title, description, received_at,"
                    " channel, severity, status, product_or_service, customer_id,"
                    " escalation_level, first_contact_resolution, csat_comment,"
                    " retention_status, version, created_at, updated_at) VALUES (1,"
                    " 'CMP-2026-000001', 'Late', '', CURRENT_TIMESTAMP, 'phone', 'low',"
                    " 'received', '', 1, 0, false, '', 'unknown', 1, CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP)"
                )
            )
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from app.complaints.listing import search_complaints
        from app.complaints.models import Complaint

        complaint = db.session.get(Complaint, 1)
        assert complaint.customer.name == "Ada"
        # The complaint search's migration indexes the complaints already stored.
        assert search_complaints("late ada") == [1]


def test_the_migrations_form_one_line() -> None:
    # Two branches that each add a migration after the same parent merge cleanly in git but give
    # Alembic two heads, and then `db upgrade` refuses to run anywhere.
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parents[2] / "migrations"))
    scripts = ScriptDirectory.from_config(config)
    heads = scripts.get_heads()
    assert len(heads) == 1, f"several heads: {heads}; chain the newer migration after the other"
    chain = list(scripts.walk_revisions())
    assert all(len(script._all_down_revisions) <= 1 for script in chain)  # no merge points
    assert chain[-1].down_revision is None
