"""Dashboard at scale: server time of the dashboard page against the raw SQL of its aggregates.

What it does, on SQLite:

1. Seed (or reuse) a database of N complaints with the real `flask --app wsgi seed-demo
   --complaints N` (365 days of complaints with recovery, nonconformities, CAPAs), migrated to head.
2. Sign in as a quality lead and time `GET /` (the dashboard, with the demo objectives' five
   metric goals, each measured over its own baseline and current window) in the app through the
   test client, for several filter sets: cold (the figure cache emptied before each request, so
   every figure is computed, once per window) and warm (figures cached by the previous request).
   The median of --repeat runs counts.
3. Capture the SQL statements (with their parameters) one cold dashboard request sends, and replay
   exactly those on a plain sqlite3 connection: the database's share of the time. The ratio of the
   two is the app's overhead (Python, SQLAlchemy, the charts and the template).

Reusing a seeded file (`--database /tmp/x.sqlite3`) skips the ~90 s of seeding; the benchmark then
works on a copy, so the file stays as it was.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.common import Figure, environment, machine_summary, say

TITLE = "Dashboard"
DEFAULT_COMPLAINTS = 1_000_000
TARGET_MS = 300
PASSWORD = "bench-dashboard-password"


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.bench_dashboard", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--complaints",
        type=int,
        default=_env_int("BENCH_DASHBOARD_COMPLAINTS", DEFAULT_COMPLAINTS),
        help="complaints to seed (env BENCH_DASHBOARD_COMPLAINTS; default %(default)s)",
    )
    parser.add_argument(
        "--database",
        default=os.environ.get("BENCH_DASHBOARD_DATABASE") or None,
        help="an already seeded SQLite file to reuse (a copy is used; env "
        "BENCH_DASHBOARD_DATABASE)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=_env_int("BENCH_DASHBOARD_REPEAT", 5),
        help="timed requests per variant; the median counts (default %(default)s)",
    )
    parser.add_argument(
        "--tmp-dir",
        default=os.environ.get("BENCH_TMP_DIR") or None,
        help="folder for the temporary database (env BENCH_TMP_DIR; default: the system's)",
    )
    return parser.parse_args(argv)


def _flask(database: Path, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "LOOP_ENV": "development"}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)


def _prepare(args: argparse.Namespace, tmp: Path) -> Path:
    database = tmp / "dashboard.sqlite3"
    if args.database:
        say(f"  copying {args.database}…")
        shutil.copyfile(args.database, database)
        _flask(database, "db", "upgrade")
    else:
        say(f"  seeding {args.complaints:,} complaints (about 90 s per million)…")
        started = time.perf_counter()
        _flask(database, "db", "upgrade")
        _flask(database, "seed-demo", "--complaints", str(args.complaints))
        say(f"  seeded in {time.perf_counter() - started:,.0f} s")
    return database


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="loop-bench-dashboard-", dir=args.tmp_dir))
    try:
        return _run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(args: argparse.Namespace, tmp: Path) -> list[Figure]:
    database = _prepare(args, tmp)
    with environment({"LOOP_ENV": "testing", "LOOP_INSTANCE_DIR": str(tmp)}):
        from sqlalchemy import event, func, select

        from app import create_app
        from app.accounts.services import create_user
        from app.complaints.models import Complaint
        from app.core import charts
        from app.core.audit import acting_as
        from app.demo.objectives import seed_demo_objectives
        from app.extensions import db
        from app.organisation.models import Process

        app = create_app({"DATABASE_URL": f"sqlite:///{database}", "WTF_CSRF_ENABLED": False})
        with app.app_context():
            complaints = db.session.scalar(select(func.count(Complaint.id)))
            busiest = db.session.execute(
                select(Complaint.process_id, func.count())
                .group_by(Complaint.process_id)
                .order_by(func.count().desc())
                .limit(1)
            ).first()
            process_name = db.session.get(Process, busiest[0]).name if busiest else "?"
            create_user("bench-lead@loop.example", "Bench Lead", "quality_lead", PASSWORD)
            with acting_as("system:bench"):
                goals = seed_demo_objectives()  # a file seeded before goals existed has none
            db.session.commit()
        say(f"  {machine_summary()}; {complaints:,} complaints in {database}")
        if goals:
            say(f"  added the {goals} demo metric goals")
        client = app.test_client()
        signed_in = client.post(
            "/login", data={"email": "bench-lead@loop.example", "password": PASSWORD}
        )
        assert signed_in.status_code == 302, signed_in.status_code

        variants = {
            "last 90 days, no filter": "/?period=90",
            f"last 90 days, process {process_name}, phone": (
                f"/?period=90&process_id={busiest[0] if busiest else ''}&channel=phone"
            ),
            "last 365 days, no filter": "/?period=365",
        }
        engine = app.extensions["loop_db"].engine
        figures: list[Figure] = []
        for label, path in variants.items():
            # Cold: the figure cache is on but empty, as for the first visitor after the cache
            # time; figures for the same window (a goal's and the dashboard's) are shared.
            app.config["METRICS_CACHE_SECONDS"] = 300
            statements: list[tuple[str, object]] = []

            def capture(conn, cursor, statement, parameters, context, executemany) -> None:
                statements.append((statement, parameters))  # noqa: B023 (one variant at a time)

            def timed_get(clear: bool) -> float:
                if clear:
                    app.extensions.pop("metrics_cache", None)
                    charts.clear_cache()  # a new worker has drawn nothing yet either
                started = time.perf_counter()
                response = client.get(path)  # noqa: B023
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, response.status_code
                return elapsed

            event.listen(engine, "before_cursor_execute", capture)
            first = timed_get(clear=True)
            event.remove(engine, "before_cursor_execute", capture)
            cold = [first] + [timed_get(clear=True) for _ in range(args.repeat - 1)]
            raw = _replay(database, statements, args.repeat)
            warm = [timed_get(clear=False) for _ in range(args.repeat)]
            cold_ms, raw_ms, warm_ms = _median_ms(cold), _median_ms(raw), _median_ms(warm)
            say(
                f"  {label}: cold {cold_ms:,.0f} ms, raw SQL {raw_ms:,.0f} ms "
                f"({len(statements)} statements), warm {warm_ms:,.1f} ms"
            )
            figures += [
                Figure(
                    f"{label}: dashboard, cold (figure and chart caches empty)",
                    cold_ms,
                    "ms",
                    f"target < {TARGET_MS} ms",
                ),
                Figure(f"{label}: raw SQL of the same {len(statements)} statements", raw_ms, "ms"),
                Figure(f"{label}: app / database", cold_ms / raw_ms, "×"),
                Figure(f"{label}: dashboard, warm (figures cached)", warm_ms, "ms"),
            ]
        return [Figure("complaints", complaints, "rows"), *figures]


def _replay(database: Path, statements: list[tuple[str, object]], repeat: int) -> list[float]:
    """Run the captured statements on a plain sqlite3 connection, fetching every row."""
    connection = sqlite3.connect(database)
    try:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            for statement, parameters in statements:
                if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                    continue  # transaction control, the session's own bookkeeping
                connection.execute(statement, parameters or ()).fetchall()
            times.append(time.perf_counter() - started)
        return times
    finally:
        connection.close()


if __name__ == "__main__":
    from tests.benchmarks.common import format_table

    say(format_table(run(sys.argv[1:])))
