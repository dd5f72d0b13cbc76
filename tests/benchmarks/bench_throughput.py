"""Throughput under gunicorn: pages and the API against the raw SQL they run, and a register.

    python -m tests.benchmarks.bench_throughput                          # seeds 100,000 (a minute)
    python -m tests.benchmarks.bench_throughput --database /tmp/x.sqlite3  # measure a copy of one
    python -m tests.benchmarks.bench_throughput --seconds 5              # a quicker run

On SQLite, loopback only, every load bounded by time:

1. gunicorn with 2 × cores + 1 sync workers serves a copy of the database (`wsgi:app`, bound to
   127.0.0.1 on a free port). A signed-in quality lead's complaint list (two filters and a sort)
   and the API's complaint list (a bearer token) are requested at concurrency 8 and 32 for
   `--seconds` each: req/s, p50, p95, errors.
   Before that, each request's own CPU time in this process (the test client, no HTTP): the
   figure that moves least with the machine's other load.
2. The same SQL statements each request runs (captured from the app for that very request) are
   run from the same number of processes, each in one deferred transaction per "request", on
   their own connections: the raw-SQL rate. The ratio of the two is the aim (≥ 60 %).
3. Writers: complaints created through the API (`POST /api/v1/complaints`, a bearer token with
   the intake scope) at concurrency 8 and 32 for `--seconds` each: writes/s, p50, p95, p99,
   errors (aim ≥ 150 writes/s, 0 errors), and then `flask audit verify` on the file: the chain
   must still verify after every racing write.
4. A nonconformity register bigger than REPORT_SYNC_MAX_ROWS is asked for while clients read the
   complaint list at concurrency 4: the register is a background task, run by a separate
   `flask scheduler run` process. The list's p95 while it renders against its p95 without (aim:
   within 20 %).

The machine is shared: figures move with whatever else runs; compare the ratios, which are
measured in the same minute, more than the absolute rates.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.benchmarks.bench_complaints import seed
from tests.benchmarks.common import (
    REPO_ROOT,
    Figure,
    env_int,
    environment,
    flask_command,
    format_table,
    machine_summary,
    percentile,
    say,
    subprocess_env,
)

TITLE = "Throughput under gunicorn (SQLite)"
DEFAULT_COMPLAINTS = 100_000
CONCURRENCY = (8, 32)
RATIO_AIM = 0.60
WRITES_AIM = 150  # writes per second through the API, on SQLite
P95_AIM = 1.20
PASSWORD = "benchmark password 1234"
CPU_SAMPLE_REQUESTS = 100


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.bench_throughput", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--complaints",
        type=int,
        default=env_int("BENCH_THROUGHPUT_COMPLAINTS", DEFAULT_COMPLAINTS),
        help="complaints to seed (env BENCH_THROUGHPUT_COMPLAINTS; default %(default)s)",
    )
    parser.add_argument(
        "--database",
        default=os.environ.get("BENCH_THROUGHPUT_DB") or None,
        help="an already seeded SQLite file to measure (a copy of it) instead of seeding",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=float(env_int("BENCH_THROUGHPUT_SECONDS", 10)),
        help="duration of each load (env BENCH_THROUGHPUT_SECONDS; default %(default)s)",
    )
    parser.add_argument(
        "--scheduler-nice",
        type=int,
        default=env_int("BENCH_THROUGHPUT_SCHEDULER_NICE", 0),
        help="run the scheduler process that renders the register at this nice value (a lower "
        "CPU priority than the web workers'; env BENCH_THROUGHPUT_SCHEDULER_NICE; "
        "default %(default)s)",
    )
    parser.add_argument(
        "--writes-only",
        action="store_true",
        help="measure only the API's concurrent writes (no reads, no register)",
    )
    parser.add_argument("--tmp-dir", default=os.environ.get("BENCH_TMP_DIR") or None)
    return parser.parse_args(argv)


# --- preparing: a user, a token, the statements of one request ------------------------------------


def prepare(database_url: str, instance_dir: Path) -> dict[str, Any]:
    """Create the benchmark's user and token, pick the filters, and capture the SQL statements
    (with their parameters) of one list-page request and one API-list request."""
    with environment({"LOOP_ENV": "testing", "LOOP_INSTANCE_DIR": str(instance_dir)}):
        from sqlalchemy import event, func, select

        from app import create_app
        from app.api.tokens import create_token
        from app.complaints.models import Complaint
        from app.extensions import db
        from tests.factories import create_user

        app = create_app(
            {"DATABASE_URL": database_url, "LOOP_SCHEDULER": "off", "WTF_CSRF_ENABLED": False}
        )
        with app.app_context():
            process_id = db.session.scalar(
                select(Complaint.process_id)
                .where(Complaint.process_id.is_not(None))
                .group_by(Complaint.process_id)
                .order_by(func.count().desc())
                .limit(1)
            )
            from app.nonconformities.models import Nonconformity

            nonconformities = db.session.scalar(select(func.count()).select_from(Nonconformity))
            user = create_user(role="quality_lead", password=PASSWORD)
            _, secret = create_token(name="benchmark", scopes=["read", "intake"])
            db.session.commit()
            email = user.email
        list_path = "/complaints?" + urlencode(
            [
                ("status", "received"),
                ("status", "investigating"),
                ("process_id", process_id),
                ("sort", "-received_at"),
            ]
        )
        api_path = "/api/v1/complaints?status=received&status=investigating&channel=phone&limit=50"
        client = app.test_client()
        assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
        captured: list[tuple[str, Any]] = []

        def capture(connection, cursor, statement, parameters, context, executemany):
            captured.append((statement, parameters))

        engine = app.extensions["loop_db"].engine
        statements: dict[str, list[tuple[str, Any]]] = {}
        cpu_ms: dict[str, float] = {}
        for name, path, headers in (
            ("list", list_path, {}),
            ("api", api_path, {"Authorization": f"Bearer {secret}"}),
        ):
            client.get(path, headers=headers)  # warm up (token stamp, first-use queries)
            captured.clear()
            event.listen(engine, "before_cursor_execute", capture)
            response = client.get(path, headers=headers)
            event.remove(engine, "before_cursor_execute", capture)
            assert response.status_code == 200, (path, response.status_code)
            statements[name] = [
                (sql, list(params) if isinstance(params, tuple | list) else params)
                for sql, params in captured
                if not sql.startswith(("BEGIN", "COMMIT", "ROLLBACK"))
            ]
            # The request's own cost, free of HTTP and of the other processes on the machine:
            # this process's CPU time per request through the test client.
            started = time.process_time()
            for _ in range(CPU_SAMPLE_REQUESTS):
                client.get(path, headers=headers)
            cpu_ms[name] = (time.process_time() - started) * 1000 / CPU_SAMPLE_REQUESTS
        with app.app_context():
            db.session.remove()
            engine.dispose()
    return {
        "email": email,
        "token": secret,
        "nonconformities": nonconformities or 0,
        "list_path": list_path,
        "api_path": api_path,
        "statements": statements,
        "cpu_ms": cpu_ms,
    }


# --- the server and the clients -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gunicorn(database_url: str, instance_dir: Path, port: int, workers: int) -> Any:
    env = _server_env(database_url, instance_dir)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    command = [gunicorn, "-w", str(workers), "-b", f"127.0.0.1:{port}", "wsgi:app"]
    log = (instance_dir / "gunicorn.log").open("w")  # never a pipe nobody reads: it fills
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _, _ = request(port, "/login", {})
            if status == 200:
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(
        "gunicorn did not start: " + (instance_dir / "gunicorn.log").read_text()[-500:]
    )


def _server_env(database_url: str, instance_dir: Path) -> dict[str, str]:
    env = subprocess_env(database_url, instance_dir)
    env.update(
        LOOP_ENV="development",
        SECRET_KEY="benchmark-secret-key",
        API_RATE_LIMIT="1000000 per minute",
        LOOP_TASK_POLL_SECONDS="1",
        # The register of every nonconformity is a background task, whatever the seed's size.
        REPORT_SYNC_MAX_ROWS="10",
    )
    return env


def request(
    port: int, path: str, headers: dict[str, str], method: str = "GET", body: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def sign_in(port: int, email: str) -> str:
    """The session cookie of a signed-in user (the login form with its CSRF token)."""
    status, headers, body = request(port, "/login", {})
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body) or re.search(
        rb'value="([^"]+)"[^>]*name="csrf_token"', body
    )
    assert token, "no CSRF token on the login page"
    cookie = headers.get("Set-Cookie", "").split(";")[0]
    form = urlencode({"csrf_token": token.group(1).decode(), "email": email, "password": PASSWORD})
    status, headers, _ = request(
        port,
        "/login",
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        "POST",
        form,
    )
    assert status == 302, f"sign-in answered {status}"
    return headers["Set-Cookie"].split(";")[0]


def load(
    port: int,
    path: str,
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
    *,
    method: str = "GET",
    body: str | None = None,
    ok: int = 200,
) -> dict[str, Any]:
    """`concurrency` clients send `method path` one after another for `seconds`; an answer
    other than `ok` counts as an error."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                status, _, _ = request(port, path, headers, method, body)
            except OSError:
                status = 0
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if status == ok:
                    latencies.append(elapsed)
                else:
                    errors[0] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 150)
    wall = time.monotonic() - started
    return {
        "rate": len(latencies) / wall,
        "p50": percentile(latencies, 0.50) if latencies else float("nan"),
        "p95": percentile(latencies, 0.95) if latencies else float("nan"),
        "p99": percentile(latencies, 0.99) if latencies else float("nan"),
        "errors": errors[0],
    }


