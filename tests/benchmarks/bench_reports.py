"""PDF reports benchmark: how long a CAPA report and a 2,000-row nonconformity register take, how
much memory the register needs, and what share of the time goes to gathering data vs rendering.

    python -m tests.benchmarks.bench_reports                 # 2,000 register rows (the target run)
    python -m tests.benchmarks.bench_reports --rows 500      # a quick run

On a fresh SQLite database in a temporary folder, migrated with the real migrations and removed at
the end: one complete quality loop (complaint, nonconformity with an 8D analysis, CAPA with
training, a passed check and two signatures; tests/reports/story.py) and N more nonconformities
with process, category and owner. Each report is then generated the way the download does it
(`gather_…` then `reports.generate_report`: render, PDF/A, attachment, export event) in a fresh
interpreter, so its peak memory (VmHWM) is the report's own: the CAPA report --repeat times
(median), the register --register-repeat times (median, highest peak).
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
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.benchmarks.common import (
    Figure,
    env_int,
    environment,
    format_table,
    peak_rss_mib,
    say,
)

TITLE = "PDF reports"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ROWS = 2_000
CAPA_TARGET_SECONDS = 1.5
REGISTER_TARGET_SECONDS = 10.0
REGISTER_TARGET_MIB = 500.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=env_int("BENCH_REPORT_ROWS", DEFAULT_ROWS))
    parser.add_argument("--repeat", type=int, default=env_int("BENCH_REPORT_REPEAT", 5))
    parser.add_argument("--register-repeat", type=int, default=env_int("BENCH_REGISTER_REPEAT", 2))
    parser.add_argument("--tmp-dir", default=None)
    return parser.parse_args(argv)


def _seed(rows: int) -> dict[str, Any]:
    """The quality loop of the report tests and `rows` nonconformities in all (one commit)."""
    from app.accounts.models import User
    from app.core.db import utcnow
    from app.core.references import next_reference
    from app.extensions import db
    from app.nonconformities.models import Nonconformity, NonconformitySource
    from app.organisation.models import Category, Process
    from tests.reports.story import build_story

    story = build_story()
    processes = [Process(name=f"Bench process {n}") for n in range(6)]
    categories = [Category(name=f"Bench category {n}") for n in range(8)]
    db.session.add_all([*processes, *categories])
    db.session.flush()
    owner = db.session.query(User).filter_by(full_name=story.lead_name).one()
    now = utcnow()
    sources = list(NonconformitySource)
    for n in range(rows - 1):  # the story has one already
        db.session.add(
            Nonconformity(
                reference=next_reference(db.session, "NC", now.year),
                title=f"Customer was charged twice for a cancelled order, case {n:05d}",
                source=sources[n % len(sources)],
                detected_at=now - timedelta(hours=n),
                process_id=processes[n % len(processes)].id,
                category_id=categories[n % len(categories)].id,
                owner_id=owner.id,
                severity=1 + n % 10,
                occurrence=1 + (n // 10) % 10,
                detection=1 + (n // 100) % 10,
            )
        )
        if n % 500 == 499:
            db.session.flush()
    db.session.commit()
    return {"capa": story.capa}


def _measure_in_this_process() -> None:
    """Child-process entry point: generate one report kind REPEAT times, print figures as JSON."""
    from app import create_app
    from app.capa import services as capa_services
    from app.extensions import db
    from app.nonconformities.services import NonconformityFilters
    from reports import generate_report
    from reports.capa import gather_capa_report
    from reports.nonconformity_register import gather_nonconformity_register

    kind, repeat = os.environ["BENCH_REPORT_KIND"], int(os.environ["BENCH_REPORT_TIMES"])
    app = create_app({"DATABASE_URL": os.environ["DATABASE_URL"]})
    runs = []
    with app.app_context():
        db.session.connection()  # connect (and set the pragmas) before measuring
        baseline = peak_rss_mib()
        for _ in range(repeat):
            started, cpu_started = time.perf_counter(), time.process_time()
            if kind == "capa":
                capa = capa_services.capa_by_reference(os.environ["BENCH_CAPA"])
                report = gather_capa_report(capa)
            else:
                report = gather_nonconformity_register(NonconformityFilters(), [])
            gathered = time.perf_counter()
            generated = generate_report(
                db.session, report, generated_by="Benchmark", organisation="Loop QMS"
            )
            done, cpu_done = time.perf_counter(), time.process_time()
            db.session.commit()  # the export event, as the request would
            runs.append(
                {
                    "gather": gathered - started,
                    "render": done - gathered,
                    "total": done - started,
                    "cpu": cpu_done - cpu_started,
                    "pages": generated.pages,
                    "bytes": len(generated.pdf),
                    "rows": len(report.data.get("rows", [])),
                }
            )
            db.session.expunge_all()
    print(json.dumps({"runs": runs, "baseline_mib": baseline, "peak_mib": peak_rss_mib()}))


def _measure(kind: str, times: int, database_url: str, tmp: Path, capa: str) -> dict[str, Any]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        LOOP_ENV="testing",
        LOOP_INSTANCE_DIR=str(tmp),
        LOOP_SCHEDULER="off",
        BENCH_REPORT_KIND=kind,
        BENCH_REPORT_TIMES=str(times),
        BENCH_CAPA=capa,
    )
    code = "from tests.benchmarks.bench_reports import _measure_in_this_process as m; m()"
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise SystemExit(f"measuring the {kind} report failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="loop-bench-reports-", dir=args.tmp_dir))
    try:
        return _run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(args: argparse.Namespace, tmp: Path) -> list[Figure]:
    database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    with environment({"LOOP_ENV": "testing", "LOOP_INSTANCE_DIR": str(tmp)}):
        from app import create_app
        from app.extensions import db

        app = create_app({"DATABASE_URL": database_url})
        migrated = app.test_cli_runner().invoke(args=["db", "upgrade"])
        if migrated.exit_code != 0:
            raise SystemExit(f"db upgrade failed: {migrated.output}")
        say(f"  seeding one quality loop and {args.rows:,} nonconformities…")
        with app.app_context():
            seeded = _seed(args.rows)
            db.engine().dispose()

    say(f"  CAPA report ×{args.repeat} in a fresh process…")
    capa = _measure("capa", args.repeat, database_url, tmp, seeded["capa"])
    say(f"  register ×{args.register_repeat} in a fresh process…")
    register = _measure("register", args.register_repeat, database_url, tmp, seeded["capa"])
    return _figures(args.rows, capa, register)


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def _figures(rows: int, capa: dict[str, Any], register: dict[str, Any]) -> list[Figure]:
    capa_total = _median(capa["runs"], "total")
    register_total = _median(register["runs"], "total")
    register_runs = register["runs"]
    if register_runs[0]["rows"] != rows:
        raise SystemExit(f"the register has {register_runs[0]['rows']} rows, expected {rows}")

    def share(measured: dict[str, Any], part: str) -> float:
        return 100 * _median(measured["runs"], part) / _median(measured["runs"], "total")

    def aim(value: float, target: float, unit: str) -> str:
        verdict = "met" if value <= target else "MISSED"
        return f"aim < {target:g} {unit}: {verdict}"

    return [
        Figure(
            "CAPA report: total (median)",
            capa_total,
            "s",
            aim(capa_total, CAPA_TARGET_SECONDS, "s"),
        ),
        Figure(
            "CAPA report: CPU time of the process (median)",
            _median(capa["runs"], "cpu"),
            "s",
            "CPU seconds used; the wall time adds any wait for a shared CPU",
        ),
        Figure("CAPA report: gathering data", _median(capa["runs"], "gather"), "s"),
        Figure(
            "CAPA report: rendering (PDF/A, export event)", _median(capa["runs"], "render"), "s"
        ),
        Figure("CAPA report: share gathering", share(capa, "gather"), "%"),
        Figure("CAPA report: pages", capa["runs"][0]["pages"], "pages"),
        Figure(
            f"register of {rows:,} rows: total (median)",
            register_total,
            "s",
            aim(register_total, REGISTER_TARGET_SECONDS, "s"),
        ),
        Figure(
            "register: CPU time of the process (median)",
            _median(register_runs, "cpu"),
            "s",
            "CPU seconds used; the wall time adds any wait for a shared CPU",
        ),
        Figure("register: gathering data", _median(register_runs, "gather"), "s"),
        Figure("register: rendering (PDF/A, export event)", _median(register_runs, "render"), "s"),
        Figure("register: share gathering", share(register, "gather"), "%"),
        Figure("register: pages", register_runs[0]["pages"], "pages"),
        Figure("register: PDF size", register_runs[0]["bytes"] / 2**20, "MiB"),
        Figure(
            "register: peak memory of the process",
            register["peak_mib"],
            "MiB",
            aim(register["peak_mib"], REGISTER_TARGET_MIB, "MiB")
            + f" (the app alone: {register['baseline_mib']:,.0f} MiB)",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    figures = run(argv)
    say(f"\n{TITLE}\n{format_table(figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
