"""The metric chart as pure data and inline SVG: series from metric records, ticks, the drawing.

:func:`chart_data` groups one metric's records into one :class:`Series` per pipeline step (in the
order they first logged) or training rank (by number). The x axis is the recorded index (the
``step=`` of ``log_metric``, a training step or epoch) when every series has distinct indexes,
else the order the values were logged. :func:`chart_svg` draws the series as lines with axis ticks
and a legend holding each series' last value. No I/O and no widgets: records in, a string out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from kfjupyter.ipython.svg import AXIS, FONT, GRID, MUTED, SERIES_COLOURS, TEXT, esc, fmt, shorten
from kfjupyter.store import MetricRecord

#: Above this many points in a series only its line (and its last point) is marked.
MAX_MARKERS = 40
#: Longer series are thinned to about this many evenly spaced points (the last always kept).
MAX_LINE_POINTS = 600
LEGEND_WIDTH = 150
MARGIN_LEFT, MARGIN_TOP, MARGIN_BOTTOM = 56, 12, 34
LEGEND_ROW = 16
_RANK = re.compile(r"rank-\d+")
_Axis = Callable[[float], float]


@dataclass(frozen=True)
class Series:
    """The values one step or rank logged for a metric, in x order."""

    label: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]

    @property
    def last(self) -> tuple[float, float] | None:
        """The last (x, y) point, if any."""
        return (self.xs[-1], self.ys[-1]) if self.xs else None


@dataclass(frozen=True)
class Chart:
    """One metric's series and what its x axis counts."""

    metric: str
    series: tuple[Series, ...]
    x_label: str

    @property
    def points(self) -> int:
        """How many values the chart holds."""
        return sum(len(s.xs) for s in self.series)


def metric_names(metrics: Iterable[MetricRecord]) -> list[str]:
    """The distinct metric names, sorted."""
    return sorted({m.name for m in metrics})


def chart_data(metrics: Iterable[MetricRecord], metric: str) -> Chart:
    """Group the records of ``metric`` by step (or rank); see the module docstring for the x axis."""
    groups: dict[str, list[MetricRecord]] = {}
    for record in metrics:
        if record.name == metric:
            groups.setdefault(record.step or "run", []).append(record)
    indexed = all(len({r.index for r in rs}) == len(rs) for rs in groups.values())
    series = []
    for label in _series_order(groups):
        if indexed:
            records = sorted(groups[label], key=lambda r: (r.index, r.ts))
            xs = tuple(float(r.index) for r in records)
        else:
            records = sorted(groups[label], key=lambda r: r.ts)
            xs = tuple(float(i) for i in range(len(records)))
        series.append(Series(label, xs, tuple(r.value for r in records)))
    return Chart(metric, tuple(series), "step" if indexed else "value #")


def _series_order(groups: dict[str, list[MetricRecord]]) -> list[str]:
    """Ranks by number (``rank-2`` before ``rank-10``); steps in the order they first logged."""
    if all(_RANK.fullmatch(label) for label in groups):
        return sorted(groups, key=lambda label: int(label.rsplit("-", 1)[1]))
    return sorted(groups, key=lambda label: (min(r.ts for r in groups[label]), label))