def _raw_worker(
    path: str, statements: list[tuple[str, Any]], seconds: float, ready: Any, go: Any, out: Any
) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA busy_timeout = 30000")
    ready.put(True)
    go.wait(timeout=300)
    deadline = time.monotonic() + seconds
    done = 0
    while time.monotonic() < deadline:
        connection.execute("BEGIN")
        for sql, params in statements:
            connection.execute(sql, params or ()).fetchall()
        connection.execute("COMMIT")
        done += 1
    connection.close()
    out.put(done)


def raw_sql_rate(
    path: str, statements: list[tuple[str, Any]], processes: int, seconds: float
) -> float:
    """Requests' worth of the same statements per second, from `processes` processes (each on
    its own connection, started together once every one is connected)."""
    context = multiprocessing.get_context("spawn")
    ready, out, go = context.Queue(), context.Queue(), context.Event()
    workers = [
        context.Process(target=_raw_worker, args=(path, statements, seconds, ready, go, out))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=300)
    go.set()
    total = sum(out.get(timeout=seconds + 300) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
    return total / seconds


# --- the run --------------------------------------------------------------------------------------


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="loop-bench-throughput-", dir=args.tmp_dir))
    try:
        return _run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(args: argparse.Namespace, tmp: Path) -> list[Figure]:
    figures: list[Figure] = []
    database = tmp / "bench.sqlite3"
    database_url = f"sqlite:///{database}"
    if args.database:
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{args.database}{suffix}").exists():
                shutil.copy(f"{args.database}{suffix}", f"{database}{suffix}")
        say(f"  measuring a copy of {args.database}")
    else:
        say(f"  seeding {args.complaints:,} complaints with seed-demo…")
        seed(database_url, tmp, args.complaints)
    prepared = prepare(database_url, tmp)
    for label, key in (("complaint list page", "list"), ("API complaint list", "api")):
        figures.append(
            Figure(
                f"{label}: CPU per request, in process",
                prepared["cpu_ms"][key],
                "ms",
                f"test client, mean of {CPU_SAMPLE_REQUESTS}",
            )
        )
    workers = 2 * (os.cpu_count() or 1) + 1
    port = free_port()
    say(f"  gunicorn -w {workers} on 127.0.0.1:{port}")
    server = start_gunicorn(database_url, tmp, port, workers)
    try:
        cookie = sign_in(port, prepared["email"])
        scenarios = {
            "complaint list page": (prepared["list_path"], {"Cookie": cookie}, "list"),
            "API complaint list": (
                prepared["api_path"],
                {"Authorization": f"Bearer {prepared['token']}"},
                "api",
            ),
        }
        for path, headers, _key in scenarios.values():  # every worker has served each page once
            load(port, path, headers, workers, 1.0)
        for label, (path, headers, key) in ({} if args.writes_only else scenarios).items():
            statements = prepared["statements"][key]
            for concurrency in CONCURRENCY:
                say(f"  {label}, c={concurrency}: HTTP for {args.seconds:g} s…")
                measured = load(port, path, headers, concurrency, args.seconds)
                say(f"  {label}, c={concurrency}: {len(statements)} statements as raw SQL…")
                raw = raw_sql_rate(str(database), statements, concurrency, args.seconds)
                ratio = measured["rate"] / raw if raw else float("nan")
                name = f"{label}, c={concurrency}"
                figures += [
                    Figure(f"{name}: HTTP", measured["rate"], "req/s"),
                    Figure(f"{name}: HTTP p50", measured["p50"], "ms"),
                    Figure(f"{name}: HTTP p95", measured["p95"], "ms"),
                    Figure(f"{name}: errors", measured["errors"], "requests", "aim 0"),
                    Figure(f"{name}: raw SQL ({len(statements)} statements)", raw, "req/s"),
                    Figure(
                        f"{name}: HTTP / raw SQL",
                        ratio * 100,
                        "%",
                        "aim ≥ 60 %: " + ("met" if ratio >= RATIO_AIM else "missed"),
                    ),
                ]
        figures += concurrent_writes(args, database_url, tmp, port, prepared)
        if not args.writes_only:
            figures += register_in_progress(args, database_url, tmp, port, cookie, prepared)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return figures


