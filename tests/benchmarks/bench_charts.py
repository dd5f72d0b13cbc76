"""The dashboard's five SVG charts: CPU time to draw them all, cold (nothing cached), the first
time in a process (the figures they are drawn on built too) and for figures already drawn (served
from the per-process chart cache).

The inputs have the dashboard's shapes: two Pareto charts of twelve and eight categories, a
c-chart of 26 weeks with a partial last one, and the two bar charts. Aim: under 100 ms together,
cold. Times are CPU time (`time.process_time`), median of the runs, so other work on the machine
moves them less than wall time; the wall time of the cold runs is shown beside.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date, timedelta

from app.core import charts
from app.core.spc import c_chart, c_chart_limits, pareto
from tests.benchmarks.common import Figure, format_table, machine_summary, say

TITLE = "Charts"
TARGET_MS = 100


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.bench_charts", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--repeat", type=int, default=15, help="runs per figure (median)")
    return parser.parse_args(argv)


def _inputs(seed: int):
    """Dashboard-shaped inputs; `seed` shifts every count, so each cold run draws new charts."""
    categories = [(f"Category {i}", 1000 // (i + 1) + seed) for i in range(12)]
    causes = [(f"Cause {i}", 400 // (i + 1) + seed) for i in range(8)]
    counts = [50 + (i * 7 + seed) % 23 for i in range(26)]
    limits = c_chart_limits(counts[:25])
    weeks = [(date(2026, 1, 5) + timedelta(weeks=i)).strftime("%d %b") for i in range(26)]
    return (
        pareto(categories, name=str),
        pareto(causes, name=str),
        (c_chart(counts, limits, partial_from=25), limits, weeks),
        [("0-30 days", 5 + seed), ("31-90 days", 3), ("over 90 days", 2)],
        [("High", 4 + seed), ("Medium", 9), ("Low", 12)],
    )


def draw_all(inputs) -> None:
    category_bars, cause_bars, (points, limits, weeks), ageing, bands = inputs
    charts.pareto_chart_svg(category_bars, "Complaint categories (Pareto)")
    charts.pareto_chart_svg(cause_bars, "Root-cause categories (Pareto)")
    charts.control_chart_svg(points, limits, weeks, "Weekly complaints, all processes (c-chart)")
    charts.bar_chart_svg(ageing, "Open CAPAs by age", highlight=("over 90 days",))
    charts.bar_chart_svg(bands, "Nonconformities by risk priority", highlight=("High",))


def _median_ms(action, repeat: int, before=None) -> tuple[float, float]:
    """Median CPU and wall milliseconds of `action(run)`; `before(run)` runs untimed first."""
    cpu, wall = [], []
    for run in range(repeat):
        if before is not None:
            before(run)
        started, cpu_started = time.perf_counter(), time.process_time()
        action(run)
        cpu.append((time.process_time() - cpu_started) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse_args(argv)
    draw_all(_inputs(-1))  # matplotlib's font cache and imports, paid once per process
    charts.clear_cache()
    cold, cold_wall = _median_ms(lambda run: draw_all(_inputs(run)), args.repeat)
    first, _ = _median_ms(
        lambda run: draw_all(_inputs(1000 + run)),
        args.repeat,
        before=lambda run: charts.clear_cache(canvases=True),
    )
    same = _inputs(0)
    draw_all(same)
    warm, _ = _median_ms(lambda run: draw_all(same), args.repeat)
    return [
        Figure(
            "five dashboard charts, cold (CPU)",
            cold,
            "ms",
            f"aim < {TARGET_MS} ms: {'met' if cold < TARGET_MS else 'missed'}",
        ),
        Figure("five dashboard charts, cold (wall)", cold_wall, "ms"),
        Figure("five dashboard charts, first in a process (CPU, figures built)", first, "ms"),
        Figure("five dashboard charts, figures unchanged (cached, CPU)", warm, "ms"),
    ]


if __name__ == "__main__":
    say(f"{TITLE} ({machine_summary()})")
    say(format_table(run()))
