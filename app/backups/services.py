"""Backups you can trust: taken while the app writes, verified by restoring them, restored only
on purpose.

- SQLite: the online backup API (`sqlite3.Connection.backup`), which copies a consistent snapshot
  page by page while other connections go on writing (WAL mode).
- PostgreSQL: `pg_dump --format=custom` (and `pg_restore`); the client tools must be installed.

`verify_backup` restores a backup into a temporary database, runs the integrity check and the
audit verification including the checkpoints, and counts the main records; nothing of the live
database is touched. `restore_backup` refuses to overwrite a database that holds data unless told
to.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import Connection, Engine, make_url

from app.core.errors import ServiceError

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
# The records an operator recognises, counted by `backup verify` (table, label).
COUNTED_TABLES = (
    ("audit_event", "audit events"),
    ("audit_checkpoint", "checkpoints"),
    ("user_account", "users"),
    ("complaint", "complaints"),
    ("nonconformity", "nonconformities"),
    ("capa", "CAPAs"),
)
PG_TOOL_TIMEOUT_SECONDS = 3600


class BackupError(ServiceError):
    pass


# --- where the database is ---------------------------------------------------------------------


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for any other database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(parsed.database)


@dataclass(frozen=True)
class PgTarget:
    """A PostgreSQL database (and schema, when the URL sets `search_path`) as libpq sees it."""

    conninfo: str
    schema: str | None

    def with_database(self, name: str) -> PgTarget:
        parts = urlsplit(self.conninfo)
        return PgTarget(urlunsplit(parts._replace(path=f"/{name}")), self.schema)

    @property
    def database(self) -> str:
        return unquote(urlsplit(self.conninfo).path.lstrip("/"))

    def sqlalchemy_url(self) -> str:
        parts = urlsplit(self.conninfo)
        url = urlunsplit(parts._replace(scheme="postgresql+psycopg"))
        if self.schema:
            separator = "&" if parts.query else "?"
            url += separator + urlencode({"options": f"-csearch_path={self.schema}"})
        return url


def pg_target(url: str) -> PgTarget:
    parsed = make_url(url)
    query = dict(parsed.query)
    schema = None
    options = query.pop("options", None)
    if isinstance(options, tuple):
        options = " ".join(options)
    if options:
        for option in str(options).split():
            if option.startswith("-csearch_path="):
                schema = option.split("=", 1)[1].split(",")[0].strip('"')
    plain = parsed.set(drivername="postgresql", query=query)
    return PgTarget(plain.render_as_string(hide_password=False), schema)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} was not found: install the PostgreSQL client tools (for example "
            "`apt-get install postgresql-client`) in a version at least the server's."
        )
    return found


def _run_pg(arguments: list[str]) -> None:
    try:
        result = subprocess.run(
            arguments, capture_output=True, text=True, timeout=PG_TOOL_TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired:
        raise BackupError(f"{Path(arguments[0]).name} took too long and was stopped.") from None
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        detail = lines[0] if lines else f"exit code {result.returncode}"
        raise BackupError(f"{Path(arguments[0]).name} failed: {detail}")


# --- create ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupResult:
    path: Path
    kind: str  # "sqlite" or "pg_dump"
    size_bytes: int


def create_backup(url: str, path: Path) -> BackupResult:
    """Write a backup of the database at `url` to `path` (never over an existing file). Written
    to a temporary name first, so a failed backup leaves no file that looks like one."""
    if path.exists():
        raise BackupError(f"{path} exists already; choose a new file name.")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        database = sqlite_path(url)
        if database is not None:
            if not database.exists():
                raise BackupError(f"There is no SQLite database at {database}.")
            _sqlite_copy(database, partial)
            kind = "sqlite"
        else:
            target = pg_target(url)
            arguments = [_pg_tool("pg_dump"), "--format=custom", f"--file={partial}"]
            if target.schema:
                arguments.append(f"--schema={target.schema}")
            _run_pg([*arguments, f"--dbname={target.conninfo}"])
            kind = "pg_dump"
        _fsync(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(path, kind, path.stat().st_size)


def _sqlite_copy(source: Path, destination: Path) -> None:
    """A consistent copy through the online backup API, while other connections write."""
    with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as reader:
        reader.execute("PRAGMA busy_timeout = 30000")
        with contextlib.closing(sqlite3.connect(destination)) as writer:
            reader.backup(writer)
            # The copy is a plain file: no -wal beside it to lose when it is moved.
            writer.execute("PRAGMA journal_mode = DELETE")


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def backup_kind(path: Path) -> str:
    if not path.is_file():
        raise BackupError(f"There is no backup file at {path}.")
    with path.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_CUSTOM_MAGIC):
        return "pg_dump"
    raise BackupError(f"{path} is neither a SQLite backup nor a pg_dump custom-format file.")


# --- verify ------------------------------------------------------------------------------------


@dataclass
class BackupVerification:
    kind: str
    integrity: str
    revision: str | None
    counts: dict[str, int] = field(default_factory=dict)
    trail_lines: list[str] = field(default_factory=list)
    trail_ok: bool = False

    @property
    def ok(self) -> bool:
        return self.integrity == "ok" and self.trail_ok

    def lines(self) -> list[str]:
        counted = ", ".join(f"{count} {label}" for label, count in self.counts.items())
        return [
            f"Integrity check: {self.integrity}",
            f"Schema revision: {self.revision or 'none'}",
            f"Records: {counted}",
            *(f"Audit trail: {line}" for line in self.trail_lines),
            "Backup verified." if self.ok else "Backup does NOT verify.",
        ]


@contextlib.contextmanager
def restored_copy(path: Path, live_url: str) -> Iterator[tuple[str, Engine]]:
    """The backup restored into a temporary database (a scratch SQLite file, or a new PostgreSQL
    database on the live server), dropped afterwards; yields its kind and an engine."""
    kind = backup_kind(path)
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="loop-backup-verify-") as folder:
            copy = Path(folder) / "restored.sqlite3"
            shutil.copyfile(path, copy)
            engine = create_engine(f"sqlite:///{copy}")
            try:
                yield kind, engine
            finally:
                engine.dispose()
        return
    if sqlite_path(live_url) is not None:
        raise BackupError(
            "A pg_dump backup is verified on a PostgreSQL server: set DATABASE_URL to one."
        )
    restore = _pg_tool("pg_restore")
    server = pg_target(live_url)
    scratch_name = f"loop_verify_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.sqlalchemy_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{scratch_name}"'))
        scratch = server.with_database(scratch_name)
        try:
            _run_pg(
                [
                    restore,
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    f"--dbname={scratch.conninfo}",
                    str(path),
                ]
            )
            engine = create_engine(scratch.sqlalchemy_url())
            try:
                yield kind, engine
            finally:
                engine.dispose()
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch_name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _integrity(connection: Connection, kind: str) -> str:
    if kind == "sqlite":
        result = [row[0] for row in connection.exec_driver_sql("PRAGMA integrity_check")]
        if result != ["ok"]:
            return "FAILED: " + "; ".join(str(line) for line in result[:3])
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            return f"FAILED: {len(broken)} broken references (first in table {broken[0][0]})"
        return "ok"
    # pg_restore --exit-on-error re-created every constraint and index over the data, which
    # checks them all; what is left to check is that the constraints are there and valid.
    invalid = connection.execute(
        text("SELECT count(*) FROM pg_constraint WHERE NOT convalidated")
    ).scalar()
    return "ok" if not invalid else f"FAILED: {invalid} constraints are not validated"


def _counts(connection: Connection) -> dict[str, int]:
    tables = set(inspect(connection).get_table_names())
    counts = {}
    for table, label in COUNTED_TABLES:
        if table in tables:
            counts[label] = connection.execute(
                select(func.count()).select_from(text(f'"{table}"'))
            ).scalar_one()
    return counts


def verify_backup(
    path: Path,
    live_url: str,
    config: Mapping[str, Any],
    checkpoint_file: Path | None = None,
    public_key_file: Path | None = None,
) -> BackupVerification:
    """Restore `path` into a temporary database and check it: integrity, schema revision, counts,
    and the audit chain against its checkpoints (or those of `checkpoint_file`)."""
    from app.audit.checkpoints import read_checkpoint_file, trusted_public_key, verify_trail

    public_key = trusted_public_key(config, public_key_file)
    listed = read_checkpoint_file(checkpoint_file) if checkpoint_file else None
    with restored_copy(path, live_url) as (kind, engine), engine.connect() as connection:
        integrity = _integrity(connection, kind)
        tables = set(inspect(connection).get_table_names())
        revision = (
            connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            if "alembic_version" in tables
            else None
        )
        result = BackupVerification(kind, integrity, revision, _counts(connection))
        if "audit_event" not in tables:
            result.trail_lines = ["no audit_event table: this is not a Loop QMS database"]
            return result
        trail = verify_trail(connection, public_key, listed)
        result.trail_lines = trail.lines()
        result.trail_ok = trail.ok
        return result


# --- restore -----------------------------------------------------------------------------------


def holds_data(engine: Engine) -> bool:
    """Whether the database has any Loop QMS table with rows in it (users or audit events)."""
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        for table in ("user_account", "audit_event"):
            if (
                table in tables
                and connection.execute(
                    select(func.count()).select_from(text(f'"{table}"'))
                ).scalar_one()
            ):
                return True
    return False


def restore_backup(path: Path, url: str, engine: Engine, *, force: bool = False) -> str:
    """Replace the database at `url` with the backup at `path`. Refuses (BackupError) when the
    database holds data, unless `force`. Stop the app and its scheduler first."""
    kind = backup_kind(path)
    if holds_data(engine) and not force:
        raise BackupError(
            "The database holds data; nothing was restored. Restoring replaces all of it: "
            "repeat with --force if that is what you want."
        )
    engine.dispose()
    database = sqlite_path(url)
    if kind == "sqlite":
        if database is None:
            raise BackupError("This is a SQLite backup; DATABASE_URL names a PostgreSQL database.")
        database.parent.mkdir(parents=True, exist_ok=True)
        with (
            contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as reader,
            contextlib.closing(sqlite3.connect(database)) as writer,
        ):
            writer.execute("PRAGMA busy_timeout = 30000")
            reader.backup(writer)
            writer.execute("PRAGMA journal_mode = WAL")
        return kind
    if database is not None:
        raise BackupError("This is a pg_dump backup; DATABASE_URL names a SQLite database.")
    target = pg_target(url)
    if target.schema:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{target.schema}" CASCADE'))
    else:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    _run_pg(
        [
            _pg_tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--dbname={target.conninfo}",
            str(path),
        ]
    )
    return kind


# --- the nightly job's folder ------------------------------------------------------------------

BACKUP_PREFIX = "loop-backup-"


def backup_name(url: str, at: datetime) -> str:
    suffix = ".sqlite3" if sqlite_path(url) is not None else ".dump"
    return f"{BACKUP_PREFIX}{at:%Y%m%dT%H%M%SZ}{suffix}"


def prune_backups(folder: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest backups the job wrote in `folder`; returns the deleted."""
    ours = sorted(
        (p for p in folder.glob(f"{BACKUP_PREFIX}*") if not p.name.startswith(".")),
        key=lambda p: p.name,
    )
    doomed = ours[:-keep] if keep > 0 else ours
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed
