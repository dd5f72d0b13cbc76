"""Benchmarks for `make bench` (`python -m tests.benchmarks.run_all`).

Every module here named `bench_*.py` is found and run by `run_all`; none is named `test_*`, so
pytest never collects them. A module provides `TITLE` (its heading) and `run(argv) ->
list[Figure]`, and can be run on its own: `python -m tests.benchmarks.bench_audit --help`.
"""
