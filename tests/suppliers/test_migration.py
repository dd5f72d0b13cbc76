"""The suppliers migration adds its own tables only: the complaint table (and its full-text
search triggers) is never rebuilt, on SQLite or PostgreSQL, and it downgrades cleanly."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from app.extensions import db

REVISION = "7a7ecd787b4a"


def _parent() -> str:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parents[2] / "migrations"))
    down = ScriptDirectory.from_config(config).get_revision(REVISION).down_revision
    assert isinstance(down, str)
    return down


def test_the_migration_keeps_complaints_searchable_and_downgrades(databases) -> None:
    app = databases.new_migrated_app()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "downgrade", _parent()])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert "supplier" not in inspect(db.engine()).get_table_names()
        with db.engine().begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO complaint (id, reference, title, description, received_at,"
                    " channel, severity, status, product_or_service, escalation_level,"
                    " first_contact_resolution, csat_comment, retention_status, version,"
                    " created_at, updated_at) VALUES (1, 'CMP-2026-000001', 'Cracked housing',"
                    " '', CURRENT_TIMESTAMP, 'phone', 'low', 'received', '', 0, false, '',"
                    " 'unknown', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from app.complaints.listing import search_complaints
        from app.suppliers.models import ComplaintAttribution, Supplier

        tables = set(inspect(db.engine()).get_table_names())
        assert {"supplier", "supplier_complaint", "supplier_nonconformity", "scar"} <= tables
        supplier = Supplier(name="Acme Parts", status_since=date.today())
        db.session.add(supplier)
        db.session.flush()
        db.session.add(ComplaintAttribution(supplier_id=supplier.id, complaint_id=1))
        db.session.commit()
        assert search_complaints("cracked housing") == [1]
        db.session.remove()
    result = runner.invoke(args=["db", "downgrade", _parent()])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from app.complaints.listing import search_complaints

        assert "supplier" not in inspect(db.engine()).get_table_names()
        assert search_complaints("cracked housing") == [1]
        db.session.remove()
        app.extensions["loop_db"].engine.dispose()
