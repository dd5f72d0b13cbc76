"""SVG charts shared by the pages and the PDF reports.

Every function takes plain numbers (no database, no request) and returns one `<svg>` element as a
string, ready to inline in HTML or hand to WeasyPrint. The output is deterministic: the same input
gives byte-identical SVG (fixed id salt, no timestamp, text kept as text), so reports can be
compared and cached. Labels are data, never markup: matplotlib escapes them, and math parsing is
off so a `$` in a category name stays a dollar sign. The SVG holds no script.

Colours follow the app's palette; every chart also has a title and a text alternative (`<title>`),
and callers show the same numbers in a table or CSV.

Speed (docs/benchmarks.md, "Dashboard charts"): a cold chart is almost all matplotlib drawing its
ticks, so everything around that is cut. Each chart kind is drawn on a figure kept per process
(`_Canvas`): building a Figure, its Axes and their ticks cost more than drawing a small chart, so
after saving, `wipe` removes what the chart added and restores the axes' limits, and the next chart
of that kind starts exactly where a new figure would (the SVG is byte-identical). Margins are fixed
(constrained layout measured every label twice); the title and the y axis label are placed
directly instead of matplotlib laying out every tick label again to find room; tick labels are
kept out of layout, so each is laid out once less per save; figures are at 72 dpi, the SVG
writer's own, so a save does not switch the dpi and invalidate every transform twice; bars are one
PolyCollection per series rather than a Rectangle artist per bar. One chart is drawn at a time per
process: matplotlib's rcParams are global, and drawing is CPU-bound anyway.

A chart is a pure function of its inputs, so the SVG of the last CHART_CACHE_SIZE distinct inputs
is kept per process: a dashboard whose figures did not change draws nothing again. The key is the
inputs themselves, so no write can make an entry stale. It is not shared between workers: a store
of rendered SVG would need writes during read-only requests and a way to expire entries when the
drawing code changes, to save one ~20 ms draw per chart per worker.
"""

from __future__ import annotations

import functools
import io
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import matplotlib

matplotlib.use("Agg")

from matplotlib import rc_context, rcParams
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import text_to_path
from matplotlib.ticker import MaxNLocator, PercentFormatter
from matplotlib.transforms import ScaledTranslation

from app.core.spc import ChartPoint, ControlLimits, ParetoBar

PRIMARY = "#0f5c6e"
ACCENT = "#d9822b"
DANGER = "#b42318"
MUTED = "#6b7280"
GRID = "#e5e7eb"

_RC = {
    "svg.hashsalt": "loop-qms",
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": MUTED,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": GRID,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
}

_ROOT_SIZE = re.compile(r'<svg([^>]*?)\swidth="[^"]*"\s+height="[^"]*"')
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="([^"]*)"')
_STYLE_ELEMENT = re.compile(r"<style[^>]*>\s*\*\{([^}]*)\}\s*</style>")


CHART_CACHE_SIZE = 256
# At most five intervals (six values) on a value axis: each tick is a mark, a grid line and a
# label laid out on every save (most of a chart's drawing time), and six values are as many as a
# reader uses to read a bar's height off a dashboard chart.
Y_INTERVALS = 5


@dataclass(frozen=True)
class Margins:
    """Where the axes sit, as fractions of the figure (matplotlib's `subplots_adjust`)."""

    left: float = 0.1
    right: float = 0.97
    bottom: float = 0.12
    top: float = 0.89


PLAIN = Margins()
# Room for labels rotated by 35 degrees (at most 22 characters, the first reaching left of the
# axes) and for the share axis on the right.
PARETO = Margins(left=0.17, bottom=0.34, right=0.89)
# No axes drawn: boxes and lines on the whole figure, below the title and column headings.
DIAGRAM = Margins(left=0.02, right=0.98, bottom=0.03, top=0.78)


@dataclass
class CacheInfo:
    hits: int = 0
    drawn: int = 0


_cache: OrderedDict[tuple[str, str], str] = OrderedDict()
_cache_lock = threading.Lock()
_cache_info = CacheInfo()
F = TypeVar("F", bound=Callable[..., str])


