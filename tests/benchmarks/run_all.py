"""Run every benchmark module (`bench_*.py` in this folder) in turn and print their figures.

    python -m tests.benchmarks.run_all            # all of them (what `make bench` runs)
    python -m tests.benchmarks.run_all audit      # only modules whose name contains "audit"
    python -m tests.benchmarks.bench_audit -h     # one module on its own, with its options

A new benchmark is a new `bench_<area>.py` module with `TITLE` and `run(argv) -> list[Figure]`;
nothing here needs to change. Options of a module come from its environment variables here
(e.g. BENCH_AUDIT_EVENTS=100000).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from pathlib import Path

from tests.benchmarks.common import Figure, format_table, machine_summary, say

PACKAGE = "tests.benchmarks"


def discover() -> list[str]:
    folder = Path(__file__).resolve().parent
    return sorted(
        info.name for info in pkgutil.iter_modules([str(folder)]) if info.name.startswith("bench_")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "only", nargs="*", help="run only modules whose name contains one of these words"
    )
    args = parser.parse_args(argv)
    names = [name for name in discover() if not args.only or any(w in name for w in args.only)]
    if not names:
        say(f"No benchmark module matches {args.only}; found: {', '.join(discover())}")
        return 1
    say(f"Benchmarks: {', '.join(names)}  ({machine_summary()})")
    results: list[tuple[str, list[Figure], float]] = []
    for name in names:
        module = importlib.import_module(f"{PACKAGE}.{name}")
        title = getattr(module, "TITLE", name)
        say(f"\n== {title} ({name})")
        started = time.perf_counter()
        figures = module.run([])
        results.append((title, figures, time.perf_counter() - started))
    say("\n== Summary")
    for title, figures, elapsed in results:
        say(f"\n{title} (ran in {elapsed:,.0f} s)\n{format_table(figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
