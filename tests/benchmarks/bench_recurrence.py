"""Recurring-failure review benchmark: the review over a million demo complaints on SQLite.

    python -m tests.benchmarks.bench_recurrence                          # 1,000,000 (the target)
    python -m tests.benchmarks.bench_recurrence --complaints 100000      # a quick run
    python -m tests.benchmarks.bench_recurrence --database /tmp/x.sqlite3  # reuse a seeded file

Without --database, a temporary SQLite file is migrated and seeded with the real
`flask --app wsgi seed-demo --complaints N` (about 80 s for a million here), and removed at the end.
A given --database (seeded the same way) is migrated to head and reused as it is.

Each repeat runs the whole review (`review_recurring_failures`: the counting in SQL, the rules,
opening the nonconformities, linking records, notifying) in a fresh process, as of the same time,
then rolls it back, so every repeat does the same work: wall time of the review itself, and the
process's peak memory against a process that only loaded the app (the review's own footprint).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.benchmarks.common import (
    Figure,
    env_int,
    format_table,
    machine_summary,
    run_measured,
    say,
)

TITLE = "Recurring-failure review"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_COMPLAINTS = 1_000_000
TARGET_SECONDS = 10.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.bench_recurrence", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--complaints",
        type=int,
        default=env_int("BENCH_RECURRENCE_COMPLAINTS", DEFAULT_COMPLAINTS),
        help="demo complaints to seed (env BENCH_RECURRENCE_COMPLAINTS; default %(default)s)",
    )
    parser.add_argument(
        "--database",
        default=os.environ.get("BENCH_RECURRENCE_DATABASE") or None,
        help="an already seeded SQLite file to reuse (env BENCH_RECURRENCE_DATABASE)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=env_int("BENCH_RECURRENCE_REPEAT", 3),
        help="reviews to time; the median counts (env BENCH_RECURRENCE_REPEAT; default 3)",
    )
    parser.add_argument(
        "--tmp-dir",
        default=os.environ.get("BENCH_TMP_DIR") or None,
        help="folder for the temporary database (env BENCH_TMP_DIR; default: the system's)",
    )
    parser.add_argument("--child", choices=["review", "idle"], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _flask(database_url: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "LOOP_INSTANCE_DIR": str(tmp)}
    env["LOOP_ENV"] = "testing"
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _child(mode: str) -> None:
    """In a fresh process: load the app and (for "review") run the review once, rolled back."""
    import time

    from app import create_app
    from app.extensions import db
    from app.scheduler.signals import review_recurring_failures

    app = create_app()
    with app.app_context():
        result: dict[str, object] = {}
        if mode == "review":
            from sqlalchemy import func, select

            from app.complaints.models import Complaint

            result["complaints"] = db.session.scalar(select(func.count()).select_from(Complaint))
            db.session.rollback()
            started = time.perf_counter()
            result["counts"] = review_recurring_failures({})
            result["seconds"] = time.perf_counter() - started
            db.session.rollback()  # every repeat reviews the same data
        print(json.dumps(result))


def _measure(database_url: str, tmp: Path, mode: str) -> tuple[dict, float | None]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LOOP_INSTANCE_DIR": str(tmp),
        "LOOP_ENV": "testing",
    }
    measured = run_measured(
        [sys.executable, "-m", "tests.benchmarks.bench_recurrence", "--child", mode],
        cwd=REPO_ROOT,
        env=env,
    )
    if measured.returncode != 0:
        raise SystemExit(f"the {mode} process failed:\n{measured.stderr[-3000:]}")
    return json.loads(measured.stdout.strip().splitlines()[-1]), measured.peak_mib


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse_args(argv)
    if args.child:
        _child(args.child)
        return []
    tmp = Path(tempfile.mkdtemp(prefix="loop-bench-recurrence-", dir=args.tmp_dir))
    try:
        return _run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(args: argparse.Namespace, tmp: Path) -> list[Figure]:
    path = Path(args.database) if args.database else tmp / "bench.sqlite3"
    database_url = f"sqlite:///{path}"
    say(f"  {machine_summary()}; database {path}")
    migrated = _flask(database_url, tmp, "db", "upgrade")
    if migrated.returncode != 0:
        raise SystemExit(f"db upgrade failed: {migrated.stderr}")
    if not args.database:
        say(f"  seeding {args.complaints:,} demo complaints (seed-demo)…")
        seeded = _flask(database_url, tmp, "seed-demo", "--complaints", str(args.complaints))
        if seeded.returncode != 0:
            raise SystemExit(f"seed-demo failed: {seeded.stderr[-2000:]}")
        say(f"    {seeded.stdout.splitlines()[0]}")
    _, idle_peak = _measure(database_url, tmp, "idle")
    reviews = []
    for attempt in range(1, max(1, args.repeat) + 1):
        result, peak = _measure(database_url, tmp, "review")
        reviews.append((result, peak))
        counts = result["counts"]
        say(
            f"  review {attempt}: {result['seconds']:,.2f} s over {result['complaints']:,} "
            f"complaints, {counts['fingerprints_signalled']} signals, peak {peak or 0:,.0f} MiB"
        )
    seconds = statistics.median(result["seconds"] for result, _ in reviews)
    peaks = [peak for _, peak in reviews if peak is not None]
    peak = statistics.median(peaks) if peaks else float("nan")
    complaints = int(reviews[0][0]["complaints"])
    counts = reviews[0][0]["counts"]
    return [
        Figure("complaints reviewed", complaints, "rows"),
        Figure("review (median)", seconds, "s", f"target < {TARGET_SECONDS:g} s at 1,000,000"),
        Figure("signals raised", counts["fingerprints_signalled"], "fingerprints"),
        Figure(
            "peak memory, review process",
            peak,
            "MiB",
            f"a process that only loads the app: {idle_peak or float('nan'):,.0f} MiB",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    figures = run(argv)
    if figures:
        say("\n" + format_table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
