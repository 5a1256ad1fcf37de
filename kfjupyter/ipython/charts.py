"""The live metrics chart widget: one metric of a run, one line per pipeline step or training rank.

:class:`MetricsChart` holds a Dropdown of the run's metric names, a line naming the last value and
the chart itself in an ``Output`` widget: the Vega-Lite spec of :mod:`kfjupyter.charts` (the one
the Lab panel draws too), shown by JupyterLab's Vega renderer, with a text fallback. A metric
logged at one position only is shown as its number, not as a chart. While the run is active a
daemon thread re-reads the run's metrics every half second and redraws; it stops when the run
ends. ``%kf metrics RUN [METRIC]`` shows one.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from kfjupyter.charts import Chart, chart_data, metric_names, mime_bundle
from kfjupyter.charts.vegalite import number_text
from kfjupyter.ipython.live import Follower, LiveView
from kfjupyter.ipython.svg import badge, esc
from kfjupyter.store import MetricRecord, RunStore, default_home
from kfjupyter.store.models import ACTIVE_RUN_STATUSES


def summary_html(chart: Chart) -> str:
    """The line under the picker: each series' last value and where it was logged."""
    parts = []
    for series in chart.series:
        last = series.last
        if last is not None:
            parts.append(
                f"{esc(series.label)} <b class='kfjupyter-chart-last-value'>{number_text(last[1])}</b> "
                f"<span style='color:var(--jp-ui-font-color2)'>at {esc(chart.x_label)} {number_text(last[0])}</span>"
            )
    return "last: " + " · ".join(parts) if parts else ""


def message_output(message: str) -> dict[str, Any]:
    """An Output widget output holding one line of muted text."""
    text = f"<div class='kfjupyter-chart-empty' style='color:var(--jp-ui-font-color2)'>{esc(message)}</div>"
    return {"output_type": "display_data", "data": {"text/html": text, "text/plain": message}, "metadata": {}}


def single_output(chart: Chart) -> dict[str, Any]:
    """A metric logged at one position: its value (one per step or rank) as a number."""
    rows = "".join(
        f"<div class='kfjupyter-metric-single-row jp-kfjupyter-metric-single-row' data-series='{esc(s.label)}'>"
        + (
            f"<span style='color:var(--jp-ui-font-color2)'>{esc(s.label)}</span> "
            if len(chart.series) > 1
            else ""
        )
        + f"<b class='kfjupyter-metric-value jp-kfjupyter-metric-value' title='{esc(s.ys[-1])}' style='font-size:150%'>{number_text(s.ys[-1])}</b></div>"
        for s in chart.series
        if s.ys
    )
    html = f"<div class='kfjupyter-metric-single jp-kfjupyter-metric-single' data-metric='{esc(chart.metric)}'>{rows}</div>"
    text = ", ".join(f"{s.label} {s.ys[-1]}" for s in chart.series if s.ys)
    return {"output_type": "display_data", "data": {"text/html": html, "text/plain": text}, "metadata": {}}


def chart_output(chart: Chart, *, width: int, height: int) -> dict[str, Any]:
    """The chart as an Output widget output: the Vega-Lite bundle, or the number of a single value."""
    if chart.single:
        return single_output(chart)
    data, metadata = mime_bundle(chart, width=width, height=height)
    return {"output_type": "display_data", "data": data, "metadata": metadata}


class MetricsChart(LiveView):
    """Live chart of a run's metric history; display it in a cell."""

    def __init__(
        self,
        run_id: str,
        metric: str | None = None,
        *,
        poll_s: float = 0.5,
        home: Path | None = None,
        width: int = 480,
        height: int = 220,
    ) -> None:
        self.run_id = run_id
        self.home = home or default_home()
        self.width = width
        self.height = height
        self.status = "pending"
        self.picker = widgets.Dropdown(
            description="metric",
            options=[metric] if metric else [],
            value=metric or None,
            style={"description_width": "initial"},
        )
        self.picker.layout.width = "260px"
        self.state = widgets.HTML()
        self.summary = widgets.HTML()
        self.chart = widgets.Output()
        self.chart.outputs = (message_output("No metrics logged yet (kfjupyter.log_metric)."),)
        self.box = widgets.VBox([widgets.HBox([self.picker, self.state]), self.summary, self.chart])
        self.box.add_class("kfjupyter-metrics-chart")
        self._metrics: list[MetricRecord] = []
        self._lock = threading.RLock()
        self._updating = False
        self.picker.observe(self._picked, names="value")
        self._follower = Follower(
            f"kfjupyter-metrics-{run_id}",
            self.refresh,
            home=self.home,
            poll_s=poll_s,
            on_error=lambda error: setattr(self.state, "value", esc(error.message)),
        )

    @property
    def metric(self) -> str | None:
        """The metric shown now."""
        value = self.picker.value
        return str(value) if value is not None else None

    @property
    def names(self) -> list[str]:
        """The names of the metrics the run has logged so far."""
        return metric_names(self._metrics)

    def __str__(self) -> str:
        chart = chart_data(self._metrics, self.metric or "")
        lasts = ", ".join(f"{s.label} {number_text(s.last[1])}" for s in chart.series if s.last is not None)
        return f"{self.metric or 'no metrics'} of run {self.run_id}: last {lasts or '-'}"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.box._repr_mimebundle_(**kwargs) | {"text/plain": str(self)}

    def refresh(self, store: RunStore) -> bool:
        """Read the run and its metrics from ``store`` and redraw; return whether the run is active.

        Raises ``NotFound`` when there is no such run.
        """
        run = store.get_run(self.run_id)
        metrics = store.list_metrics(self.run_id)
        with self._lock:
            redraw = len(metrics) != len(self._metrics) or run.status != self.status
            self.status = run.status
            self.state.value = f"run <code class='kfjupyter-run-id'>{esc(run.id)}</code> {badge(run.status)}"
            self._metrics = metrics
            if self._set_options(metric_names(metrics)) or redraw:
                self._draw()
        return run.status in ACTIVE_RUN_STATUSES

    def _set_options(self, names: list[str]) -> bool:
        """Offer ``names`` in the picker, keeping the metric shown; return whether they changed."""
        current = self.metric
        wanted = names if current is None or current in names else [current, *names]
        if list(self.picker.options) == wanted:
            return False
        self._updating = True
        try:
            self.picker.options = wanted
            self.picker.value = current if current is not None else (wanted[0] if wanted else None)
        finally:
            self._updating = False
        return True

    def _picked(self, change: Any) -> None:
        if not self._updating:
            with self._lock:
                self._draw()

    def _draw(self) -> None:
        metric = self.metric
        if metric is None:
            active = self.status in ACTIVE_RUN_STATUSES
            self.summary.value = ""
            self.chart.outputs = (
                message_output(
                    "No metrics logged yet (kfjupyter.log_metric)."
                    if active
                    else "This run logged no metrics."
                ),
            )
            return
        chart = chart_data(self._metrics, metric)
        if not chart.series and self.status not in ACTIVE_RUN_STATUSES:
            known = ", ".join(metric_names(self._metrics)) or "none"
            self.summary.value = ""
            self.chart.outputs = (
                message_output(f"Run {self.run_id} has no metric {metric!r} (it has: {known})."),
            )
            return
        self.summary.value = summary_html(chart)
        self.chart.outputs = (chart_output(chart, width=self.width, height=self.height),)