def cache_info() -> CacheInfo:
    """How many charts were served from the cache and how many were drawn, in this process."""
    return CacheInfo(_cache_info.hits, _cache_info.drawn)


def clear_cache(*, canvases: bool = False) -> None:
    """Forget every chart drawn; with `canvases`, also the figures kept to draw on (as in a new
    process)."""
    with _cache_lock:
        _cache.clear()
    if canvases:
        with _draw_lock:
            _canvases.clear()


def _memoised(function: F) -> F:
    """Keep the SVG per distinct input. The inputs are plain values (numbers, strings, frozen
    dataclasses of numbers) whose `repr` is exact, so equal reprs mean the same chart."""

    @functools.wraps(function)
    def cached(*args: Any, **kwargs: Any) -> str:
        key = (function.__name__, repr((args, sorted(kwargs.items()))))
        with _cache_lock:
            svg = _cache.get(key)
            if svg is not None:
                _cache.move_to_end(key)
                _cache_info.hits += 1
                return svg
        svg = function(*args, **kwargs)
        with _cache_lock:
            _cache[key] = svg
            _cache_info.drawn += 1
            while len(_cache) > CHART_CACHE_SIZE:
                _cache.popitem(last=False)
        return svg

    return cached  # type: ignore[return-value]


def _figure(margins: Margins = PLAIN, width: float = 7.0, height: float = 3.2) -> Figure:
    # 72 dpi is the SVG writer's own resolution: at any other figure dpi it switches the figure to
    # 72 and back around every save, and each switch invalidates every transform in the figure.
    figure = Figure(figsize=(width, height), dpi=72)
    figure.subplots_adjust(
        left=margins.left, right=margins.right, bottom=margins.bottom, top=margins.top
    )
    return figure


@dataclass
class _Canvas:
    """A figure kept between charts of one kind, with what `build` set on it (margins, axes,
    locators, fixed limits). A chart draws its data on it, is saved, and `wipe` takes the data
    away again: every artist the chart added, and the axes' limits back to what `build` left, so
    the next chart starts exactly where a new figure would. Creating the figure, its axes and
    their ticks costs more than drawing a small chart."""

    figure: Figure
    axes: Axes
    share: Axes | None = None  # the Pareto chart's right-hand share axis
    _built: list[tuple[Axes, bool, bool, tuple[float, float], tuple[float, float]]] = field(
        default_factory=list
    )

    def __post_init__(self) -> None:
        for axes in self._every_axes():
            axes.xaxis.set_label_coords(0.5, 0)  # no x label: skip measuring the tick labels
            self._built.append(
                (
                    axes,
                    axes.get_autoscalex_on(),
                    axes.get_autoscaley_on(),
                    axes.get_xlim(),
                    axes.get_ylim(),
                )
            )

    def _every_axes(self) -> list[Axes]:
        return [self.axes] if self.share is None else [self.axes, self.share]

    def wipe(self) -> None:
        for axes, auto_x, auto_y, xlim, ylim in self._built:
            for container in list(axes.containers):
                container.remove()
            for artist in [*axes.lines, *axes.patches, *axes.collections, *axes.texts]:
                artist.remove()
            if (legend := axes.get_legend()) is not None:
                legend.remove()
            axes.relim()
            axes.set_xlim(xlim, auto=auto_x)
            axes.set_ylim(ylim, auto=auto_y)


# Matplotlib's rcParams are global and its figures are not thread-safe: one chart is drawn at a
# time per process. Drawing is CPU-bound Python, so the lock costs no throughput.
_draw_lock = threading.Lock()
_canvases: dict[str, _Canvas] = {}


@contextmanager
def _canvas(kind: str, build: Callable[[], _Canvas]) -> Iterator[_Canvas]:
    """The kept canvas of `kind` (built the first time) for the duration of one chart. A chart
    that fails leaves its canvas out: what it holds is then unknown."""
    with _draw_lock, rc_context(_RC):
        canvas = _canvases.pop(kind, None) or build()
        yield canvas
        canvas.wipe()
        _canvases[kind] = canvas


