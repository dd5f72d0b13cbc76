"""Settings for Loop QMS.

Every setting has a default here and can be overridden by an environment variable of the same name.
`LOOP_ENV` picks the class: `development` (default), `production` or `testing`.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEFAULT_INSTANCE_DIR = BASE_DIR / "instance"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, got {value!r}") from exc


def instance_dir() -> Path:
    return Path(os.environ.get("LOOP_INSTANCE_DIR", DEFAULT_INSTANCE_DIR))


def _development_secret_key() -> str:
    """A key generated once and kept in the instance folder, so sessions survive restarts."""
    path = instance_dir() / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


class Config:
    ENV_NAME = "base"
    ORG_NAME = "Loop QMS"
    DATABASE_URL = ""
    SECRET_KEY = ""
    LOOP_SCHEDULER = "embedded"

    # Sessions: idle and absolute timeouts are enforced by app.accounts on every request.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)

    # Login throttling, counted in the database so every worker and host sees the same counts.
    LOGIN_LOCKOUT_THRESHOLD = 5
    LOGIN_LOCKOUT_WINDOW = timedelta(minutes=15)
    LOGIN_IP_LIMIT = 30
    LOGIN_IP_WINDOW = timedelta(minutes=15)

    HSTS = False
    WTF_CSRF_TIME_LIMIT = 3600 * 8
    PAGE_SIZE = 50

    MAIL_SERVER = ""
    MAIL_PORT = 25
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_USE_TLS = False
    MAIL_FROM = "loop-qms@localhost"
    # The address people open Loop at, put in front of links in e-mails (e.g. https://qms.example).
    LOOP_BASE_URL = ""
    # How often each scheduler checks for due jobs (seconds); the cron schedules live in the app.
    LOOP_SCHEDULER_TICK_SECONDS = 15
    # A run still "running" after this many minutes is taken for dead (its scheduler was killed or
    # its host lost) and marked abandoned; set it above the longest a job may take. A run whose
    # process is gone from this very host is marked at once.
    LOOP_SCHEDULER_STALE_MINUTES = 60

    SQLITE_BUSY_TIMEOUT_MS = 30_000
    # Background tasks (app/tasks): how often each scheduler looks for queued ones (seconds), how
    # long their files are kept (hours), and the sizes above which pages hand work to them.
    LOOP_TASK_POLL_SECONDS = 2
    TASK_RESULT_HOURS = 24
    REPORT_SYNC_MAX_ROWS = 200
    # A register longer than REPORT_PART_ROWS rows is laid out in parts of that many rows, by up
    # to REPORT_RENDER_WORKERS processes at once (1: one part after another, in the app's process).
    REPORT_PART_ROWS = 500
    REPORT_RENDER_WORKERS = 2
    AUDIT_EXTRACT_SYNC_MAX_EVENTS = 1_000
    CSV_SYNC_MAX_ROWS = 10_000
    AUDIT_VERIFY_SYNC_MAX_EVENTS = 50_000
    # SQLite connections each process keeps open (plus as many again twice over under load).
    SQLITE_POOL_SIZE = 5
    # How many reverse proxies (load balancers) stand in front of the app and may be trusted to
    # report the client's address; 0 means the app faces clients directly.
    LOOP_TRUSTED_PROXIES = 0
    # How long the dashboard may reuse KPI figures it computed (seconds; 0 = always recompute).
    METRICS_CACHE_SECONDS = 300

    # Complaint import (app/intake): the largest file and the most data rows one import takes,
    # and how many rows each import step (one transaction) handles.
    IMPORT_MAX_BYTES = 20 * 1024 * 1024
    IMPORT_MAX_ROWS = 100_000
    IMPORT_CHUNK_ROWS = 2_000

    # The JSON API: calls per token (Flask-Limiter syntax) and where the counts live. "memory://"
    # counts in each process; with several workers use a shared store such as redis://host:6379.
    API_RATE_LIMIT = "300 per minute"
    API_RATE_LIMIT_STORAGE = "memory://"
    # Largest API request body in bytes.
    API_MAX_BODY_BYTES = 1_000_000

    # Record control (docs/quality-loop.md): separation of duties on signatures — neither a
    # CAPA's owner nor its implementer signs its effectiveness or closure, and a nonconformity's
    # owner does not sign its closure; and the least number of days between a CAPA's
    # implementation and its effectiveness verification (0: no minimum).
    LOOP_SEPARATION_OF_DUTIES = True
    LOOP_EFFECTIVENESS_MIN_DAYS = 0
    # The currency money figures (cost of poor quality, the financial case) are in (ISO 4217).
    LOOP_CURRENCY = "EUR"
    # Signed audit checkpoints (app/audit/checkpoints.py, docs/operations.md). The Ed25519 signing
    # key's file: generated on first use in the instance folder outside production, required in
    # production. Checkpoints are appended to AUDIT_CHECKPOINT_PUBLISH (a file, or a directory for
    # one file each; empty: the instance folder's audit-checkpoints.jsonl) and, when
    # AUDIT_CHECKPOINT_EMAIL is set, mailed there. AUDIT_PUBLIC_KEY_FILE lets a host without the
    # private key verify.
    AUDIT_SIGNING_KEY_FILE = ""
    AUDIT_PUBLIC_KEY_FILE = ""
    AUDIT_CHECKPOINT_PUBLISH = ""
    AUDIT_CHECKPOINT_EMAIL = ""
    # Stored files (app/core/files.py): the largest file one upload may be, and how many files
    # one upload of attachments may carry.
    LOOP_FILE_MAX_BYTES = 25 * 1024 * 1024
    LOOP_ATTACHMENT_MAX_FILES = 10
    # Document control (app/documents, docs/documents.md): number prefixes per document type
    # (env "procedure=SOP,policy=POL"; the default is DOC-PRO, DOC-POL, …), whether an author
    # may approve their own revision, and the days readers get to confirm a new revision.
    LOOP_DOCUMENT_PREFIXES: dict[str, str] = {}
    LOOP_DOCUMENT_SELF_APPROVAL = False
    LOOP_DOCUMENT_READ_DAYS = 14
    # Nightly backups (app/backups): the directory the scheduler job writes to (empty: the
    # instance folder's backups/); how many it keeps is the job's setting on the admin page.
    BACKUP_DIR = ""

    @classmethod
    def load(cls) -> dict[str, object]:
        """The settings of this class, with environment variables applied on top."""
        settings: dict[str, object] = {
            key: getattr(cls, key) for key in dir(cls) if key.isupper() and not key.startswith("_")
        }
        settings["ORG_NAME"] = os.environ.get("LOOP_ORG_NAME", cls.ORG_NAME)
        settings["DATABASE_URL"] = os.environ.get("DATABASE_URL") or cls.default_database_url()
        settings["LOOP_SCHEDULER"] = os.environ.get("LOOP_SCHEDULER", cls.LOOP_SCHEDULER)
        if settings["LOOP_SCHEDULER"] not in {"embedded", "off"}:
            raise RuntimeError("LOOP_SCHEDULER must be 'embedded' or 'off'")
        settings["SECRET_KEY"] = os.environ.get("SECRET_KEY") or cls.default_secret_key()
        settings["MAIL_SERVER"] = os.environ.get("MAIL_SERVER", cls.MAIL_SERVER)
        settings["MAIL_PORT"] = _env_int("MAIL_PORT", cls.MAIL_PORT)
        settings["MAIL_USERNAME"] = os.environ.get("MAIL_USERNAME", cls.MAIL_USERNAME)
        settings["MAIL_PASSWORD"] = os.environ.get("MAIL_PASSWORD", cls.MAIL_PASSWORD)
        settings["MAIL_USE_TLS"] = _env_bool("MAIL_USE_TLS", cls.MAIL_USE_TLS)
        settings["MAIL_FROM"] = os.environ.get("MAIL_FROM", cls.MAIL_FROM)
        settings["LOOP_BASE_URL"] = os.environ.get("LOOP_BASE_URL", cls.LOOP_BASE_URL)
        settings["LOOP_SCHEDULER_TICK_SECONDS"] = _env_int(
            "LOOP_SCHEDULER_TICK_SECONDS", cls.LOOP_SCHEDULER_TICK_SECONDS
        )
        stale_minutes = _env_int("LOOP_SCHEDULER_STALE_MINUTES", cls.LOOP_SCHEDULER_STALE_MINUTES)
        if stale_minutes < 1:
            raise RuntimeError("LOOP_SCHEDULER_STALE_MINUTES must be at least 1")
        settings["LOOP_SCHEDULER_STALE_MINUTES"] = stale_minutes
        settings["SESSION_COOKIE_SECURE"] = _env_bool(
            "SESSION_COOKIE_SECURE", cls.SESSION_COOKIE_SECURE
        )
        settings["SESSION_IDLE_TIMEOUT"] = timedelta(
            minutes=_env_int(
                "SESSION_IDLE_MINUTES", int(cls.SESSION_IDLE_TIMEOUT.total_seconds() // 60)
            )
        )
        settings["SESSION_ABSOLUTE_TIMEOUT"] = timedelta(
            hours=_env_int(
                "SESSION_ABSOLUTE_HOURS", int(cls.SESSION_ABSOLUTE_TIMEOUT.total_seconds() // 3600)
            )
        )
        settings["PAGE_SIZE"] = _env_int("PAGE_SIZE", cls.PAGE_SIZE)
        for name in (
            "LOOP_TASK_POLL_SECONDS",
            "TASK_RESULT_HOURS",
            "REPORT_SYNC_MAX_ROWS",
            "AUDIT_EXTRACT_SYNC_MAX_EVENTS",
            "CSV_SYNC_MAX_ROWS",
            "AUDIT_VERIFY_SYNC_MAX_EVENTS",
            "REPORT_PART_ROWS",
            "REPORT_RENDER_WORKERS",
        ):
            settings[name] = max(1, _env_int(name, getattr(cls, name)))
        settings["SQLITE_POOL_SIZE"] = max(1, _env_int("SQLITE_POOL_SIZE", cls.SQLITE_POOL_SIZE))
        settings["LOOP_TRUSTED_PROXIES"] = _env_int(
            "LOOP_TRUSTED_PROXIES", cls.LOOP_TRUSTED_PROXIES
        )
        for name in ("LOOP_FILE_MAX_BYTES", "LOOP_ATTACHMENT_MAX_FILES", "LOOP_DOCUMENT_READ_DAYS"):
            settings[name] = max(1, _env_int(name, getattr(cls, name)))
        settings["LOOP_DOCUMENT_SELF_APPROVAL"] = _env_bool(
            "LOOP_DOCUMENT_SELF_APPROVAL", cls.LOOP_DOCUMENT_SELF_APPROVAL
        )
        settings["LOOP_DOCUMENT_PREFIXES"] = _document_prefixes(
            os.environ.get("LOOP_DOCUMENT_PREFIXES", "")
        )
        for name in ("IMPORT_MAX_BYTES", "IMPORT_MAX_ROWS", "IMPORT_CHUNK_ROWS"):
            settings[name] = _env_int(name, getattr(cls, name))
        settings["METRICS_CACHE_SECONDS"] = _env_int(
            "METRICS_CACHE_SECONDS", cls.METRICS_CACHE_SECONDS
        )
        settings["API_RATE_LIMIT"] = os.environ.get("API_RATE_LIMIT", cls.API_RATE_LIMIT)
        settings["API_RATE_LIMIT_STORAGE"] = os.environ.get(
            "API_RATE_LIMIT_STORAGE", cls.API_RATE_LIMIT_STORAGE
        )
        settings["API_MAX_BODY_BYTES"] = _env_int("API_MAX_BODY_BYTES", cls.API_MAX_BODY_BYTES)
        settings["LOOP_SEPARATION_OF_DUTIES"] = _env_bool(
            "LOOP_SEPARATION_OF_DUTIES", cls.LOOP_SEPARATION_OF_DUTIES
        )
        min_days = _env_int("LOOP_EFFECTIVENESS_MIN_DAYS", cls.LOOP_EFFECTIVENESS_MIN_DAYS)
        if min_days < 0:
            raise RuntimeError("LOOP_EFFECTIVENESS_MIN_DAYS cannot be negative")
        settings["LOOP_EFFECTIVENESS_MIN_DAYS"] = min_days
        currency = os.environ.get("LOOP_CURRENCY", cls.LOOP_CURRENCY).strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise RuntimeError("LOOP_CURRENCY must be a three-letter ISO 4217 code such as EUR")
        settings["LOOP_CURRENCY"] = currency
        for name in (
            "AUDIT_SIGNING_KEY_FILE",
            "AUDIT_PUBLIC_KEY_FILE",
            "AUDIT_CHECKPOINT_PUBLISH",
            "AUDIT_CHECKPOINT_EMAIL",
            "BACKUP_DIR",
        ):
            settings[name] = os.environ.get(name, getattr(cls, name))
        settings["AUDIT_CHECKPOINT_PUBLISH"] = settings["AUDIT_CHECKPOINT_PUBLISH"] or str(
            instance_dir() / "audit-checkpoints.jsonl"
        )
        settings["BACKUP_DIR"] = settings["BACKUP_DIR"] or str(instance_dir() / "backups")
        return settings

    @classmethod
    def default_database_url(cls) -> str:
        return f"sqlite:///{instance_dir() / 'loop.sqlite3'}"

    @classmethod
    def default_secret_key(cls) -> str:
        return _development_secret_key()


def _document_prefixes(raw: str) -> dict[str, str]:
    """ "procedure=SOP,policy=POL" → {"procedure": "SOP", "policy": "POL"}, checked."""
    types = {"policy", "procedure", "work_instruction", "form", "record_template"}
    prefixes: dict[str, str] = {}
    for part in filter(None, (item.strip() for item in raw.split(","))):
        kind, _, prefix = part.partition("=")
        kind, prefix = kind.strip(), prefix.strip().upper()
        if kind not in types:
            raise RuntimeError(f"LOOP_DOCUMENT_PREFIXES: unknown document type {kind!r}")
        if not prefix or len(prefix) > 10 or not all(ch.isalnum() or ch == "-" for ch in prefix):
            raise RuntimeError(
                f"LOOP_DOCUMENT_PREFIXES: the prefix for {kind} must be 1–10 letters, digits or -"
            )
        prefixes[kind] = prefix
    return prefixes


class DevelopmentConfig(Config):
    ENV_NAME = "development"


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    HSTS = True

    @classmethod
    def default_secret_key(cls) -> str:
        raise RuntimeError(
            "SECRET_KEY is not set: production refuses to start without one "
            "(generate one with: python -c 'import secrets; print(secrets.token_hex(32))')"
        )


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    LOOP_SCHEDULER = "off"
    METRICS_CACHE_SECONDS = 0

    @classmethod
    def default_secret_key(cls) -> str:
        return "testing-secret-key-not-for-production"


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def config_class() -> type[Config]:
    name = os.environ.get("LOOP_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"LOOP_ENV must be one of {', '.join(CONFIGS)}, got {name!r}") from None
