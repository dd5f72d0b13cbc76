"""Crash benchmark: gunicorn under concurrent writes, workers and the master killed with SIGKILL.

    python -m tests.benchmarks.bench_crash                  # SQLite, and PostgreSQL if reachable
    python -m tests.benchmarks.bench_crash --seconds 20     # a shorter run
    python -m tests.benchmarks.bench_crash --databases sqlite

For each database: a fresh database (a SQLite file in a temporary folder, or a new schema in the
PostgreSQL database of BENCH_CRASH_PG_URL / TEST_DATABASE_URL, default the local `test`), migrated
for real, with an API token and a quality lead. gunicorn serves it on 127.0.0.1 with several
workers; client threads create complaints through the JSON API and through the web form (signed
in, with CSRF) as fast as they can. At random moments (every 1-4 s) a worker is killed with
SIGKILL, and every fourth time the master and all its workers (the whole process group, as a host
crash would); gunicorn is started again at once. Bounded by time and by request count; loopback
only. Afterwards: the integrity check, every write a client saw acknowledged (201 from the API, the
redirect to the new complaint from the form) is looked up, and `flask audit verify` runs (against
the checkpoint taken before the run). A write whose connection died before its answer is "in
doubt": it may or may not be there, and is not counted as acknowledged.
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.benchmarks.common import (
    REPO_ROOT,
    Figure,
    env_int,
    flask_command,
    format_table,
    machine_summary,
    say,
)

TITLE = "Crash: SIGKILL under concurrent writes"
DEFAULT_SECONDS = 40
WORKERS = 3
API_CLIENTS = 2
WEB_CLIENTS = 2
MAX_REQUESTS_PER_CLIENT = 5_000
REQUEST_TIMEOUT = 15
PASSWORD = "crash-bench-password-1"
DEFAULT_PG_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"
CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.bench_crash", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--seconds",
        type=int,
        default=env_int("BENCH_CRASH_SECONDS", DEFAULT_SECONDS),
        help="how long writes and kills go on per database (env BENCH_CRASH_SECONDS; "
        "default %(default)s)",
    )
    parser.add_argument(
        "--databases",
        default=os.environ.get("BENCH_CRASH_DATABASES", "sqlite,postgresql"),
        help="comma-separated: sqlite, postgresql (env BENCH_CRASH_DATABASES)",
    )
    parser.add_argument("--seed", type=int, default=env_int("BENCH_CRASH_SEED", 0) or None)
    return parser.parse_args(argv)


# --- the server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn in its own process group, started again after each crash."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(gunicorn),
                    "--workers",
                    str(WORKERS),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--timeout",
                    "30",
                    "--graceful-timeout",
                    "2",
                    "wsgi:app",
                ],
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url("/login"), timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        raise SystemExit(f"gunicorn did not come up; see {self.log}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def workers(self) -> list[int]:
        assert self.process is not None
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [int(child) for child in children]

    def kill_worker(self, rng: random.Random) -> bool:
        workers = self.workers()
        if not workers:
            return False
        try:
            os.kill(rng.choice(workers), signal.SIGKILL)
        except ProcessLookupError:
            return False
        return True

    def crash(self) -> None:
        """SIGKILL the master and every worker at once, then start again."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.start()

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


# --- the clients ---------------------------------------------------------------------------