def _bars(
    axes: Axes,
    xs: Sequence[float],
    heights: Sequence[float],
    colours: Sequence[str] | str,
    width: float,
    label: str | None = None,
) -> None:
    """Vertical bars from zero, as one collection: what `Axes.bar` draws (no edge, the value axis
    starting at zero without a margin), without a Rectangle artist per bar to create, fit into the
    limits and draw one by one."""
    half = width / 2
    corners = [
        ((x - half, 0), (x + half, 0), (x + half, h), (x - half, h))
        for x, h in zip(xs, heights, strict=True)
    ]
    bars = PolyCollection(
        corners,
        facecolors=colours,
        edgecolors="none",
        linewidths=0,
        label=label,
    )
    bars.sticky_edges.y.append(0)
    axes.add_collection(bars)


def _titled(axes: Axes, title: str, pad: float | None = None) -> None:
    # An explicit y keeps the title where matplotlib would put it (the x axis is at the bottom)
    # without measuring every axis of the figure to check.
    axes.set_title(title, y=1.0, pad=pad)


@functools.lru_cache(maxsize=1024)
def _tick_label_width(text: str) -> float:
    """Width in points of a y tick label (rcParams as in `_RC`: the key is the text alone)."""
    font = FontProperties(size=rcParams["ytick.labelsize"])
    return text_to_path.get_text_width_height_descent(text, font, ismath=False)[0]


def _y_label(axes: Axes, text: str) -> None:
    """The y axis label, where matplotlib would put it: `labelpad` beyond the widest tick label.
    Matplotlib finds that place by laying out every tick label once more at each save (an eighth
    of a chart's time); the widest label is measured here with the same font metrics instead."""
    axis = axes.yaxis
    axis.set_label_text(text)
    ticks = axis.major.formatter.format_ticks(axis.get_majorticklocs())
    widest = max((_tick_label_width(tick) for tick in ticks), default=0.0)
    points = rcParams["ytick.major.size"] + rcParams["ytick.major.pad"] + widest + axis.labelpad
    right = axis.get_label_position() == "right"
    figure = axes.get_figure(root=True)
    assert figure is not None
    offset = ScaledTranslation((points if right else -points) / 72, 0, figure.dpi_scale_trans)
    axis.set_label_coords(1.0 if right else 0.0, 0.5, axes.transAxes + offset)


def _to_svg(figure: Figure, title: str) -> str:
    """The figure as one inline `<svg>` element: no XML prolog, scalable, titled for assistive
    technology. Called inside `rc_context(_RC)`."""
    # Tick labels take no part in layout: the margins are fixed and `_y_label` places the y label.
    # Out of it, matplotlib no longer lays each one out once more per save to find where an x
    # axis' offset text would go (these x axes have fixed labels, so never one).
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis):
            for tick in axis.get_major_ticks():
                tick.label1.set_in_layout(False)
                tick.label2.set_in_layout(False)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = _without_inline_style(text)
    text = _ROOT_SIZE.sub(r'<svg\1 width="100%" role="img"', text, count=1)
    head_end = text.index(">") + 1
    return f"{text[:head_end]}<title>{_escape(title)}</title>{text[head_end:]}"


def _presentation_attributes(declarations: str) -> str:
    """`fill: #fff; stroke-width: 0.8` as ` fill="#fff" stroke-width="0.8"`."""
    pairs = (part.split(":", 1) for part in declarations.split(";") if ":" in part)
    return "".join(f' {name.strip()}="{value.strip()}"' for name, value in pairs)


