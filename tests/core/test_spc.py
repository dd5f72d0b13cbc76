"""c-chart limits, out-of-control rules and Pareto ordering, against answers worked out by hand."""

from __future__ import annotations

import math

import pytest

from app.core.spc import c_chart, c_chart_limits, pareto


def test_c_chart_limits_are_the_mean_plus_and_minus_three_root_mean() -> None:
    # Mean of 2, 4, 6, 4 is 4; sigma is 2; limits 4 ± 6 → 10 and 0 (floored).
    limits = c_chart_limits([2, 4, 6, 4])
    assert limits.centre == 4
    assert limits.upper == 10
    assert limits.lower == 0


def test_the_lower_limit_is_positive_when_the_mean_is_large() -> None:
    limits = c_chart_limits([25] * 10)
    assert limits.upper == 40 and limits.lower == 10


def test_an_empty_baseline_gives_zero_limits() -> None:
    limits = c_chart_limits([])
    assert (limits.centre, limits.upper, limits.lower) == (0, 0, 0)


def test_a_point_above_the_upper_limit_is_out_of_control() -> None:
    limits = c_chart_limits([4, 4, 4, 4])  # centre 4, upper 10
    points = c_chart([3, 10, 11], limits)
    assert [point.above_upper for point in points] == [False, False, True]
    assert [point.out_of_control for point in points] == [False, False, True]


def test_eight_in_a_row_above_the_centre_line_are_flagged_but_seven_are_not() -> None:
    limits = c_chart_limits([4] * 20)  # centre 4
    seven = c_chart([5] * 7 + [3], limits)
    assert not any(point.in_run_above_centre for point in seven)
    eight = c_chart([3] + [5] * 8 + [4], limits)
    assert [point.in_run_above_centre for point in eight] == [False] + [True] * 8 + [False]


def test_limits_computed_from_the_counts_when_none_are_given() -> None:
    points = c_chart([1, 1, 1, 1, 1, 1, 1, 1, 1, 16])
    # Mean 2.5, upper 2.5 + 3·√2.5 ≈ 7.24: only the 16 is out.
    assert math.isclose(c_chart_limits([1] * 9 + [16]).upper, 2.5 + 3 * math.sqrt(2.5))
    assert [point.index for point in points if point.out_of_control] == [9]


def test_pareto_orders_by_count_and_marks_the_vital_few() -> None:
    bars = pareto([("billing", 10), ("late", 50), ("rude", 5), ("lost", 30), ("none", 0), ("x", 5)])
    assert [bar.key for bar in bars] == ["late", "lost", "billing", "rude", "x"]
    assert [round(bar.cumulative_share, 2) for bar in bars] == [0.5, 0.8, 0.9, 0.95, 1.0]
    # late (0 → 50 %) and lost (50 → 80 %) start below 80 %; billing starts at 80 %: not vital.
    assert [bar.vital_few for bar in bars] == [True, True, False, False, False]
    assert bars[0].share == pytest.approx(0.5)


def test_the_bar_that_crosses_eighty_percent_is_vital() -> None:
    bars = pareto([("a", 70), ("b", 20), ("c", 10)])
    assert [bar.vital_few for bar in bars] == [True, True, False]


def test_pareto_of_nothing_is_empty() -> None:
    assert pareto([]) == []
    assert pareto([("a", 0)]) == []


def test_a_partial_period_is_drawn_but_never_judged_nor_counted_in_the_limits() -> None:
    # Ten whole weeks of 25 (centre 25, lower limit 10) and this week, two days in, with 3: a
    # whole week of 3 would be out of control; the partial one is not, and it leaves the limits.
    points = c_chart([25] * 10 + [3], partial_from=10)
    assert [point.partial for point in points] == [False] * 10 + [True]
    assert not any(point.out_of_control for point in points)
    assert c_chart([25] * 10 + [3])[-1].out_of_control  # judged as a whole week, it would be


def test_a_partial_period_breaks_no_run_above_the_centre() -> None:
    limits = c_chart_limits([4] * 20)
    points = c_chart([5] * 7 + [9], limits, partial_from=7)
    assert not any(point.out_of_control for point in points)