def concurrent_writes(
    args: argparse.Namespace, database_url: str, tmp: Path, port: int, prepared: dict[str, Any]
) -> list[Figure]:
    """Complaints created through the API by racing clients, then the audit chain verified."""
    headers = {
        "Authorization": f"Bearer {prepared['token']}",
        "Content-Type": "application/json",
    }
    body = json.dumps({"title": "Benchmark complaint", "channel": "phone", "severity": "medium"})
    figures: list[Figure] = []
    for concurrency in CONCURRENCY:
        say(f"  API complaint create, c={concurrency}: HTTP for {args.seconds:g} s…")
        measured = load(
            port,
            "/api/v1/complaints",
            headers,
            concurrency,
            args.seconds,
            method="POST",
            body=body,
            ok=201,
        )
        name = f"API complaint create, c={concurrency}"
        met = measured["rate"] >= WRITES_AIM and measured["errors"] == 0
        figures += [
            Figure(
                f"{name}: writes",
                measured["rate"],
                "writes/s",
                f"aim ≥ {WRITES_AIM} and 0 errors: " + ("met" if met else "missed"),
            ),
            Figure(f"{name}: HTTP p50", measured["p50"], "ms"),
            Figure(f"{name}: HTTP p95", measured["p95"], "ms"),
            Figure(f"{name}: HTTP p99", measured["p99"], "ms"),
            Figure(f"{name}: errors", measured["errors"], "requests", "aim 0"),
        ]
    say("  verifying the audit chain after the racing writes…")
    verified = subprocess.run(
        [*flask_command(), "--app", "wsgi", "audit", "verify"],
        cwd=REPO_ROOT,
        env=subprocess_env(database_url, tmp),
        capture_output=True,
        text=True,
        timeout=600,
    )
    figures.append(
        Figure(
            "audit chain after the writes",
            0 if verified.returncode == 0 else 1,
            "breaks",
            (verified.stdout or verified.stderr).strip().splitlines()[-1][:90]
            if (verified.stdout or verified.stderr).strip()
            else "",
        )
    )
    return figures