def _without_inline_style(text: str) -> str:
    """Matplotlib styles its SVG with `style` attributes and a `<style>` element, which the
    page's Content Security Policy (`style-src 'self'`) blocks. Every property it writes is also
    an SVG presentation attribute, which CSP does not govern: move them there."""
    root_style = _STYLE_ELEMENT.search(text)
    text = _STYLE_ELEMENT.sub("", text)
    text = _STYLE_ATTRIBUTE.sub(lambda match: _presentation_attributes(match.group(1)), text)
    if root_style:
        text = text.replace("<svg", "<svg" + _presentation_attributes(root_style.group(1)), 1)
    return text


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _shorten(label: str, limit: int = 22) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _empty_svg(
    title: str,
    message: str = "No data for this selection",
    margins: Margins = PLAIN,
    size: tuple[float, float] = (7.0, 3.2),
    pad: float | None = None,
) -> str:
    """A chart with nothing to draw says so, on a figure of its own (rare enough not to keep)."""
    with _draw_lock, rc_context(_RC):
        figure = _figure(margins, *size)
        axes = figure.add_subplot()
        _titled(axes, title, pad)
        if margins is DIAGRAM:
            axes.set_axis_off()
        axes.set_xticks([])
        axes.set_yticks([])
        axes.text(
            0.5, 0.5, message, ha="center", va="center", color=MUTED, transform=axes.transAxes
        )
        return _to_svg(figure, title)


def _plain(integer_y: bool = False, percent: bool = False) -> Callable[[], _Canvas]:
    def build() -> _Canvas:
        axes = _figure().add_subplot()
        axes.yaxis.set_major_locator(MaxNLocator(nbins=Y_INTERVALS, integer=integer_y))
        if percent:
            axes.yaxis.set_major_formatter(PercentFormatter(1.0))
            axes.set_ylim(0, 1.05)
        return _Canvas(axes.get_figure(), axes)

    return build


def _pareto_canvas() -> _Canvas:
    axes = _figure(PARETO).add_subplot()
    axes.tick_params(axis="x", labelrotation=35)
    axes.yaxis.set_major_locator(MaxNLocator(nbins=Y_INTERVALS, integer=True))
    share_axes = axes.twinx()
    share_axes.set_ylim(0, 1.05)
    share_axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    share_axes.grid(False)
    share_axes.spines["right"].set_visible(True)
    _y_label(share_axes, "Cumulative share")
    return _Canvas(axes.get_figure(), axes, share_axes)


def pareto_chart_svg(
    bars: Sequence[ParetoBar],
    title: str,
    label: Callable[[Hashable], str] = str,
    y_label: str = "Count",
) -> str:
    """Bars in Pareto order (as `app.core.spc.pareto` returns them) with the cumulative share as a
    line on a 0–100 % axis and the 80 % cut drawn; vital-few bars are dark, the rest light."""
    shown = tuple(
        (_shorten(label(bar.key)), bar.count, bar.cumulative_share, bar.vital_few) for bar in bars
    )
    return _pareto_svg(shown, title, y_label)


@_memoised
def _pareto_svg(bars: tuple[tuple[str, int, float, bool], ...], title: str, y_label: str) -> str:
    if not bars:
        return _empty_svg(title, margins=PARETO)
    with _canvas("pareto", _pareto_canvas) as canvas:
        axes, share_axes = canvas.axes, canvas.share
        assert share_axes is not None
        _titled(axes, title)
        positions = list(range(len(bars)))
        colours = [PRIMARY if vital_few else "#9cc3cc" for _, _, _, vital_few in bars]
        _bars(axes, positions, [count for _, count, _, _ in bars], colours, 0.7)
        axes.set_xticks(positions, [name for name, _, _, _ in bars], ha="right")
        _y_label(axes, y_label)
        share_axes.plot(
            positions, [share for _, _, share, _ in bars], color=ACCENT, marker="o", ms=3
        )
        share_axes.axhline(0.8, color=ACCENT, linestyle="--", linewidth=0.8)
        return _to_svg(canvas.figure, title)


