"""Audit-trail benchmark: load a long chain, verify it, and measure what the trail costs per write.

    python -m tests.benchmarks.bench_audit                  # 1,000,000 events (the target run)
    python -m tests.benchmarks.bench_audit --events 50000   # a quick run

Everything happens on a fresh SQLite database in a temporary folder, migrated with the real
migrations, and removed at the end:

1. load: N audit events built exactly as `app.core.audit.append_events` builds them (same row
   shape, same `event_hash`, ids 1..N, each `prev_hash` the hash before), inserted with
   executemany in large batches inside a few transactions;
2. verify: the real CLI `flask --app wsgi audit verify` in a subprocess (wall time, peak memory,
   and its "OK N events" line), then `verify_chain` itself in a fresh process (time, memory);
   each --repeat times (3), the median counts;
3. writes: creates per second of an audited model (Customer) against the same model with the
   audit capture detached, a Core insert into the same table, and a model that is not audited
   (LoginAttempt): one create per commit (one web request) and 100 per commit;
4. verify again after those real writes, which proves the generated chain and the app's own
   appends form one chain.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
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
    peak_rss_mib,
    run_measured,
    say,
    subprocess_env,
)

TITLE = "Audit trail"
DEFAULT_EVENTS = 1_000_000
DEFAULT_WRITES = 2_000
VERIFY_TARGET_SECONDS = 15.0
TARGET_EVENTS = 1_000_000
LOAD_BATCH = 20_000
LOAD_ROWS_PER_TRANSACTION = 250_000
LOAD_CACHE_KIB = 64 * 1024


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.bench_audit", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--events",
        type=int,
        default=env_int("BENCH_AUDIT_EVENTS", DEFAULT_EVENTS),
        help="audit events to load and verify (env BENCH_AUDIT_EVENTS; default %(default)s)",
    )
    parser.add_argument(
        "--writes",
        type=int,
        default=env_int("BENCH_AUDIT_WRITES", DEFAULT_WRITES),
        help="creates per write measurement (env BENCH_AUDIT_WRITES; default %(default)s)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=env_int("BENCH_AUDIT_REPEAT", 3),
        help="times each verify runs; the median counts (env BENCH_AUDIT_REPEAT; default "
        "%(default)s)",
    )
    parser.add_argument(
        "--tmp-dir",
        default=os.environ.get("BENCH_TMP_DIR") or None,
        help="folder for the temporary database (env BENCH_TMP_DIR; default: the system's)",
    )
    return parser.parse_args(argv)


# --- 1. loading a chain -----------------------------------------------------------------------

_ACTORS = [
    ("alice.quality@example.com", 2),
    ("bob.engineer@example.com", 3),
    ("carol.auditor@example.com", 4),
    ("dave.contributor@example.com", 5),
    ("system:recurrence-review", None),
    ("system:seed-demo", None),
]
_RECORD_TYPES = ["customer", "site", "process", "nonconformity", "capa", "document"]
_SEGMENTS = ["consumer", "small_business", "enterprise", "public_sector"]
_REASONS = [
    "Customer asked for a correction of the address.",
    "Annual review: owner changed after reorganisation.",
    "Root cause confirmed by the 8D team.",
]


CONTENT_POOL = 4096  # distinct event contents; each row also gets its own time, id and links


def _event_content(rng: random.Random, n: int, when: datetime) -> dict[str, Any]:
    """A realistic mix of actions, record types and change sets, as the app would write them."""
    from app.core.audit import AuditAction, canonical_json

    roll = rng.random()
    record_type = rng.choice(_RECORD_TYPES)
    record_id: str | None = str(rng.randint(1, 50_000))
    reason = None
    if roll < 0.40:
        action = AuditAction.CREATE
        changes: dict[str, Any] | None = {
            "id": [None, int(record_id)],
            "name": [None, f"{record_type.title()} {record_id}"],
            "segment": [None, rng.choice(_SEGMENTS)],
            "annual_value": [None, f"{rng.randint(0, 9_999_999)}.{rng.randint(0, 99):02d}"],
            "active": [None, True],
            "created_at": [None, when.isoformat()],
        }
    elif roll < 0.75:
        action = AuditAction.UPDATE
        changes = {"name": [f"Old name {n}", f"New name {n}"]}
        if rng.random() < 0.5:
            changes["annual_value"] = ["100.00", f"{rng.randint(0, 99_999)}.00"]
        if rng.random() < 0.2:
            reason = rng.choice(_REASONS)
    elif roll < 0.85:
        action = AuditAction.TRANSITION
        changes = {"state": ["open", rng.choice(["investigating", "closed", "verified"])]}
        reason = rng.choice(_REASONS)
    elif roll < 0.90:
        action = AuditAction.SIGN
        changes = {"meaning": "approved", "content_hash": f"{rng.getrandbits(256):064x}"}
    elif roll < 0.97:
        action = AuditAction.LOGIN
        record_type, changes = "user_account", None
    else:
        action = AuditAction.DELETE
        changes = {"name": [f"Draft {record_id}", None], "active": [True, None]}
    actor, actor_user_id = rng.choice(_ACTORS)
    web = actor_user_id is not None
    return {
        "actor": actor,
        "actor_user_id": actor_user_id,
        "action": action,
        "record_type": record_type,
        "record_id": record_id,
        # Serialised as append_events serialises a PendingEvent's changes.
        "changes": canonical_json(changes) if changes is not None else None,
        "reason": reason,
        "web": web,
        "remote_addr": f"10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}" if web else None,
    }


def generate_chain(count: int, batch_size: int, seed: int = 1) -> Iterator[list[dict[str, Any]]]:
    """Batches of event rows ids 1..count, chained from genesis exactly as append_events does."""
    from app.core.audit import GENESIS_HASH, event_hash

    rng = random.Random(seed)
    when = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
    pool = [_event_content(rng, n, when + timedelta(hours=n)) for n in range(CONTENT_POOL)]
    last_hash = GENESIS_HASH
    batch: list[dict[str, Any]] = []
    for event_id in range(1, count + 1):
        when += timedelta(microseconds=rng.getrandbits(25))  # 0 to 33 s apart
        content = pool[rng.getrandbits(12)]
        # The same keys, in the same order and of the same types, as append_events' rows.
        row = {
            "id": event_id,
            "occurred_at": when,
            "actor": content["actor"],
            "actor_user_id": content["actor_user_id"],
            "action": content["action"],
            "record_type": content["record_type"],
            "record_id": content["record_id"],
            "changes": content["changes"],
            "reason": content["reason"],
            "request_id": f"{rng.getrandbits(128):032x}" if content["web"] else None,
            "remote_addr": content["remote_addr"],
            "prev_hash": last_hash,
        }
        row["hash"] = last_hash = event_hash(row)
        batch.append(row)
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def load_chain(engine: Any, count: int) -> float:
    """Insert `count` chained events; returns the seconds it took (hashing included)."""
    from sqlalchemy import insert

    from app.core.audit import AuditEvent

    statement = insert(AuditEvent)
    started = time.perf_counter()
    batches = generate_chain(count, LOAD_BATCH)
    inserted = 0
    while inserted < count:
        # A few large transactions; each executemany inserts one batch with the app's own types.
        with engine.begin() as connection:
            # A larger page cache for the load connection only (the random-order hash indexes
            # outgrow SQLite's 2 MiB default); what is written does not change.
            connection.exec_driver_sql(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
            in_transaction = 0
            for batch in batches:
                connection.execute(statement, batch)
                inserted += len(batch)
                in_transaction += len(batch)
                if in_transaction >= LOAD_ROWS_PER_TRANSACTION:
                    break
        say(f"  loaded {inserted:,} / {count:,} events ({time.perf_counter() - started:,.1f} s)")
    return time.perf_counter() - started


# --- 2. verifying -----------------------------------------------------------------------------


def verify_with_cli(database_url: str, instance_dir: Path, expected: int) -> dict[str, Any]:
    """`flask --app wsgi audit verify` in a subprocess: wall time, output, peak memory."""
    measured = run_measured(
        [*flask_command(), "--app", "wsgi", "audit", "verify"],
        cwd=REPO_ROOT,
        env=subprocess_env(database_url, instance_dir),
    )
    output = (measured.stdout + measured.stderr).strip()
    if measured.returncode != 0 or not output.startswith(f"OK {expected} events"):
        raise SystemExit(f"audit verify did not say 'OK {expected} events': {output}")
    return {"seconds": measured.seconds, "output": output, "peak_mib": measured.peak_mib}


def _verify_in_this_process() -> None:
    """Child-process entry point: time verify_chain alone and print the figures as JSON."""
    from app.core.audit import verify_chain
    from app.core.db import make_engine

    engine = make_engine(os.environ["DATABASE_URL"])
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1").all()  # connect and set pragmas before timing
        baseline = peak_rss_mib()
        started = time.perf_counter()
        result = verify_chain(connection)
        seconds = time.perf_counter() - started
    engine.dispose()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "ok": result.ok,
                "count": result.count,
                "summary": result.summary(),
                "baseline_mib": baseline,
                "peak_mib": peak_rss_mib(),
            }
        )
    )


def verify_in_fresh_process(database_url: str, instance_dir: Path) -> dict[str, Any]:
    """verify_chain timed on its own, in a new interpreter so its peak memory is its own."""
    code = "from tests.benchmarks.bench_audit import _verify_in_this_process as v; v()"
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=subprocess_env(database_url, instance_dir),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --- 3. the cost per write --------------------------------------------------------------------


def _detached_audit_capture() -> Any:
    """A context manager that unhooks the audit trail's session listeners for the block."""
    import contextlib

    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from app.core import audit

    listeners = [
        ("before_flush", audit._capture_before_flush),
        ("after_flush", audit._write_after_flush),
    ]

    @contextlib.contextmanager
    def detached() -> Iterator[None]:
        for name, listener in listeners:
            event.remove(Session, name, listener)
        try:
            yield
        finally:
            for name, listener in listeners:
                event.listen(Session, name, listener)

    return detached()


