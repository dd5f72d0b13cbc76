"""CPU per request of the complaint list page and the API list, in one process, and where it goes.

    python -m tests.benchmarks.profile_requests --database /tmp/x.sqlite3            # CPU ms
    python -m tests.benchmarks.profile_requests --database /tmp/x.sqlite3 --profile  # cProfile

Works on a copy of a seeded SQLite database (`seed-demo --complaints N`): signs a quality lead in
through Flask's test client (no HTTP, no gunicorn) and requests the same two pages as
`bench_throughput` after a warm-up. Without `--profile` it prints each page's CPU per request
(`time.process_time()` over `--requests` requests, `--repeats` times: the least is the figure
that moves least with the machine's other load). With `--profile` it runs them under cProfile and
prints the top functions by cumulative and by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.bench_throughput import PASSWORD, prepare
from tests.benchmarks.common import environment


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.profile_requests", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--database", required=True, help="a seeded SQLite file (a copy is used)")
    parser.add_argument("--requests", type=int, default=200, help="per measurement (%(default)s)")
    parser.add_argument("--repeats", type=int, default=5, help="measurements (%(default)s)")
    parser.add_argument("--profile", action="store_true", help="cProfile instead of timing")
    parser.add_argument("--top", type=int, default=40, help="functions to print (%(default)s)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="loop-profile-requests-"))
    try:
        database = tmp / "profile.sqlite3"
        shutil.copy(args.database, database)
        url = f"sqlite:///{database}"
        prepared = prepare(url, tmp)  # the benchmark's user, token and pages
        with environment({"LOOP_ENV": "testing", "LOOP_INSTANCE_DIR": str(tmp)}):
            from app import create_app

            app = create_app(
                {
                    "DATABASE_URL": url,
                    "LOOP_SCHEDULER": "off",
                    "WTF_CSRF_ENABLED": False,
                    "API_RATE_LIMIT": "1000000 per minute",
                }
            )
            client = app.test_client()
            signed_in = client.post(
                "/login", data={"email": prepared["email"], "password": PASSWORD}
            )
            assert signed_in.status_code == 302
            pages = (
                ("complaint list page", prepared["list_path"], {}),
                (
                    "API complaint list",
                    prepared["api_path"],
                    {"Authorization": f"Bearer {prepared['token']}"},
                ),
            )
            for label, path, headers in pages:
                for _ in range(20):  # warm-up: templates compiled, statements cached
                    assert client.get(path, headers=headers).status_code == 200
                if args.profile:
                    _profile(client, label, path, headers, args)
                else:
                    _time(client, label, path, headers, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _time(client, label: str, path: str, headers: dict, args: argparse.Namespace) -> None:
    figures = []
    for _ in range(args.repeats):
        started = time.process_time()
        for _ in range(args.requests):
            assert client.get(path, headers=headers).status_code == 200
        figures.append((time.process_time() - started) * 1000 / args.requests)
    listed = ", ".join(f"{figure:.2f}" for figure in figures)
    print(f"{label}: CPU per request {min(figures):.2f} ms (least of {listed})")


def _profile(client, label: str, path: str, headers: dict, args: argparse.Namespace) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.requests):
        client.get(path, headers=headers)
    profiler.disable()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
        print(f"=== {label}, {args.requests} requests, by {order}\n{out.getvalue()}")


if __name__ == "__main__":
    sys.exit(main())
