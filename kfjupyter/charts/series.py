"""A metric's records grouped into series: one per pipeline step or training rank, or one per run.

:func:`chart_data` groups one run's records of a metric into one :class:`Series` per step (in the
order they first logged) or training rank (by number). The x axis is the recorded index (the
``step=`` of ``log_metric``, a training step or epoch) when every series has distinct indexes,
else the order the values were logged. :func:`compare_data` makes one series per run for the
compare view (the last value written at each index). A chart whose series hold one x position
at most is a single value: front doors show it as a number, not as a chart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kfjupyter.store import MetricRecord

#: Longer series are thinned to about this many evenly spaced points (the last always kept).
MAX_LINE_POINTS = 600
_RANK = re.compile(r"rank-\d+")


@dataclass(frozen=True)
class Series:
    """The values one step, rank or run logged for a metric, in x order."""

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
    #: What one series is: ``pipeline step``, ``rank`` or ``run``.
    series_title: str = "pipeline step"

    @property
    def points(self) -> int:
        """How many values the chart holds."""
        return sum(len(s.xs) for s in self.series)

    @property
    def single(self) -> bool:
        """True when there is no history to draw: every value sits at one x position (or none)."""
        return len({x for s in self.series for x in s.xs}) <= 1


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
    kind = "rank" if groups and all(_RANK.fullmatch(label) for label in groups) else "pipeline step"
    return Chart(metric, tuple(series), "step" if indexed else "value #", kind)


def compare_data(runs: Sequence[tuple[str, Sequence[MetricRecord]]], metric: str) -> Chart:
    """One series per ``(label, records)`` run: its last value of ``metric`` at each index.

    A run that did not log ``metric`` keeps an empty series, so each run has the same colour in
    every chart of a comparison.
    """
    series = []
    for label, records in runs:
        by_index: dict[int, MetricRecord] = {}
        for record in sorted((r for r in records if r.name == metric), key=lambda r: (r.index, r.ts)):
            by_index[record.index] = record
        kept = [by_index[i] for i in sorted(by_index)]
        series.append(Series(label, tuple(float(r.index) for r in kept), tuple(r.value for r in kept)))
    return Chart(metric, tuple(series), "step", "run")


def run_labels(runs: Sequence[tuple[str, str]], limit: int = 24) -> list[str]:
    """Short distinct legend labels for ``(name, run id)`` pairs: ``name #abcd`` (the id's end).

    Long names are cut with an ellipsis so the id stays in view; when two labels would still be
    equal, the full run id is used instead.
    """
    labels = [f"{_shorten(name, limit)} #{run_id.rsplit('-', 1)[-1]}" for name, run_id in runs]
    return [
        label if labels.count(label) == 1 else f"{_shorten(name, limit)} ({run_id})"
        for label, (name, run_id) in zip(labels, runs, strict=True)
    ]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _series_order(groups: dict[str, list[MetricRecord]]) -> list[str]:
    """Ranks by number (``rank-2`` before ``rank-10``); steps in the order they first logged."""
    if all(_RANK.fullmatch(label) for label in groups):
        return sorted(groups, key=lambda label: int(label.rsplit("-", 1)[1]))
    return sorted(groups, key=lambda label: (min(r.ts for r in groups[label]), label))


def thin(count: int, limit: int = MAX_LINE_POINTS) -> list[int]:
    """Positions of at most about ``limit`` evenly spaced points out of ``count``, always the last."""
    if count <= limit:
        return list(range(count))
    stride = math.ceil(count / limit)
    kept = list(range(0, count, stride))
    return kept if kept[-1] == count - 1 else [*kept, count - 1]
