"""Fuzz benchmark: the CI fuzz tests run deeper, with more examples each.

    python -m tests.benchmarks.bench_fuzz                       # 150 API / 12 form examples
    python -m tests.benchmarks.bench_fuzz --api-examples 50 --form-examples 5

Runs the same two tests CI runs, in a pytest subprocess on a fresh SQLite database (the suite's own
fixtures), with more Hypothesis examples: `tests/api/test_schemathesis.py` (schemathesis over
every operation of the JSON API, sent over HTTP to a live server: no 5xx, every answer as
documented) and `tests/core/test_form_fuzz.py` (random values posted to every web form a quality
lead can reach: no 5xx, no partial record). Figures: how many tests (API operations) passed and
failed, examples each, and the time taken.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time

from tests.benchmarks.common import REPO_ROOT, Figure, env_int, format_table, say

TITLE = "Fuzz: schemathesis over the API, random values in every web form"
DEFAULT_API_EXAMPLES = 150
DEFAULT_FORM_EXAMPLES = 12
SUMMARY = re.compile(r"(\d+) (passed|failed|error|errors|skipped)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.bench_fuzz", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--api-examples",
        type=int,
        default=env_int("BENCH_FUZZ_API_EXAMPLES", DEFAULT_API_EXAMPLES),
        help="schemathesis examples per operation (CI: 25; default %(default)s)",
    )
    parser.add_argument(
        "--form-examples",
        type=int,
        default=env_int("BENCH_FUZZ_FORM_EXAMPLES", DEFAULT_FORM_EXAMPLES),
        help="examples per web form (CI: 3; default %(default)s)",
    )
    return parser.parse_args(argv)


def _pytest(target: str, env: dict[str, str]) -> tuple[dict[str, int], float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", target, "-q", "-p", "no:cacheprovider", "-x"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    elapsed = time.perf_counter() - started
    last = [line for line in result.stdout.splitlines() if line.strip()][-1:] or [""]
    counts = {word.rstrip("s"): int(number) for number, word in SUMMARY.findall(last[0])}
    return counts, elapsed, result.stdout[-3000:]


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse_args(argv)
    env = dict(os.environ)
    env.pop("TEST_DATABASE_URL", None)
    env.update(
        LOOP_SCHEMATHESIS_EXAMPLES=str(args.api_examples),
        LOOP_FORM_FUZZ_EXAMPLES=str(args.form_examples),
    )
    figures: list[Figure] = []
    for label, target, examples in (
        ("API (schemathesis)", "tests/api/test_schemathesis.py", args.api_examples),
        ("web forms (hypothesis)", "tests/core/test_form_fuzz.py", args.form_examples),
    ):
        say(f"{label}: {examples} examples each …")
        counts, elapsed, output = _pytest(target, env)
        failed = counts.get("failed", 0) + counts.get("error", 0)
        figures += [
            Figure(f"{label}: examples per test", examples, "examples"),
            Figure(f"{label}: tests passed", counts.get("passed", 0), "tests"),
            Figure(
                f"{label}: tests failed",
                failed,
                "tests",
                "aim 0: " + ("met" if not failed else "MISSED"),
            ),
            Figure(f"{label}: time", elapsed, "s"),
        ]
        if failed:
            say(output)
    return figures


if __name__ == "__main__":
    say(format_table(run(sys.argv[1:])))
