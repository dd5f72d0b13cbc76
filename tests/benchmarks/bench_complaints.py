"""Complaints at scale: seeding a million, then the list and detail pages' server time.

    python -m tests.benchmarks.bench_complaints                      # seeds 1,000,000 (minutes)
    python -m tests.benchmarks.bench_complaints --complaints 100000  # a quick run
    python -m tests.benchmarks.bench_complaints --database /tmp/seed1m/loop.sqlite3  # reuse one

1. Seeding: the real `flask --app wsgi seed-demo --complaints N` in a subprocess on a fresh SQLite
   database migrated with the real migrations: wall time, complaints per second, peak memory.
2. The list page (`GET /complaints`) with two filters (statuses and the busiest process) and a
   sort — the open complaints most severe first, and the finished ones newest first — each at its
   first page and a deep page (up to page 1,000), and the detail page of complaints picked at
   random, each requested through the whole Flask stack (routing, sign-in, the query, the template)
   in this process: server time, no network. p50 and p95 over the repetitions.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.common import (
    REPO_ROOT,
    Figure,
    env_int,
    environment,
    flask_command,
    format_table,
    machine_summary,
    percentile,
    run_measured,
    say,
    subprocess_env,
)

TITLE = "Complaints: seeding, list and detail pages"
DEFAULT_COMPLAINTS = 1_000_000
LIST_TARGET_MS = 100.0
DETAIL_TARGET_MS = 50.0
DETAIL = "complaint detail page"
# Two filters (statuses and a process) and a sort, as a quality lead uses the list: the open
# complaints of a process, most severe first; and its finished ones, newest first.
LIST_SCENARIOS = {
    "list, open, most severe first": (["received", "acknowledged", "investigating"], "-severity"),
    "list, finished, newest first": (["resolved", "closed"], "-received_at"),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.bench_complaints", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--complaints",
        type=int,
        default=env_int("BENCH_COMPLAINTS", DEFAULT_COMPLAINTS),
        help="complaints to seed (env BENCH_COMPLAINTS; default %(default)s)",
    )
    parser.add_argument(
        "--database",
        default=os.environ.get("BENCH_COMPLAINTS_DB") or None,
        help="an already seeded SQLite file to measure instead of seeding one (env "
        "BENCH_COMPLAINTS_DB); it is only read",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=env_int("BENCH_COMPLAINTS_REPEAT", 40),
        help="requests per page measured (env BENCH_COMPLAINTS_REPEAT; default %(default)s)",
    )
    parser.add_argument(
        "--tmp-dir",
        default=os.environ.get("BENCH_TMP_DIR") or None,
        help="folder for the temporary database (env BENCH_TMP_DIR; default: the system's)",
    )
    return parser.parse_args(argv)


def seed(database_url: str, instance_dir: Path, complaints: int) -> dict[str, Any]:
    """Migrate and seed with the real CLI; the seeding's wall time and peak memory."""
    env = subprocess_env(database_url, instance_dir)
    migrated = run_measured(
        [*flask_command(), "--app", "wsgi", "db", "upgrade"], cwd=REPO_ROOT, env=env
    )
    if migrated.returncode != 0:
        raise SystemExit(f"db upgrade failed: {migrated.stderr.strip()}")
    seeded = run_measured(
        [*flask_command(), "--app", "wsgi", "seed-demo", "--complaints", str(complaints)],
        cwd=REPO_ROOT,
        env=env,
    )
    if seeded.returncode != 0:
        raise SystemExit(f"seed-demo failed: {seeded.stderr.strip()[-500:]}")
    return {"seconds": seeded.seconds, "peak_mib": seeded.peak_mib}


def _timed_get(client: Any, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}")
    return elapsed