@_memoised
def control_chart_svg(
    points: Sequence[ChartPoint],
    limits: ControlLimits,
    labels: Sequence[str],
    title: str,
    y_label: str = "Count",
) -> str:
    """A c-chart: the counts as a line, centre line and 3-sigma limits, points out of control
    (beyond a limit or in a run above the centre) marked in red, partial periods hollow and dotted
    (never judged). `labels` name the periods."""
    if not points:
        return _empty_svg(title)
    with _canvas("line", _plain()) as canvas:
        axes = canvas.axes
        _titled(axes, title)
        xs = [point.index for point in points]
        whole = [point for point in points if not point.partial]
        partial = [point for point in points if point.partial]
        axes.plot(
            [point.index for point in whole],
            [point.count for point in whole],
            color=PRIMARY,
            marker="o",
            ms=3,
            lw=1.2,
        )
        if partial:
            # Drawn apart (dotted, hollow) so nobody reads a short period's low count as a drop.
            joined = ([whole[-1]] if whole else []) + partial
            axes.plot(
                [point.index for point in joined],
                [point.count for point in joined],
                color=MUTED,
                linestyle=":",
                lw=1.2,
            )
            axes.scatter(
                [point.index for point in partial],
                [point.count for point in partial],
                facecolors="white",
                edgecolors=MUTED,
                zorder=3,
                s=24,
                label="Partial period (not judged)",
            )
        axes.axhline(limits.centre, color=MUTED, linewidth=1)
        axes.axhline(limits.upper, color=DANGER, linestyle="--", linewidth=0.9)
        axes.axhline(limits.lower, color=DANGER, linestyle="--", linewidth=0.9)
        right = xs[-1] + 0.3
        for value, name in ((limits.upper, "UCL"), (limits.centre, "CL"), (limits.lower, "LCL")):
            axes.text(right, value, f" {name} {value:.1f}", va="center", color=MUTED, fontsize=8)
        flagged = [point for point in points if point.out_of_control]
        if flagged:
            axes.scatter(
                [point.index for point in flagged],
                [point.count for point in flagged],
                color=DANGER,
                zorder=3,
                s=28,
                label="Out of control",
            )
        if flagged or partial:
            axes.legend(loc="upper left", frameon=False)
        step = max(1, math.ceil(len(xs) / 7))
        axes.set_xticks(xs[::step], [labels[i] for i in xs[::step]])
        axes.set_xlim(xs[0] - 0.5, xs[-1] + 2.5)
        axes.set_ylim(bottom=0)
        _y_label(axes, y_label)  # after the limits: it measures the tick labels
        return _to_svg(canvas.figure, title)


@_memoised
def trend_chart_svg(
    labels: Sequence[str],
    values: Sequence[float | None],
    title: str,
    y_label: str = "",
) -> str:
    """A line over periods; a missing value (None) leaves a gap rather than a fake zero."""
    if not labels or all(value is None for value in values):
        return _empty_svg(title)
    with _canvas("line", _plain()) as canvas:
        axes = canvas.axes
        _titled(axes, title)
        xs = list(range(len(labels)))
        ys = [float("nan") if value is None else value for value in values]
        axes.plot(xs, ys, color=PRIMARY, marker="o", ms=3, lw=1.2)
        step = max(1, math.ceil(len(xs) / 7))
        axes.set_xticks(xs[::step], [labels[i] for i in xs[::step]])
        axes.set_ylim(bottom=0)
        _y_label(axes, y_label)
        return _to_svg(canvas.figure, title)


@_memoised
def bar_chart_svg(
    bars: Sequence[tuple[str, float]],
    title: str,
    y_label: str = "Count",
    highlight: Sequence[str] = (),
) -> str:
    """Plain vertical bars in the order given (e.g. CAPA ageing buckets, RPN bands); bars named
    in `highlight` are drawn in the warning colour."""
    if not bars or not any(value for _, value in bars):
        return _empty_svg(title)
    with _canvas("bar", _plain(integer_y=True)) as canvas:
        axes = canvas.axes
        _titled(axes, title)
        positions = list(range(len(bars)))
        colours = [DANGER if name in highlight else PRIMARY for name, _ in bars]
        _bars(axes, positions, [value for _, value in bars], colours, 0.6)
        axes.set_xticks(positions, [_shorten(name) for name, _ in bars])
        _y_label(axes, y_label)
        return _to_svg(canvas.figure, title)


