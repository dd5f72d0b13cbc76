"""import builds reference data; the source's tags and company response; referral and fax

- `complaint.tags` and `complaint.company_response`: the source's labels and its response to the
  customer, nullable (NULL: the file gave none); added in place (no table copy on SQLite: the
  complaint-search triggers name the table).
- The complaint channel gains `referral` and `fax`: the CHECK constraint `ck_complaint_channel`
  lists the allowed values. PostgreSQL drops and re-creates it. SQLite cannot alter a constraint
  and the complaint table must not be copied, so the table's stored definition is rewritten in
  place (PRAGMA writable_schema, the procedure SQLite documents for changing CHECK constraints
  that every stored row already satisfies); a widened list is satisfied by every row.
- `import_job` counts the rows its row filter left out, the complaints imported with a time the
  file does not give, and the external ids several rows give with different values (and keeps
  the first of those).

Revision ID: c3f5a7e9b1d4
Revises: 7be7a7994507
Create Date: 2026-12-03 19:00:00.000000+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c3f5a7e9b1d4"
down_revision = "7be7a7994507"
branch_labels = None
depends_on = None

OLD_CHANNELS = ("phone", "email", "web_form", "chat", "social_media", "in_person", "letter", "api")
NEW_CHANNELS = (*OLD_CHANNELS, "referral", "fax")


def _check(values: tuple[str, ...]) -> str:
    return "channel IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _set_channels(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        # op.f: the name is final (the naming convention would prefix it again).
        op.drop_constraint(op.f("ck_complaint_channel"), "complaint", type_="check")
        op.create_check_constraint(op.f("ck_complaint_channel"), "complaint", _check(new))
        return
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'complaint'"
    ).scalar_one()
    old_check, new_check = _check(old), _check(new)
    if old_check not in sql:
        raise RuntimeError("The complaint table's channel constraint is not the expected one.")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'complaint'",
        (sql.replace(old_check, new_check),),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = bind.exec_driver_sql("PRAGMA integrity_check").scalar_one()
    if problems != "ok":
        raise RuntimeError(f"The complaint table failed the integrity check: {problems}")


def upgrade() -> None:
    op.add_column("complaint", sa.Column("tags", sa.String(length=500), nullable=True))
    op.add_column("complaint", sa.Column("company_response", sa.String(length=200), nullable=True))
    _set_channels(OLD_CHANNELS, NEW_CHANNELS)
    for name in ("filtered_count", "unknown_time_count", "conflict_count"):
        op.add_column(
            "import_job", sa.Column(name, sa.Integer(), nullable=False, server_default="0")
        )
    op.add_column("import_job", sa.Column("conflicts", sa.Text(), nullable=True))


def downgrade() -> None:
    for name in ("conflicts", "conflict_count", "unknown_time_count", "filtered_count"):
        op.drop_column("import_job", name)
    op.execute("UPDATE complaint SET channel = 'letter' WHERE channel IN ('referral', 'fax')")
    _set_channels(NEW_CHANNELS, OLD_CHANNELS)
    # SQLite drops the columns in place (3.35+), never through a copy of the table.
    with op.batch_alter_table("complaint", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("company_response")
        batch_op.drop_column("tags")