def register_in_progress(
    args: argparse.Namespace,
    database_url: str,
    tmp: Path,
    port: int,
    cookie: str,
    prepared: dict[str, Any],
) -> list[Figure]:
    """The list's p95 at c=4 without, then during, a register rendered in the background."""
    headers = {"Cookie": cookie}
    say(f"  complaint list at c=4 for {args.seconds:g} s, nothing else running…")
    quiet = load(port, prepared["list_path"], headers, 4, args.seconds)
    env = _server_env(database_url, tmp)
    nice = ["nice", "-n", str(args.scheduler_nice)] if args.scheduler_nice else []
    scheduler = subprocess.Popen(
        [
            *nice,
            *flask_command(),
            *("--app", "wsgi", "scheduler", "run", "--for", str(args.seconds * 6)),
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(3)  # the scheduler has started and is polling for tasks
        status, response_headers, _ = request(port, "/reports/nonconformity-register.pdf", headers)
        if status != 302 or "/tasks/" not in response_headers.get("Location", ""):
            raise SystemExit(f"the register did not become a background task ({status})")
        task_path = re.sub(r"^https?://[^/]+", "", response_headers["Location"])
        started = time.monotonic()
        say("  …and again while the register renders in the background")
        busy = load(port, prepared["list_path"], headers, 4, args.seconds)
        state: dict[str, Any] = {}
        while time.monotonic() - started < args.seconds * 6:
            _, _, body = request(port, f"{task_path}/status", headers)
            state = json.loads(body)
            if state["finished"]:
                break
            time.sleep(0.5)
        rendered = time.monotonic() - started
        overlap_note = "" if rendered >= args.seconds else " (render ended before the load did)"
    finally:
        scheduler.terminate()
        scheduler.wait(timeout=60)
    ratio = busy["p95"] / quiet["p95"]
    return [
        Figure("register task: rows", prepared["nonconformities"], "rows"),
        Figure(
            "register task: done after",
            rendered,
            "s",
            state.get("status", "?")
            + overlap_note
            + (f", scheduler at nice {args.scheduler_nice}" if args.scheduler_nice else ""),
        ),
        Figure("list c=4 p95, nothing else", quiet["p95"], "ms"),
        Figure("list c=4 p95, register rendering", busy["p95"], "ms", f"{busy['errors']} errors"),
        Figure(
            "list p95 during / without",
            ratio * 100,
            "%",
            "aim ≤ 120 %: " + ("met" if ratio <= P95_AIM else "missed"),
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    say(f"{TITLE}  ({machine_summary()})")
    say(format_table(run(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