@dataclass
class Tally:
    acknowledged_api: set[str] = field(default_factory=set)  # external ids
    acknowledged_web: set[str] = field(default_factory=set)  # references
    attempted: int = 0
    in_doubt: int = 0
    server_errors: int = 0
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _never_sent(error: BaseException) -> bool:
    """A refused connection (the server is restarting): the request never left."""
    reason = getattr(error, "reason", error)
    return isinstance(reason, ConnectionRefusedError)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def api_client(server: Server, token: str, tag: str, stop: threading.Event, tally: Tally) -> None:
    for number in range(MAX_REQUESTS_PER_CLIENT):
        if stop.is_set():
            return
        external_id = f"{tag}-{number}"
        body = json.dumps(
            {
                "title": f"Crash bench {external_id}",
                "channel": "web_form",
                "severity": "medium",
                "description": "Written while workers are being killed.",
                "source_system": "crash-bench",
                "external_id": external_id,
            }
        ).encode()
        request = urllib.request.Request(
            server.url("/api/v1/complaints"),
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as answer:
                status = answer.status
                answer.read()
        except urllib.error.HTTPError as error:
            status = error.code
        except (OSError, urllib.error.URLError) as error:
            with tally.lock:
                if not _never_sent(error):
                    tally.attempted += 1
                    tally.in_doubt += 1
            time.sleep(0.05)
            continue
        with tally.lock:
            tally.attempted += 1
        with tally.lock:
            if status == 201:
                tally.acknowledged_api.add(external_id)
            elif status >= 500:
                tally.server_errors += 1
            else:
                tally.refused += 1


def web_client(server: Server, email: str, tag: str, stop: threading.Event, tally: Tally) -> None:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    csrf: str | None = None

    def fetch_token(path: str) -> str | None:
        try:
            with opener.open(server.url(path), timeout=REQUEST_TIMEOUT) as answer:
                found = CSRF_PATTERN.search(answer.read().decode())
        except (OSError, urllib.error.URLError):
            return None
        return found.group(1) if found else None

    def post(path: str, fields: dict[str, str]) -> tuple[int, str] | None:
        """(status, Location); (0, "") when the connection was refused (nothing sent); None when
        it broke after sending (the outcome is in doubt)."""
        data = urllib.parse.urlencode(fields).encode()
        try:
            with opener.open(server.url(path), data=data, timeout=REQUEST_TIMEOUT) as answer:
                return answer.status, answer.headers.get("Location", "")
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", "")
        except (OSError, urllib.error.URLError) as error:
            return (0, "") if _never_sent(error) else None

    signed_in = False
    for number in range(MAX_REQUESTS_PER_CLIENT):
        if stop.is_set():
            return
        if not signed_in:
            login_token = fetch_token("/login")
            answer = (
                post("/login", {"csrf_token": login_token, "email": email, "password": PASSWORD})
                if login_token
                else None
            )
            signed_in = answer is not None and answer[0] == 302
            csrf = fetch_token("/complaints/new") if signed_in else None
            if not signed_in or csrf is None:
                signed_in = False
                time.sleep(0.1)
                continue
        title = f"Crash bench web {tag}-{number}"
        answer = post(
            "/complaints/new",
            {
                "csrf_token": csrf or "",
                "title": title,
                "channel": "web_form",
                "severity": "medium",
                "description": "Typed into the form while workers are being killed.",
            },
        )
        if answer == (0, ""):
            time.sleep(0.05)
            continue
        with tally.lock:
            tally.attempted += 1
            if answer is None:
                tally.in_doubt += 1
            elif answer[0] == 302 and "/complaints/CMP-" in answer[1]:
                tally.acknowledged_web.add(answer[1].rsplit("/", 1)[-1])
            elif answer[0] == 302:  # sent to the sign-in page: sign in again
                tally.refused += 1
                signed_in = False
            elif answer[0] >= 500:
                tally.server_errors += 1
            else:
                tally.refused += 1


# --- one run ---------------------------------------------------------------------------------


@dataclass
class RunResult:
    database: str
    worker_kills: int = 0
    crashes: int = 0
    tally: Tally = field(default_factory=Tally)
    lost_api: int = 0
    lost_web: int = 0
    missing_events: int = 0
    integrity: str = ""
    audit_ok: bool = False
    audit_output: str = ""
    seconds: float = 0.0


def _prepare(url: str, env: dict[str, str]) -> tuple[str, str]:
    """Migrate, create the quality lead and the token, take a checkpoint; (token, e-mail)."""

    def flask(*args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [*flask_command(), "--app", "wsgi", *args],
            cwd=REPO_ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise SystemExit(f"flask {' '.join(args)} failed: {result.stdout}{result.stderr}")
        return result.stdout

    flask("db", "upgrade")
    email = "lead@crash.example"
    flask(
        "users",
        "create",
        "--email",
        email,
        "--name",
        "Crash Lead",
        "--role",
        "quality_lead",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    output = flask("tokens", "create", "--name", "crash-bench", "--scopes", "read,intake")
    token = output.strip().splitlines()[0]
    flask("audit", "checkpoint")
    return token, email


def _check(url: str, env: dict[str, str], result: RunResult) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        if url.startswith("sqlite"):
            rows = [row[0] for row in connection.exec_driver_sql("PRAGMA integrity_check")]
            fk = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            result.integrity = "ok" if rows == ["ok"] and not fk else f"{rows[:2]} {len(fk)} fk"
        else:
            invalid = connection.execute(
                text("SELECT count(*) FROM pg_constraint WHERE NOT convalidated")
            ).scalar()
            result.integrity = "ok" if not invalid else f"{invalid} constraints not valid"
        external = set(
            connection.execute(
                text("SELECT external_id FROM complaint WHERE source_system = 'crash-bench'")
            ).scalars()
        )
        references = dict(connection.execute(text("SELECT reference, id FROM complaint")).all())
        created = set(
            connection.execute(
                text(
                    "SELECT record_id FROM audit_event "
                    "WHERE record_type = 'complaint' AND action = 'create'"
                )
            ).scalars()
        )
        ids = dict(
            connection.execute(
                text("SELECT external_id, id FROM complaint WHERE source_system = 'crash-bench'")
            ).all()
        )
    engine.dispose()
    tally = result.tally
    result.lost_api = len(tally.acknowledged_api - external)
    result.lost_web = len(tally.acknowledged_web - set(references))
    acknowledged_ids = {str(ids[e]) for e in tally.acknowledged_api if e in ids} | {
        str(references[r]) for r in tally.acknowledged_web if r in references
    }
    result.missing_events = len(acknowledged_ids - created)
    verify = subprocess.run(
        [*flask_command(), "--app", "wsgi", "audit", "verify"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    result.audit_ok = verify.returncode == 0
    result.audit_output = verify.stdout.strip() + verify.stderr.strip()


def run_one(database: str, url: str, tmp: Path, seconds: int, rng: random.Random) -> RunResult:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        LOOP_ENV="production",
        SECRET_KEY="crash-bench-only-secret",
        LOOP_INSTANCE_DIR=str(tmp),
        LOOP_SCHEDULER="off",
        API_RATE_LIMIT="1000000 per minute",
        SESSION_COOKIE_SECURE="false",  # plain HTTP on the loopback: no TLS in front here
        AUDIT_SIGNING_KEY_FILE=str(tmp / "signing.pem"),
        AUDIT_CHECKPOINT_PUBLISH=str(tmp / "checkpoints.jsonl"),
    )
    env.pop("TEST_DATABASE_URL", None)
    subprocess.run(
        [*flask_command(), "--app", "wsgi", "audit", "generate-key", str(tmp / "signing.pem")],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        check=True,
    )
    token, email = _prepare(url, env)
    server = Server(env, free_port(), tmp / f"gunicorn-{database}.log")
    result = RunResult(database)
    stop = threading.Event()
    server.start()
    tag = uuid.uuid4().hex[:6]
    threads = [
        threading.Thread(target=api_client, args=(server, token, f"{tag}a{n}", stop, result.tally))
        for n in range(API_CLIENTS)
    ] + [
        threading.Thread(target=web_client, args=(server, email, f"{tag}w{n}", stop, result.tally))
        for n in range(WEB_CLIENTS)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        kills = 0
        while time.monotonic() - started < seconds:
            time.sleep(rng.uniform(1.0, 4.0))
            kills += 1
            if kills % 4 == 0:
                server.crash()
                result.crashes += 1
            elif server.kill_worker(rng):
                result.worker_kills += 1
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT + 10)
        server.stop()
    result.seconds = time.monotonic() - started
    _check(url, env, result)
    return result


def _pg_schema_url(base: str) -> tuple[str, str] | None:
    from sqlalchemy import create_engine, text

    schema = f"loop_crash_{uuid.uuid4().hex[:8]}"
    try:
        engine = create_engine(base)
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
    except Exception as error:  # no server here: the PostgreSQL run is skipped, and says so
        say(f"PostgreSQL at {base} not reachable ({type(error).__name__}); skipped.")
        return None
    separator = "&" if "?" in base else "?"
    options = urllib.parse.quote(f"-csearch_path={schema}")
    return f"{base}{separator}options={options}", schema


def _drop_schema(base: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def figures_of(result: RunResult) -> list[Figure]:
    tally = result.tally
    name = result.database
    acknowledged = len(tally.acknowledged_api) + len(tally.acknowledged_web)
    lost = result.lost_api + result.lost_web
    return [
        Figure(f"{name}: run time", result.seconds, "s"),
        Figure(f"{name}: workers killed (SIGKILL)", result.worker_kills, "kills"),
        Figure(f"{name}: master + workers killed (SIGKILL)", result.crashes, "crashes"),
        Figure(f"{name}: writes attempted", tally.attempted, "writes"),
        Figure(
            f"{name}: writes acknowledged",
            acknowledged,
            "writes",
            f"API {len(tally.acknowledged_api)}, web form {len(tally.acknowledged_web)}",
        ),
        Figure(f"{name}: in doubt (connection cut)", tally.in_doubt, "writes"),
        Figure(
            f"{name}: acknowledged writes lost",
            lost,
            "writes",
            "aim 0: " + ("met" if lost == 0 else "MISSED"),
        ),
        Figure(
            f"{name}: acknowledged without audit event", result.missing_events, "writes", "aim 0"
        ),
        Figure(f"{name}: 5xx answers", tally.server_errors, "answers"),
        Figure(
            f"{name}: integrity check",
            1.0 if result.integrity == "ok" else 0.0,
            "pass",
            result.integrity,
        ),
        Figure(
            f"{name}: audit verify",
            1.0 if result.audit_ok else 0.0,
            "pass",
            result.audit_output.splitlines()[0] if result.audit_output else "",
        ),
    ]


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    chosen = [name.strip() for name in args.databases.split(",") if name.strip()]
    say(f"{machine_summary()}; {args.seconds} s per database, {WORKERS} gunicorn workers")
    figures: list[Figure] = []
    for database in chosen:
        tmp = Path(tempfile.mkdtemp(prefix=f"loop-bench-crash-{database}-"))
        schema = None
        base = os.environ.get("BENCH_CRASH_PG_URL") or os.environ.get(
            "TEST_DATABASE_URL", DEFAULT_PG_URL
        )
        try:
            if database == "sqlite":
                url = f"sqlite:///{tmp / 'crash.sqlite3'}"
            elif database == "postgresql":
                made = _pg_schema_url(base)
                if made is None:
                    continue
                url, schema = made
            else:
                raise SystemExit(f"unknown database {database!r}")
            result = run_one(database, url, tmp, args.seconds, rng)
            figures.extend(figures_of(result))
            say(format_table(figures_of(result)))
            if not result.audit_ok:
                say(result.audit_output)
        finally:
            if schema is not None:
                _drop_schema(base, schema)
            shutil.rmtree(tmp, ignore_errors=True)
    return figures


if __name__ == "__main__":
    say(format_table(run(sys.argv[1:])))
