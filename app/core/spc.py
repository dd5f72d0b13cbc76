"""Statistical process control for the dashboard, the reports and the recurring-failure review.

Counts of failures per period (complaints a week, say) follow a Poisson distribution, so the chart
is a c-chart: centre line c̄ (the mean count over a baseline), control limits c̄ ± 3·√c̄ (the lower one
floored at zero). A point above the upper limit, or a run of eight points in a row above the centre
line, says the process changed; both rules are the classic Western Electric / Nelson ones.

A period that is not over yet (this week, two days in) or shorter than the others (a period's last
few days) is partial: its count is drawn but never judged, and it takes no part in the limits or in
a run, because a short period's low count says nothing about the process.

A Pareto analysis orders causes by count and marks the "vital few": the causes that together make up
the first 80 % of all occurrences (the cause that crosses 80 % included).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

RUN_LENGTH = 8
VITAL_FEW_SHARE = 0.8


@dataclass(frozen=True)
class ControlLimits:
    centre: float
    upper: float
    lower: float


@dataclass(frozen=True)
class ChartPoint:
    index: int
    count: int
    above_upper: bool
    below_lower: bool
    # True for every point of a run of RUN_LENGTH or more consecutive points above the centre.
    in_run_above_centre: bool
    partial: bool = False

    @property
    def out_of_control(self) -> bool:
        return self.above_upper or self.below_lower or self.in_run_above_centre


def c_chart_limits(baseline_counts: Sequence[int]) -> ControlLimits:
    """Centre line and 3-sigma limits of a c-chart over the baseline counts.

    An empty baseline has no limits to speak of: centre and limits are all 0."""
    if not baseline_counts:
        return ControlLimits(0.0, 0.0, 0.0)
    centre = sum(baseline_counts) / len(baseline_counts)
    spread = 3 * math.sqrt(centre)
    return ControlLimits(centre=centre, upper=centre + spread, lower=max(0.0, centre - spread))


def c_chart(
    counts: Sequence[int], limits: ControlLimits | None = None, partial_from: int | None = None
) -> list[ChartPoint]:
    """Judge each count against the limits (computed from the whole periods' counts when not
    given). Counts from index `partial_from` on are partial periods: drawn, never judged."""
    whole = len(counts) if partial_from is None else max(0, min(partial_from, len(counts)))
    limits = limits or c_chart_limits(counts[:whole])
    above_centre = [index < whole and count > limits.centre for index, count in enumerate(counts)]
    in_run = [False] * len(counts)
    start = 0
    while start < len(counts):
        if not above_centre[start]:
            start += 1
            continue
        end = start
        while end < len(counts) and above_centre[end]:
            end += 1
        if end - start >= RUN_LENGTH:
            for index in range(start, end):
                in_run[index] = True
        start = end
    return [
        ChartPoint(
            index=index,
            count=count,
            above_upper=index < whole and count > limits.upper,
            below_lower=index < whole and count < limits.lower,
            in_run_above_centre=in_run[index],
            partial=index >= whole,
        )
        for index, count in enumerate(counts)
    ]


@dataclass(frozen=True)
class ParetoBar:
    key: Hashable
    count: int
    share: float  # of the total, 0..1
    cumulative_share: float  # 0..1, up to and including this bar
    vital_few: bool


def pareto(counts: Iterable[tuple[Hashable, int]]) -> list[ParetoBar]:
    """Order (key, count) pairs by count, largest first (ties by key, so the order is stable), with
    each bar's cumulative share and whether it belongs to the vital few."""
    ordered = sorted(
        ((key, count) for key, count in counts if count > 0),
        key=lambda item: (-item[1], str(item[0])),
    )
    total = sum(count for _, count in ordered)
    bars: list[ParetoBar] = []
    running = 0
    for key, count in ordered:
        before = running / total
        running += count
        bars.append(
            ParetoBar(
                key=key,
                count=count,
                share=count / total,
                cumulative_share=running / total,
                # A bar is vital if the share before it had not yet reached 80 %.
                vital_few=before < VITAL_FEW_SHARE,
            )
        )
    return bars
