"""One metric chart as a Vega-Lite v5 spec, the same for the kernel widget and the Lab panel.

:func:`chart_spec` draws a :class:`~kfjupyter.charts.series.Chart` as lines, one colour per
series (step, rank or run) from a fixed palette that reads on light and dark backgrounds, with
round y ticks (``334k``, ``3.34M``, ``0.25``), integer x ticks, a tooltip on every point naming
its series, x and value (written as the Lab writes numbers), and a legend when there are several series. Vega sizes the view
to fit its labels (no clipping). Colours of text, axes and background come from the renderer's
theme: JupyterLab's Vega renderer picks Vega's dark theme in a dark JupyterLab theme; the spec
only makes the background transparent so it sits on the panel's own colour.
:func:`mime_bundle` wraps a spec for IPython display, with a text fallback.
"""

from __future__ import annotations

import math
from typing import Any

from kfjupyter.charts.series import Chart, thin

VEGALITE_MIME = "application/vnd.vegalite.v5+json"
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
#: Series colours in order (repeated past the end): Vega's category palette, legible on both themes.
PALETTE = (
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#e45756",
    "#72b7b2",
    "#b279a2",
    "#eeca3b",
    "#9d755d",
    "#ff9da6",
    "#bab0ac",
)
#: Series longer than this have their points hidden (still there, for tooltips).
MAX_MARKERS = 40
#: Y tick labels from 10 000 up use SI prefixes (``334k``, ``3.006M``), below it Vega's own labels.
Y_LABEL_EXPR = "abs(datum.value) >= 1e4 ? format(datum.value, '.{digits}~s') : datum.label"
#: Options for JupyterLab's Vega renderer (``metadata[mime].embed_options``): SVG, no action menu.
EMBED_OPTIONS: dict[str, Any] = {"actions": False, "renderer": "svg"}


def number_text(value: float) -> str:
    """A value as the Lab writes it everywhere (``formatNumber``): up to six significant digits.

    Integers in full, ``1.234e-5`` below 1e-4 and from 1e15, two decimals from 1e5 (``333833.5``).
    """
    if not math.isfinite(value):
        return {math.inf: "Infinity", -math.inf: "-Infinity"}.get(value, "NaN")
    size = abs(value)
    if value.is_integer() and size < 1e15:
        return str(int(value))
    if size >= 1e15 or (size != 0 and size < 1e-4):
        mantissa, exponent = f"{value:.4e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        power = int(exponent)
        return f"{mantissa}e{'+' if power >= 0 else '-'}{abs(power)}"
    short = round(value, 2) if size >= 1e5 else float(f"{value:.6g}")
    return str(int(short)) if short.is_integer() else repr(short)


def _x(value: float) -> float | int:
    return int(value) if value.is_integer() else value


def si_digits(values: list[float], ticks: int = 5) -> int:
    """Significant digits that keep about ``ticks`` SI-prefixed tick labels over ``values`` apart."""
    if not values:
        return 3
    low, high = min(values), max(values)
    size = max(abs(low), abs(high))
    step = (high - low) / ticks or size / 10 or 1.0
    wanted = math.floor(math.log10(size or 1.0)) - math.floor(math.log10(step)) + 1
    return min(12, max(3, wanted))


def chart_rows(chart: Chart) -> list[dict[str, Any]]:
    """The chart's values as Vega-Lite data rows; a non-finite value has ``y`` null (breaks the line)."""
    rows: list[dict[str, Any]] = []
    for series in chart.series:
        for i in thin(len(series.xs)):
            y = series.ys[i]
            rows.append(
                {
                    "series": series.label,
                    "x": _x(series.xs[i]),
                    "y": y if math.isfinite(y) else None,
                    "value": number_text(y),
                }
            )
    return rows


def chart_spec(chart: Chart, *, width: int = 360, height: int = 170, title: bool = False) -> dict[str, Any]:
    """The Vega-Lite v5 spec drawing ``chart`` (see the module docstring); JSON-ready."""
    labels = [s.label for s in chart.series]
    finite = [y for s in chart.series for y in s.ys if math.isfinite(y)]
    several = len(labels) > 1
    marked = max((len(s.xs) for s in chart.series), default=0) <= MAX_MARKERS
    integral = all(float(x).is_integer() for s in chart.series for x in s.xs)
    x_axis: dict[str, Any] = {"title": chart.x_label, "labelOverlap": True, "grid": False}
    if integral:
        x_axis |= {"format": "d", "tickMinStep": 1}
    colour: dict[str, Any] = {
        "field": "series",
        "type": "nominal",
        "title": chart.series_title,
        "scale": {"domain": labels, "range": [PALETTE[i % len(PALETTE)] for i in range(len(labels))]},
        "legend": {"orient": "bottom", "columns": 4, "labelLimit": 160, "symbolType": "stroke"}
        if several
        else None,
    }
    spec: dict[str, Any] = {
        "$schema": SCHEMA,
        "description": f"{chart.metric}: {chart.points} values",
        "width": width,
        "height": height,
        "background": "transparent",
        "data": {"values": chart_rows(chart)},
        "mark": {
            "type": "line",
            "strokeWidth": 2,
            "interpolate": "linear",
            "invalid": None,
            "tooltip": True,
            "point": {"filled": True, "size": 28, "opacity": 1 if marked else 0},
        },
        "encoding": {
            "x": {
                "field": "x",
                "type": "quantitative",
                "scale": {"zero": False, "nice": False},
                "axis": x_axis,
            },
            "y": {
                "field": "y",
                "type": "quantitative",
                "scale": {"zero": False},
                "axis": {
                    "title": None,
                    "labelExpr": Y_LABEL_EXPR.format(digits=si_digits(finite)),
                    "tickCount": 5,
                },
            },
            "color": colour,
            "tooltip": [
                {"field": "series", "type": "nominal", "title": chart.series_title},
                {"field": "x", "type": "quantitative", "title": chart.x_label},
                {"field": "value", "type": "nominal", "title": chart.metric},
            ],
        },
        "config": {"view": {"stroke": None}},
        "usermeta": {"kfjupyter": {"metric": chart.metric, "series": labels}},
    }
    if title:
        spec["title"] = {"text": chart.metric, "anchor": "start"}
    return spec


def text_summary(chart: Chart) -> str:
    """Plain text of the chart for frontends without Vega: each series' last value."""
    lasts = ", ".join(f"{s.label} {number_text(s.last[1])}" for s in chart.series if s.last is not None)
    return f"{chart.metric}: last {lasts or '-'}"


def mime_bundle(chart: Chart, **options: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(data, metadata)`` for IPython's display: the Vega-Lite spec plus a text/plain fallback."""
    data = {VEGALITE_MIME: chart_spec(chart, **options), "text/plain": text_summary(chart)}
    return data, {VEGALITE_MIME: {"embed_options": dict(EMBED_OPTIONS)}}