def measure_pages(database_url: str, instance_dir: Path, repeat: int) -> dict[str, Any]:
    with environment({"LOOP_ENV": "testing", "LOOP_INSTANCE_DIR": str(instance_dir)}):
        from sqlalchemy import func, select

        from app import create_app
        from app.complaints import listing as complaint_listing
        from app.complaints.models import Complaint
        from app.extensions import db
        from tests.factories import TEST_PASSWORD, create_user

        app = create_app(
            {"DATABASE_URL": database_url, "LOOP_SCHEDULER": "off", "WTF_CSRF_ENABLED": False}
        )
        with app.app_context():
            total = db.session.scalar(select(func.count()).select_from(Complaint)) or 0
            # The busiest process: the filter that leaves the most rows to sort and page through.
            process_id = db.session.scalar(
                select(Complaint.process_id)
                .where(Complaint.process_id.is_not(None))
                .group_by(Complaint.process_id)
                .order_by(func.count().desc())
                .limit(1)
            )
            matching = {
                name: db.session.scalar(
                    select(func.count())
                    .select_from(Complaint)
                    .where(Complaint.process_id == process_id, Complaint.status.in_(statuses))
                )
                or 0
                for name, (statuses, _) in LIST_SCENARIOS.items()
            }
            sample = random.Random(7).sample(range(1, total + 1), k=min(total, repeat))
            references = list(
                db.session.scalars(select(Complaint.reference).where(Complaint.id.in_(sample)))
            )
            # Two words of a stored title (the demo's narratives are all alike).
            title = db.session.scalar(
                select(Complaint.title).where(Complaint.id == (sample or [1])[0])
            )
            search_words = "+".join(re.findall(r"[A-Za-z]{4,}", title or "")[:2]) or "late"
            matching["search"] = db.session.scalar(
                select(func.count())
                .select_from(Complaint)
                .where(complaint_listing.search_clause(search_words.replace("+", " ")))
            )
            email = create_user(role="quality_lead").email
            db.session.commit()
            page_size = app.config["PAGE_SIZE"]
        client = app.test_client()
        signed_in = client.post("/login", data={"email": email, "password": TEST_PASSWORD})
        if signed_in.status_code != 302:
            raise SystemExit(f"could not sign in the benchmark user: {signed_in.status_code}")
        paths: dict[str, str] = {}
        for name, (statuses, sort) in LIST_SCENARIOS.items():
            query = "&".join(f"status={status}" for status in statuses)
            query += f"&process_id={process_id}&sort={sort}"
            deep_page = max(1, min(1000, matching[name] // page_size))
            paths[f"{name}: first page"] = f"/complaints?{query}"
            paths[f"{name}: page {deep_page}"] = f"/complaints?{query}&page={deep_page}"
        # The Search: two words of a stored title (full-text) with the list's count and sort.
        paths["list, search two words, newest first: first page"] = f"/complaints?q={search_words}"
        for path in paths.values():  # warm the caches once, as a running server would be
            _timed_get(client, path)
        timings: dict[str, list[float]] = {label: [] for label in [*paths, DETAIL]}
        for index in range(repeat):
            for label, path in paths.items():
                timings[label].append(_timed_get(client, path))
            reference = references[index % len(references)]
            timings[DETAIL].append(_timed_get(client, f"/complaints/{reference}"))
        with app.app_context():
            db.session.remove()
            db.engine().dispose()
    return {"total": total, "matching": matching, "page_size": page_size, "timings": timings}


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="loop-bench-complaints-", dir=args.tmp_dir))
    try:
        return _run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(args: argparse.Namespace, tmp: Path) -> list[Figure]:
    figures: list[Figure] = []
    say(f"  {machine_summary()}")
    if args.database:
        source = Path(args.database)
        # Work on a copy: the benchmark signs a user in, which writes.
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{source}{suffix}").exists():
                shutil.copy(f"{source}{suffix}", tmp / f"bench.sqlite3{suffix}")
        database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        say(f"  measuring a copy of {source}")
    else:
        database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        say(f"  seeding {args.complaints:,} complaints with seed-demo…")
        seeded = seed(database_url, tmp, args.complaints)
        rate = args.complaints / seeded["seconds"]
        figures += [
            Figure(f"seed-demo --complaints {args.complaints:,}", seeded["seconds"], "s"),
            Figure("seeding rate", rate, "complaints/s"),
            Figure("seeding peak memory", seeded["peak_mib"] or float("nan"), "MiB"),
        ]
        say(f"    {seeded['seconds']:,.1f} s, {rate:,.0f} complaints/s")
    size = sum(path.stat().st_size for path in tmp.glob("bench.sqlite3*")) / 2**20
    figures.append(Figure("database size", size, "MiB"))
    say(f"  measuring the pages, {args.repeat} requests each…")
    measured = measure_pages(database_url, tmp, args.repeat)
    say(f"    {measured['total']:,} complaints, {measured['page_size']} rows a page")
    for name, (statuses, sort) in LIST_SCENARIOS.items():
        say(
            f"    {name}: status in {', '.join(statuses)}, the busiest process, sort {sort}: "
            f"{measured['matching'][name]:,} match"
        )
    say(f"    search: {measured['matching']['search']:,} match")
    for label, samples in measured["timings"].items():
        target = DETAIL_TARGET_MS if label == DETAIL else LIST_TARGET_MS
        p95 = percentile(samples, 0.95)
        verdict = "meets" if p95 < target else "MISSES"
        figures.append(Figure(f"{label}: p50", statistics.median(samples), "ms"))
        figures.append(
            Figure(f"{label}: p95", p95, "ms", f"{verdict} the aim of p95 < {target:.0f} ms")
        )
    return figures


def main(argv: list[str] | None = None) -> int:
    figures = run(argv)
    say(f"\n{TITLE}\n{format_table(figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
