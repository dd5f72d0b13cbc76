"""The shared SVG chart module: deterministic, inline-ready, and safe with any label."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from app.core import charts
from app.core.spc import c_chart, c_chart_limits, pareto

SVG = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(svg: str) -> list[str]:
    return ["".join(node.itertext()) for node in parsed(svg).iter(f"{SVG}text")]


def test_a_pareto_chart_is_deterministic_titled_and_scalable() -> None:
    bars = pareto([("Billing", 50), ("Outage", 30), ("Rude agent", 15), ("Other", 5)])
    first = charts.pareto_chart_svg(bars, "Complaint categories")
    assert first == charts.pareto_chart_svg(bars, "Complaint categories")
    root = parsed(first)
    assert root.tag == f"{SVG}svg"
    assert root.get("width") == "100%" and root.get("viewBox")
    assert root.find(f"{SVG}title").text == "Complaint categories"
    labels = texts(first)
    assert {"Billing", "Outage", "Rude agent", "Other"} <= set(labels)
    assert "Cumulative share" in labels
    # No inline style (the page's CSP blocks it): presentation attributes instead.
    assert "style=" not in first and "<style" not in first
    assert root.get("stroke-linejoin") == "round"


def test_labels_are_text_never_markup_or_maths() -> None:
    bars = pareto([("<script>x", 3), ("Cost $5 & $6", 2)])
    svg = charts.pareto_chart_svg(bars, 'Title "<b>"')
    assert "<script" not in svg and "<b>" not in svg
    labels = texts(svg)
    assert "<script>x" in labels  # shown as the text it is
    assert "Cost $5 & $6" in labels  # no mathtext: dollars stay dollars


def test_a_control_chart_marks_points_out_of_control() -> None:
    counts = [10, 12, 9, 11, 30, 10]
    limits = c_chart_limits(counts[:4])
    points = c_chart(counts, limits)
    svg = charts.control_chart_svg(points, limits, [f"W{i}" for i in range(6)], "Weekly")
    labels = texts(svg)
    assert f"UCL {limits.upper:.1f}" in " ".join(labels)
    assert "Out of control" in labels  # the legend appears because week 5 is above the UCL
    calm = charts.control_chart_svg(c_chart([10, 11, 10], limits), limits, ["a", "b", "c"], "Calm")
    assert "Out of control" not in texts(calm)


def test_empty_charts_say_so() -> None:
    for svg in (
        charts.pareto_chart_svg([], "Nothing"),
        charts.bar_chart_svg([("a", 0)], "Nothing"),
        charts.trend_chart_svg([], [], "Nothing"),
        charts.control_chart_svg([], c_chart_limits([]), [], "Nothing"),
    ):
        assert "No data for this selection" in texts(svg)


def test_trend_and_grouped_bars_render() -> None:
    trend = charts.trend_chart_svg(["Jan", "Feb", "Mar"], [1.5, None, 2.0], "Resolution")
    assert "Resolution" in texts(trend)
    grouped = charts.grouped_bar_chart_svg(
        ["No failure", "Recovered"], [("Retention", [0.9, 0.95])], "Paradox", percent=True
    )
    assert "Recovered" in texts(grouped)


def test_a_chart_for_unchanged_figures_is_drawn_once() -> None:
    charts.clear_cache()
    bars = pareto([("Billing", 50), ("Outage", 30)])
    before = charts.cache_info()
    first = charts.pareto_chart_svg(bars, "Categories")
    again = charts.pareto_chart_svg(pareto([("Billing", 50), ("Outage", 30)]), "Categories")
    after = charts.cache_info()
    assert again == first
    assert (after.drawn - before.drawn, after.hits - before.hits) == (1, 1)

    changed = charts.pareto_chart_svg(pareto([("Billing", 51), ("Outage", 30)]), "Categories")
    relabelled = charts.pareto_chart_svg(bars, "Categories", label=str.upper)
    assert charts.cache_info().drawn - after.drawn == 2
    assert changed != first and "BILLING" in texts(relabelled)


def test_a_chart_does_not_depend_on_the_charts_drawn_before_it() -> None:
    """Charts of one kind are drawn on a kept figure: nothing of one chart may stay on it."""
    counts = [10, 12, 9, 11, 30, 10, 14]
    limits = c_chart_limits(counts[:4])
    small = pareto([("Billing", 5), ("Outage", 3)])
    big = pareto([(f"Category {i}", 900 // (i + 1)) for i in range(12)])

    def draw_each() -> list[str]:
        return [
            charts.pareto_chart_svg(small, "Small"),
            charts.control_chart_svg(
                c_chart(counts, limits, partial_from=6), limits, list("abcdefg"), "Weekly"
            ),
            charts.trend_chart_svg(["Jan", "Feb"], [1.0, 2.0], "Trend"),
            charts.bar_chart_svg([("a", 2), ("b", 1)], "Bars", highlight=("a",)),
            charts.grouped_bar_chart_svg(["x"], [("s", [0.5])], "Shares", percent=True),
            charts.operating_model_svg([("Ops", ["Billing"], ["Refund"])], ["Refund"], "Model"),
        ]

    charts.clear_cache(canvases=True)
    first = draw_each()  # each on a new figure
    charts.clear_cache()
    charts.pareto_chart_svg(big, "Big")
    charts.control_chart_svg(c_chart([40, 2, 90], limits), limits, ["p", "q", "r"], "Wild")
    charts.trend_chart_svg([str(i) for i in range(30)], [i * 10.0 for i in range(30)], "Long")
    charts.bar_chart_svg([(f"bar {i}", i * 100) for i in range(9)], "Many")
    charts.grouped_bar_chart_svg(list("abcd"), [("s", [0.1, 0.9, 1.0, 0.2])], "More", percent=True)
    charts.operating_model_svg(
        [(f"Dept {i}", ["Billing", f"P{i}"], []) for i in range(6)], ["Refund"], "Bigger"
    )
    charts.clear_cache()
    assert draw_each() == first  # drawn again on the kept figures


def test_charts_drawn_from_several_threads_come_out_as_drawn_alone() -> None:
    from concurrent.futures import ThreadPoolExecutor

    inputs = [pareto([(f"C{i}", 40 - i), (f"D{i}", 5 + i), ("E", 3)]) for i in range(8)]
    charts.clear_cache()
    alone = [charts.pareto_chart_svg(bars, f"Chart {i}") for i, bars in enumerate(inputs)]
    charts.clear_cache()
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(
            pool.map(
                lambda item: charts.pareto_chart_svg(item[1], f"Chart {item[0]}"), enumerate(inputs)
            )
        )
    assert together == alone