AUDITED = "Customer via ORM, audited"
DETACHED = "Customer via ORM, audit capture detached"
WARM_UP = 20


def _time_creates(create: Callable[[], None], count: int, per_commit: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds (this process's) for `count` creates."""
    from app.extensions import db

    session = db.session
    started, cpu_started = time.perf_counter(), time.process_time()
    for i in range(count):
        create()
        if (i + 1) % per_commit == 0:
            session.commit()
    session.commit()
    return time.perf_counter() - started, time.process_time() - cpu_started


def measure_writes(app: Any, count: int) -> list[dict[str, Any]]:
    """Creates per second, audited and not, one per commit and 100 per commit.

    The variants take turns, one commit's worth each, so a slow spell of the disk (or another
    process on the machine) hits them all alike; each makes `count` creates, after WARM_UP of its
    own. Audited creates are checked to write exactly one audit event each, the others none.
    """
    from sqlalchemy import func, insert, select

    from app.accounts.models import LoginAttempt
    from app.core.audit import AuditEvent, acting_as
    from app.core.db import utcnow
    from app.extensions import db
    from app.organisation.models import Customer, CustomerSegment

    numbers = iter(range(1, 10_000_000))

    def customer_orm() -> None:
        db.session.add(
            Customer(
                name=f"Bench customer {next(numbers)}",
                segment=CustomerSegment.ENTERPRISE,
                annual_value=Decimal("125000.00"),
            )
        )

    customer_insert = insert(Customer.__table__)

    def customer_core() -> None:
        now = utcnow()
        db.session.execute(
            customer_insert,
            {
                "name": f"Bench customer {next(numbers)}",
                "segment": CustomerSegment.ENTERPRISE,
                "annual_value": Decimal("125000.00"),
                "active": True,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            },
        )

    def login_attempt() -> None:
        db.session.add(
            LoginAttempt(
                email=f"bench{next(numbers)}@example.com", remote_addr="10.0.0.1", succeeded=True
            )
        )

    variants: list[tuple[str, Callable[[], None], bool]] = [
        (AUDITED, customer_orm, True),
        (DETACHED, customer_orm, False),
        ("Customer via Core insert (no ORM, no audit)", customer_core, False),
        ("LoginAttempt via ORM (model not audited)", login_attempt, False),
    ]

    def head_id() -> int:
        found = db.session.scalar(select(func.max(AuditEvent.id))) or 0
        db.session.rollback()  # hand the connection back: each timed create opens its own
        return found

    def run_variant(
        label: str, create: Callable[[], None], n: int, per: int
    ) -> tuple[float, float]:
        if label == DETACHED:
            with _detached_audit_capture():
                return _time_creates(create, n, per)
        return _time_creates(create, n, per)

    results = []
    with app.app_context(), acting_as("system:bench"):
        for label, create, audited in variants:
            before = head_id()
            run_variant(label, create, WARM_UP, 1)
            written, expected = head_id() - before, WARM_UP if audited else 0
            if written != expected:
                raise SystemExit(f"{label}: {written} audit events written, {expected} expected")
        for per_commit in (1, 100):
            rounds = max(1, count // per_commit)
            creates = rounds * per_commit
            totals = {label: [0.0, 0.0] for label, _, _ in variants}
            before = head_id()
            for _ in range(rounds):
                for label, create, _ in variants:
                    wall, cpu = run_variant(label, create, per_commit, per_commit)
                    totals[label][0] += wall
                    totals[label][1] += cpu
            written = head_id() - before
            if written != creates:
                raise SystemExit(f"{written} audit events written, {creates} expected")
            for label, (seconds, cpu_seconds) in totals.items():
                results.append(
                    {
                        "label": label,
                        "per_commit": per_commit,
                        "creates": creates,
                        "seconds": seconds,
                        "per_second": creates / seconds,
                        "ms_each": seconds / creates * 1000,
                        "cpu_ms_each": cpu_seconds / creates * 1000,
                    }
                )
                say(
                    f"  {label}, {per_commit}/commit: {creates / seconds:,.0f} creates/s "
                    f"({seconds / creates * 1000:.3f} ms each, "
                    f"{cpu_seconds / creates * 1000:.3f} ms of it CPU)"
                )
        db.session.remove()
    return results


# --- the run ----------------------------------------------------------------------------------


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="loop-bench-audit-", dir=args.tmp_dir))
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
        say(f"  {machine_summary()}; database {database_url}")

        n = args.events
        say(f"  loading {n:,} events…")
        with app.app_context():
            load_seconds = load_chain(db.engine(), n)
        size_mib = sum(path.stat().st_size for path in tmp.glob("bench.sqlite3*")) / 2**20

        cli_runs, direct_runs = [], []
        for attempt in range(1, max(1, args.repeat) + 1):
            say(f"  verify {attempt}: the CLI…")
            cli_runs.append(verify_with_cli(database_url, tmp, n))
            say(f"    {cli_runs[-1]['output']}  ({cli_runs[-1]['seconds']:,.2f} s)")
            say(f"  verify {attempt}: verify_chain in a fresh process…")
            direct_runs.append(verify_in_fresh_process(database_url, tmp))
            if not direct_runs[-1]["ok"] or direct_runs[-1]["count"] != n:
                raise SystemExit(f"verify_chain: {direct_runs[-1]['summary']}")
            say(f"    {direct_runs[-1]['summary']}  ({direct_runs[-1]['seconds']:,.2f} s)")
        cli, direct = _summarise(cli_runs), _summarise(direct_runs)

        say(f"  writes: {args.writes:,} creates per measurement, on the {n:,}-event trail…")
        writes = measure_writes(app, args.writes)

        after = verify_in_fresh_process(database_url, tmp)
        audited_writes = [w for w in writes if w["label"] == AUDITED]
        appended = WARM_UP + sum(w["creates"] for w in audited_writes)
        if not after["ok"] or after["count"] != n + appended:
            raise SystemExit(f"verify after the real writes: {after['summary']}")
        say(f"  after the real writes: {after['summary']}")
        with app.app_context():
            db.engine().dispose()

    return _figures(n, load_seconds, size_mib, cli, direct, after, writes)


def _summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median run's time, with the best and worst, and the highest peak memory of all."""
    times = sorted(run["seconds"] for run in runs)
    peaks = [run["peak_mib"] for run in runs if run["peak_mib"] is not None]
    return {
        **runs[0],
        "seconds": statistics.median(times),
        "best": times[0],
        "worst": times[-1],
        "runs": len(times),
        "peak_mib": max(peaks) if peaks else None,
    }


def _figures(
    n: int,
    load_seconds: float,
    size_mib: float,
    cli: dict[str, Any],
    direct: dict[str, Any],
    after: dict[str, Any],
    writes: list[dict[str, Any]],
) -> list[Figure]:
    def target_note(seconds: float, fixed: float = 0.0) -> str:
        """The verdict on the 1M target; for another count, a projection (fixed start-up cost
        plus the verifying scaled to 1M events)."""
        target = f"target: 1M events < {VERIFY_TARGET_SECONDS:.0f} s"
        if n == TARGET_EVENTS:
            verdict = "met" if seconds < VERIFY_TARGET_SECONDS else "NOT met"
            return f"{target}: {verdict}"
        projected = fixed + (seconds - fixed) * TARGET_EVENTS / n
        verdict = "would be met" if projected < VERIFY_TARGET_SECONDS else "would NOT be met"
        return f"{target}: {verdict} (projected {projected:,.1f} s)"

    cli_start_up = max(0.0, cli["seconds"] - direct["seconds"])

    def spread(measured: dict[str, Any]) -> str:
        if measured["runs"] == 1:
            return ""
        return f"median of {measured['runs']}, {measured['best']:.2f}-{measured['worst']:.2f} s; "

    figures = [
        Figure(f"load: {n:,} chained events (hash + insert)", load_seconds, "s"),
        Figure("load rate", n / load_seconds, "rows/s"),
        Figure("database size after load", size_mib, "MiB"),
        Figure(
            "verify: `flask --app wsgi audit verify`",
            cli["seconds"],
            "s",
            spread(cli) + target_note(cli["seconds"], cli_start_up),
        ),
        Figure("verify: CLI peak memory (VmHWM)", cli["peak_mib"] or float("nan"), "MiB"),
        Figure(
            "verify: verify_chain alone",
            direct["seconds"],
            "s",
            spread(direct) + target_note(direct["seconds"]),
        ),
        Figure("verify: verify_chain rate", n / direct["seconds"], "events/s"),
        Figure(
            "verify: verify_chain peak memory (VmHWM)",
            direct["peak_mib"],
            "MiB",
            f"{direct['baseline_mib']:,.0f} MiB before verifying",
        ),
        Figure(f"verify again after the writes ({after['count']:,} events)", after["seconds"], "s"),
    ]
    by_key = {(w["label"], w["per_commit"]): w for w in writes}
    for w in writes:
        figures.append(
            Figure(
                f"create {w['label']}, {w['per_commit']}/commit",
                w["per_second"],
                "creates/s",
                f"{w['ms_each']:.3f} ms each, {w['cpu_ms_each']:.3f} ms CPU",
            )
        )
    for per_commit in (1, 100):
        audited = by_key[(AUDITED, per_commit)]
        detached = by_key[(DETACHED, per_commit)]
        extra = audited["ms_each"] - detached["ms_each"]
        extra_cpu = audited["cpu_ms_each"] - detached["cpu_ms_each"]
        figures.append(
            Figure(
                f"audit overhead per create, {per_commit}/commit",
                extra,
                "ms",
                f"{extra / detached['ms_each'] * 100:+.0f}% vs the same insert unaudited; "
                f"{extra_cpu:.3f} ms of it CPU",
            )
        )
    return figures


def main(argv: list[str] | None = None) -> int:
    figures = run(argv)
    say(f"\n{TITLE}\n{format_table(figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
