"""Quality review pack benchmark: how long the pack takes on demo data, gathering versus rendering.

    python -m tests.benchmarks.bench_review_pack                      # make run's demo (3,000)
    python -m tests.benchmarks.bench_review_pack --complaints 100000  # a bigger history

On a fresh SQLite database in a temporary folder, migrated with the real migrations and removed at
the end: `flask seed-demo --complaints N` (the data `make run` shows) and one recurring-failure
review, so the pack has recurrence signals. The pack is then generated the way the download and the
archive job do it (`gather_quality_review`, then `reports.generate_report`: render, PDF/A,
attachment, export event) in a fresh interpreter with the metrics cache off
(METRICS_CACHE_SECONDS=0), so every run computes its figures: the previous calendar month (the
archived pack) and the last twelve months, --repeat times each (median).
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
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.common import Figure, environment, format_table, peak_rss_mib, say

TITLE = "Quality review pack"
REPO_ROOT = Path(__file__).resolve().parents[2]


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=_env_int("BENCH_PACK_COMPLAINTS", 3_000))
    parser.add_argument("--repeat", type=int, default=_env_int("BENCH_PACK_REPEAT", 3))
    parser.add_argument("--tmp-dir", default=None)
    return parser.parse_args(argv)


def _measure_in_this_process() -> None:
    """Child-process entry point: generate each pack REPEAT times, print figures as JSON."""
    from datetime import timedelta

    from app import create_app
    from app.core.db import utcnow
    from app.extensions import db
    from reports import generate_report
    from reports.quality_review import ReviewPeriod, gather_quality_review, month_before

    repeat = int(os.environ["BENCH_PACK_TIMES"])
    app = create_app({"DATABASE_URL": os.environ["DATABASE_URL"], "METRICS_CACHE_SECONDS": 0})
    today = utcnow().date()
    periods = {
        "month": month_before(today),
        "year": ReviewPeriod(today - timedelta(days=364), today),
    }
    results: dict[str, list[dict[str, Any]]] = {}
    with app.app_context():
        db.session.connection()  # connect (and set the pragmas) before measuring
        baseline = peak_rss_mib()
        for name, period in periods.items():
            runs = results.setdefault(name, [])
            for _ in range(repeat):
                started = time.perf_counter()
                report = gather_quality_review(period)
                gathered = time.perf_counter()
                generated = generate_report(
                    db.session, report, generated_by="Benchmark", organisation="Loop QMS"
                )
                done = time.perf_counter()
                db.session.commit()  # the export event, as the request would
                runs.append(
                    {
                        "gather": gathered - started,
                        "render": done - gathered,
                        "total": done - started,
                        "pages": generated.pages,
                        "bytes": len(generated.pdf),
                        "complaints": report.data["kpis"][0]["value"],
                        "signals": len(report.data["recurrence_signals"]),
                    }
                )
                db.session.expunge_all()
    print(json.dumps({"runs": results, "baseline_mib": baseline, "peak_mib": peak_rss_mib()}))


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="loop-bench-pack-", dir=args.tmp_dir))
    try:
        return _run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(args: argparse.Namespace, tmp: Path) -> list[Figure]:
    database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    with environment({"LOOP_ENV": "testing", "LOOP_INSTANCE_DIR": str(tmp)}):
        from app import create_app
        from app.core.db import utcnow
        from app.extensions import db
        from app.scheduler.runner import run_job

        app = create_app({"DATABASE_URL": database_url})
        runner = app.test_cli_runner()
        migrated = runner.invoke(args=["db", "upgrade"])
        if migrated.exit_code != 0:
            raise SystemExit(f"db upgrade failed: {migrated.output}")
        say(f"  seeding the demo with {args.complaints:,} complaints…")
        seeded = runner.invoke(args=["seed-demo", "--complaints", str(args.complaints)])
        if seeded.exit_code != 0:
            raise SystemExit(f"seed-demo failed: {seeded.output}")
        with app.app_context():
            review = run_job("recurring-failure-review", utcnow())
            if review is None or review.error:
                raise SystemExit(f"the recurring-failure review failed: {review and review.error}")
            db.engine().dispose()

    say(f"  the pack of last month and of the last 12 months ×{args.repeat}, fresh process…")
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        LOOP_ENV="testing",
        LOOP_INSTANCE_DIR=str(tmp),
        LOOP_SCHEDULER="off",
        BENCH_PACK_TIMES=str(args.repeat),
    )
    code = "from tests.benchmarks.bench_review_pack import _measure_in_this_process as m; m()"
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    if completed.returncode != 0:
        raise SystemExit(f"measuring the pack failed:\n{completed.stderr[-3000:]}")
    measured = json.loads(completed.stdout.strip().splitlines()[-1])
    return _figures(args.complaints, measured)


def _figures(complaints: int, measured: dict[str, Any]) -> list[Figure]:
    figures = []
    labels = {"month": "previous month", "year": "last 12 months"}
    for key, label in labels.items():
        runs = measured["runs"][key]

        def median(part: str, runs: list[dict[str, Any]] = runs) -> float:
            return statistics.median(run[part] for run in runs)

        figures += [
            Figure(
                f"pack, {label}: total (median)",
                median("total"),
                "s",
                f"{runs[0]['complaints']:,} complaints in the period, "
                f"{runs[0]['signals']} recurrence signals",
            ),
            Figure(f"pack, {label}: gathering data", median("gather"), "s"),
            Figure(f"pack, {label}: rendering (PDF/A, export event)", median("render"), "s"),
            Figure(
                f"pack, {label}: share gathering", 100 * median("gather") / median("total"), "%"
            ),
            Figure(f"pack, {label}: pages", runs[0]["pages"], "pages"),
            Figure(f"pack, {label}: PDF size", runs[0]["bytes"] / 1024, "KiB"),
        ]
    figures.append(
        Figure(
            "peak memory of the process",
            measured["peak_mib"],
            "MiB",
            f"the app alone: {measured['baseline_mib']:,.0f} MiB; "
            f"demo of {complaints:,} complaints",
        )
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    figures = run(argv)
    say(f"\n{TITLE}\n{format_table(figures)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