def nice_ticks(low: float, high: float, count: int = 5, *, integer: bool = False) -> list[float]:
    """About ``count`` round tick values (1, 2 or 5 times a power of ten) covering ``[low, high]``."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high < low:
        low, high = high, low
    if high == low:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))
    if integer:
        step = float(max(1, round(step)))
    first = math.floor(low / step + 1e-9) * step
    ticks: list[float] = []
    value = first
    while value <= high + step * (1 - 1e-9) and len(ticks) < 4 * count:
        ticks.append(0.0 if abs(value) < step * 1e-9 else round(value, 12))
        if value >= high - step * 1e-9:
            break
        value = first + len(ticks) * step
    return ticks


def _scale(value: float, low: float, high: float, start: float, end: float) -> float:
    return (start + end) / 2 if high == low else start + (value - low) / (high - low) * (end - start)


def _path(points: Sequence[tuple[float, float, float]]) -> str:
    """An SVG path through the points; a non-finite value breaks the line."""
    parts: list[str] = []
    pen_down = False
    for x, y, value in points:
        if not math.isfinite(value):
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{x:.1f} {y:.1f}")
        pen_down = True
    return " ".join(parts)


def empty_svg(message: str, *, width: int = 560, height: int = 60) -> str:
    """A placeholder picture holding one line of text."""
    return (
        f'<svg class="kfjupyter-chart kfjupyter-chart-empty" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" style="{FONT}">'
        f'<text x="8" y="{height // 2}" style="fill:{MUTED}">{esc(message)}</text></svg>'
    )


def chart_svg(chart: Chart, *, width: int = 560, height: int = 260) -> str:
    """The chart as one ``<svg>`` element: grid, ticks, one line per series and a legend."""
    finite = [(x, y) for s in chart.series for x, y in zip(s.xs, s.ys, strict=True) if math.isfinite(y)]
    if not finite:
        return empty_svg(f"No values of {chart.metric} yet.", width=width)
    xs = [x for x, _ in finite]
    ys = [y for _, y in finite]
    x_ticks = nice_ticks(min(xs), max(xs), 6, integer=True)
    y_ticks = nice_ticks(min(ys), max(ys), 5)
    x_lo, x_hi = x_ticks[0], x_ticks[-1]
    y_lo, y_hi = y_ticks[0], y_ticks[-1]
    left, top = MARGIN_LEFT, MARGIN_TOP
    right, bottom = width - LEGEND_WIDTH - 12, height - MARGIN_BOTTOM

    def at_x(x: float) -> float:
        return _scale(x, x_lo, x_hi, left, right)

    def at_y(y: float) -> float:
        return _scale(y, y_lo, y_hi, bottom, top)

    out = [
        f'<svg class="kfjupyter-chart" data-metric="{esc(chart.metric)}" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{esc(chart.metric)}: {chart.points} values" style="{FONT};max-width:100%;height:auto">',
        f"<title>{esc(chart.metric)}</title>",
    ]
    for t in y_ticks:
        y = at_y(t)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" style="stroke:{GRID}"/>'
            f'<text class="kfjupyter-chart-ytick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'style="fill:{MUTED}">{fmt(t)}</text>'
        )
    for t in x_ticks:
        x = at_x(t)
        out.append(
            f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}" style="stroke:{AXIS}"/>'
            f'<text class="kfjupyter-chart-xtick" x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" '
            f'style="fill:{MUTED}">{fmt(t)}</text>'
        )
    out.append(
        f'<path class="kfjupyter-chart-axis" d="M{left} {top} V{bottom} H{right}" '
        f'style="fill:none;stroke:{AXIS}"/>'
        f'<text x="{(left + right) / 2:.1f}" y="{height - 4}" text-anchor="middle" '
        f'style="fill:{MUTED}">{esc(chart.x_label)}</text>'
    )
    for i, series in enumerate(chart.series):
        out.append(_series_svg(series, SERIES_COLOURS[i % len(SERIES_COLOURS)], at_x, at_y))
    out.append(_legend(chart.series, x=right + 14, top=top, bottom=bottom))
    out.append("</svg>")
    return "".join(out)


def thin(count: int, limit: int = MAX_LINE_POINTS) -> list[int]:
    """Positions of at most about ``limit`` evenly spaced points out of ``count``, always the last."""
    if count <= limit:
        return list(range(count))
    stride = math.ceil(count / limit)
    kept = list(range(0, count, stride))
    return kept if kept[-1] == count - 1 else [*kept, count - 1]


def _series_svg(series: Series, colour: str, at_x: _Axis, at_y: _Axis) -> str:
    kept = [(series.xs[i], series.ys[i]) for i in thin(len(series.xs))]
    points = [(at_x(x), at_y(y) if math.isfinite(y) else 0.0, y) for x, y in kept]
    label = esc(series.label)
    parts = [
        f'<g class="kfjupyter-chart-series" data-series="{label}">',
        f'<path class="kfjupyter-chart-line" data-series="{label}" d="{_path(points)}" '
        f'style="fill:none;stroke:{colour};stroke-width:2;stroke-linejoin:round"/>',
    ]
    finite = [(px, py, x, y) for (px, py, _), (x, y) in zip(points, kept, strict=True) if math.isfinite(y)]
    for px, py, x, y in finite if len(finite) <= MAX_MARKERS else finite[-1:]:
        parts.append(
            f'<circle class="kfjupyter-chart-point" cx="{px:.1f}" cy="{py:.1f}" r="2.5" '
            f'style="fill:{colour}"><title>{label} {fmt(x)}: {fmt(y)}</title></circle>'
        )
    parts.append("</g>")
    return "".join(parts)


def _legend(series: Sequence[Series], *, x: float, top: float, bottom: float) -> str:
    rows = max(1, int((bottom - top) // LEGEND_ROW))
    shown = series if len(series) <= rows else series[: rows - 1]
    parts = ['<g class="kfjupyter-chart-legend">']
    for i, one in enumerate(shown):
        y = top + 8 + i * LEGEND_ROW
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        last = one.last
        parts.append(
            f'<g class="kfjupyter-chart-legend-item" data-series="{esc(one.label)}">'
            f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + 14:.1f}" y2="{y:.1f}" '
            f'style="stroke:{colour};stroke-width:3"/>'
            f'<text x="{x + 19:.1f}" y="{y + 4:.1f}" style="fill:{TEXT}">{esc(shorten(one.label, 12))}'
            f"<title>{esc(one.label)}</title></text>"
            f'<text class="kfjupyter-chart-last" data-series="{esc(one.label)}" x="{x + LEGEND_WIDTH - 12:.1f}" '
            f'y="{y + 4:.1f}" text-anchor="end" style="fill:{TEXT};font-weight:bold">'
            f"{fmt(last[1]) if last else ''}</text></g>"
        )
    if len(shown) < len(series):
        y = top + 8 + len(shown) * LEGEND_ROW
        parts.append(
            f'<text x="{x:.1f}" y="{y + 4:.1f}" style="fill:{MUTED}">+{len(series) - len(shown)} more</text>'
        )
    parts.append("</g>")
    return "".join(parts)