@_memoised
def grouped_bar_chart_svg(
    groups: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    title: str,
    y_label: str = "",
    percent: bool = False,
) -> str:
    """Side-by-side bars: one group per name in `groups`, one bar per (series name, values)."""
    if not groups or not series:
        return _empty_svg(title)
    kind = "grouped-percent" if percent else "grouped"
    with _canvas(kind, _plain(percent=percent)) as canvas:
        axes = canvas.axes
        _titled(axes, title)
        palette = [PRIMARY, ACCENT, MUTED, DANGER]
        width = 0.8 / len(series)
        for offset, (name, values) in enumerate(series):
            xs = [index + (offset - (len(series) - 1) / 2) * width for index in range(len(groups))]
            _bars(
                axes,
                xs,
                [0 if value is None else value for value in values],
                palette[offset % len(palette)],
                width,
                label=name,
            )
        axes.set_xticks(list(range(len(groups))), list(groups))
        _y_label(axes, y_label)
        axes.legend(frameon=False, fontsize=8)
        return _to_svg(canvas.figure, title)


_SVG_ID = re.compile(r'(\sid="|url\(#|href="#)([^")]+)')


def scoped_svg(svg: str, prefix: str) -> str:
    """`svg` with every id (and every reference to one) prefixed: matplotlib numbers its ids the
    same way in every figure, and one HTML document must not define an id twice."""
    return _SVG_ID.sub(lambda match: f"{match.group(1)}{prefix}-{match.group(2)}", svg)


def _diagram_canvas() -> _Canvas:
    axes = _figure(DIAGRAM, width=8.0).add_subplot()
    axes.set_axis_off()
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.08)
    return _Canvas(axes.get_figure(), axes)


@_memoised
def operating_model_svg(
    departments: Sequence[tuple[str, Sequence[str], Sequence[str]]],
    recoveries: Sequence[str],
    title: str,
) -> str:
    """The operating model as three columns joined by lines: the processes (left) each
    department (middle) runs, and the recoveries (right) it owns. `departments` is
    (name, process names, recovery names); a recovery nobody owns is drawn in the warning
    colour."""
    processes = sorted({name for _, names, _ in departments for name in names})
    rows = max(len(processes), len(departments), len(recoveries), 1)
    size = (8.0, max(2.4, 0.42 * rows + 0.9))
    if not departments:
        return _empty_svg(title, "No departments yet", DIAGRAM, size, pad=14)
    with _canvas("model", _diagram_canvas) as canvas:
        axes = canvas.axes
        canvas.figure.set_size_inches(size)
        _titled(axes, title, pad=14)  # clear of the column headings

        def spread(count: int) -> list[float]:
            return [1 - (index + 0.5) / count for index in range(count)]

        x_process, x_department, x_recovery = 0.12, 0.5, 0.88
        y_process = dict(zip(processes, spread(len(processes)), strict=True))
        y_department = spread(len(departments))
        y_recovery = dict(zip(recoveries, spread(len(recoveries)), strict=True))
        owned = {name for _, _, names in departments for name in names}
        for (name, names, owns), y in zip(departments, y_department, strict=True):
            for process in names:
                axes.plot(
                    [x_process + 0.1, x_department - 0.11],
                    [y_process[process], y],
                    color=GRID,
                    linewidth=1.2,
                )
            for recovery in owns:
                if recovery in y_recovery:
                    axes.plot(
                        [x_department + 0.11, x_recovery - 0.08],
                        [y, y_recovery[recovery]],
                        color=ACCENT,
                        linewidth=1.2,
                    )
            axes.text(
                x_department,
                y,
                _shorten(name, 26),
                ha="center",
                va="center",
                color="white",
                bbox={"boxstyle": "round,pad=0.4", "facecolor": PRIMARY, "edgecolor": PRIMARY},
            )
        for process, y in y_process.items():
            axes.text(
                x_process,
                y,
                _shorten(process, 24),
                ha="center",
                va="center",
                bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": MUTED},
            )
        for recovery, y in y_recovery.items():
            colour = ACCENT if recovery in owned else DANGER
            axes.text(
                x_recovery,
                y,
                recovery if recovery in owned else f"{recovery} (no owner)",
                ha="center",
                va="center",
                bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": colour},
                color=colour if recovery not in owned else "black",
            )
        for x, heading in (
            (x_process, "Processes"),
            (x_department, "Departments"),
            (x_recovery, "Recoveries"),
        ):
            axes.text(x, 1.04, heading, ha="center", va="bottom", color=MUTED, fontweight="bold")
        return _to_svg(canvas.figure, title)
