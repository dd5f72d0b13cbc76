"""JSON API benchmark: complaint creation through `POST /api/v1/complaints`, and reading back.

    python -m tests.benchmarks.bench_api                    # 2,000 creations (the target run)
    python -m tests.benchmarks.bench_api --creates 300      # a quick run

On a fresh SQLite file in a temporary folder, migrated with the real migrations and removed at
the end. Each request goes through the whole app in-process (Flask's test client, no network):
token authentication and rate limit, strict validation of the body, `record_complaint` with its
audit events, the duplicate check on source system + external id, the commit, and the JSON
answer. Figures: latency percentiles of creation without and with an `Idempotency-Key`, and
while another connection is open (no checkpoint at the close, as on a busy server), of reading
one complaint back and of a page of 50 from the list.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from tests.benchmarks.common import (
    Figure,
    env_int,
    environment,
    format_table,
    machine_summary,
    percentile,
    say,
)

TITLE = "JSON API"
DEFAULT_CREATES = 2_000
WARM_UP = 50
TARGET_P95_MS = 50.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.bench_api", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--creates",
        type=int,
        default=env_int("BENCH_API_CREATES", DEFAULT_CREATES),
        help="complaints created per variant (env BENCH_API_CREATES; default %(default)s)",
    )
    parser.add_argument("--tmp-dir", default=None, help="where the temporary database goes")
    return parser.parse_args(argv)


def _latency_figures(label: str, seconds: list[float], target: bool = False) -> list[Figure]:
    millis = [value * 1000 for value in seconds]
    p95 = percentile(millis, 0.95)
    note = ""
    if target:
        verdict = "met" if p95 < TARGET_P95_MS else "MISSED"
        note = f"target p95 < {TARGET_P95_MS:.0f} ms: {verdict}"
    return [
        Figure(f"{label}: p50", percentile(millis, 0.50), "ms"),
        Figure(f"{label}: p95", p95, "ms", note),
        Figure(f"{label}: p99", percentile(millis, 0.99), "ms"),
        Figure(f"{label}: per second", len(millis) / (sum(millis) / 1000), "req/s"),
    ]


def _timed(call: Any, expected: int) -> float:
    started = time.perf_counter()
    response = call()
    elapsed = time.perf_counter() - started
    if response.status_code != expected:
        raise SystemExit(f"expected {expected}, got {response.status_code}: {response.data[:300]}")
    return elapsed


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="loop-bench-api-", dir=args.tmp_dir))
    try:
        return _run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(args: argparse.Namespace, tmp: Path) -> list[Figure]:
    database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    settings = {
        "LOOP_ENV": "production",  # as deployed: no debug or testing shortcuts
        "LOOP_INSTANCE_DIR": str(tmp),
        "SECRET_KEY": "benchmark-only-secret",
        "LOOP_SCHEDULER": "off",
    }
    with environment(settings):
        from app import create_app
        from app.api.tokens import create_token
        from app.extensions import db

        app = create_app(
            {
                "DATABASE_URL": database_url,
                "API_RATE_LIMIT": "1000000 per minute",
            }
        )
        migrated = app.test_cli_runner().invoke(args=["db", "upgrade"])
        if migrated.exit_code != 0:
            raise SystemExit(migrated.output)
        with app.app_context():
            _, secret = create_token(name="bench", scopes="read,intake")
            db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    client = app.test_client()
    run_id = uuid.uuid4().hex[:6]

    def create(number: int, key: bool) -> float:
        body = {
            "title": f"Bench complaint {number}",
            "channel": "web_form",
            "severity": "medium",
            "description": "Parcel arrived damaged; the customer wants a replacement.",
            "source_system": "bench",
            "external_id": f"{run_id}-{'k' if key else 'n'}-{number}",
        }
        extra = {"Idempotency-Key": f"{run_id}-{number}"} if key else {}
        return _timed(
            lambda: client.post("/api/v1/complaints", json=body, headers={**headers, **extra}),
            201,
        )

    say(f"{machine_summary()}; {args.creates:,} creations per variant, SQLite file")
    for number in range(WARM_UP):
        create(-number - 1, key=False)
    # The app opens a connection per request (NullPool). When the last one closes, SQLite
    # checkpoints the WAL into the database file and syncs it: on a slow disk that costs as much
    # as the commit. A busy server always has another request's connection open, which skips it;
    # the third variant holds one idle connection open during its request to show that share.
    # The variants take turns, so a slow spell of the shared disk hits them alike.
    database_file = database_url.removeprefix("sqlite:///")

    def create_beside_another_connection(number: int) -> float:
        keeper = sqlite3.connect(database_file)
        keeper.execute("SELECT 1 FROM complaint LIMIT 1").fetchall()
        try:
            return create(number, key=False)
        finally:
            keeper.close()

    plain: list[float] = []
    keyed: list[float] = []
    busy: list[float] = []
    for number in range(args.creates):
        plain.append(create(number, key=False))
        keyed.append(create(number, key=True))
        busy.append(create_beside_another_connection(args.creates + number))
    reference = client.get("/api/v1/complaints?limit=1", headers=headers).get_json()["data"][0][
        "reference"
    ]
    reads = [
        _timed(lambda: client.get(f"/api/v1/complaints/{reference}", headers=headers), 200)
        for _ in range(max(100, args.creates // 4))
    ]
    pages = [
        _timed(lambda: client.get("/api/v1/complaints?limit=50", headers=headers), 200)
        for _ in range(max(50, args.creates // 20))
    ]
    with app.app_context():
        db.session.remove()
        app.extensions["loop_db"].engine.dispose()
    figures = [
        *_latency_figures("create", plain, target=True),
        *_latency_figures("create with Idempotency-Key", keyed, target=True),
        *_latency_figures("create, another connection open", busy, target=True),
        *_latency_figures("read one complaint", reads),
        *_latency_figures("list page of 50", pages),
        Figure("complaints in the database at the end", WARM_UP + 3 * args.creates, "rows"),
        Figure("create: mean", statistics.fmean(plain) * 1000, "ms"),
    ]
    return figures


if __name__ == "__main__":
    say(format_table(run()))
