"""Import benchmark: 100,000 complaints from one CSV file through the real CLI, on SQLite.

    python -m tests.benchmarks.bench_import                # 100,000 rows (the target run)
    python -m tests.benchmarks.bench_import --rows 20000   # a quick run

The file is the real Comcast data set (tests/data) repeated with new ticket numbers until it has
N rows, imported with the shipped mapping (docs/mappings/comcast.json) and --skip-bad-rows into a
fresh SQLite database migrated with the real migrations, in a temporary folder removed at the end.
Measured: the wall time of `flask --app wsgi import complaints …` (every row parsed, checked,
written with its audit event), rows per second and peak memory; then the audit chain is verified.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.benchmarks.common import Figure, format_table, machine_summary, run_measured, say

TITLE = "Complaint import"
REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE = REPO_ROOT / "tests" / "data" / "comcast_telecom_complaints.csv"
MAPPING = REPO_ROOT / "docs" / "mappings" / "comcast.json"
DEFAULT_ROWS = 100_000
TARGET_SECONDS = 60.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.bench_import", description=__doc__.splitlines()[0]
    )
    value = os.environ.get("BENCH_IMPORT_ROWS", "").strip()
    parser.add_argument(
        "--rows",
        type=int,
        default=int(value) if value else DEFAULT_ROWS,
        help="rows in the generated file (env BENCH_IMPORT_ROWS; default %(default)s)",
    )
    return parser.parse_args(argv)


def build_file(path: Path, rows: int) -> int:
    """Repeat the Comcast rows with fresh numeric ticket numbers; returns the rows expected to be
    rejected (the `comcas` row keeps its broken id on every pass)."""
    with open(SOURCE, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        source = list(reader)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    rejected = 0
    for index in range(rows):
        row = list(source[index % len(source)])
        if row[0].isdigit():
            row[0] = str(1_000_000 + index)
        else:
            rejected += 1
        writer.writerow(row)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return rejected


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="loop-bench-import-"))
    try:
        database = folder / "bench.sqlite3"
        data = folder / "complaints.csv"
        rejected = build_file(data, args.rows)
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{database}",
            "LOOP_SCHEDULER": "off",
            "LOOP_INSTANCE_DIR": str(folder),
            "IMPORT_MAX_ROWS": str(max(args.rows, 100_000)),
            "IMPORT_MAX_BYTES": str(max(data.stat().st_size + 1, 20 * 1024 * 1024)),
        }
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        subprocess.run(
            [*flask, "db", "upgrade"], check=True, cwd=REPO_ROOT, env=env, capture_output=True
        )
        say(f"Importing {args.rows:,} rows ({data.stat().st_size / 1_048_576:,.1f} MB) …")
        command = [*flask, "import", "complaints", str(data), "--mapping", str(MAPPING)]
        measured = run_measured([*command, "--skip-bad-rows"], cwd=REPO_ROOT, env=env)
        if measured.returncode != 0:
            raise RuntimeError(f"import failed: {measured.stderr.strip().splitlines()[-1:]}")
        say(measured.stdout.strip())
        expected = f"Imported {args.rows - rejected:,} complaints"
        if expected not in measured.stdout:
            raise RuntimeError(f"expected “{expected}” in the CLI's output")
        verify = run_measured([*flask, "audit", "verify"], cwd=REPO_ROOT, env=env)
        if verify.returncode != 0:
            raise RuntimeError(f"audit verify failed: {verify.stdout.strip()}")
        return [
            Figure("rows in the file", args.rows, "rows"),
            Figure(
                "import wall time (CLI, skip bad rows)",
                measured.seconds,
                "s",
                f"target < {TARGET_SECONDS:.0f} s for 100,000 rows",
            ),
            Figure("rows per second", args.rows / measured.seconds, "rows/s"),
            Figure("import peak memory", measured.peak_mib or float("nan"), "MiB"),
            Figure("audit verify after the import", verify.seconds, "s", verify.stdout[:40]),
        ]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    say(f"{TITLE} — {machine_summary()}")
    say(format_table(run(argv)))


if __name__ == "__main__":
    main()
