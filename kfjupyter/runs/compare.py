"""Comparing runs side by side: which parameters differ and which run is best per metric.

One place holds the rules every front door shows (the REST compare view, ``kfjupyter runs
compare``): a parameter *differs* when its values are not all equal (a missing value counts as a
value); the *best* run of a metric has the lowest last value for names like loss or error, else
the highest, and there is none when fewer than two runs logged it or all tie. Each metric series
keeps one value per index (the last written: ranks and retries overlap) and is thinned evenly for
charts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import JsonValue

from kfjupyter.errors import InvalidInput
from kfjupyter.store import MetricRecord, RunRecord, RunStore

#: Most points per metric series kept for a chart; longer series are evenly thinned.
MAX_POINTS = 500
#: Most runs compared at once.
MAX_COMPARED = 50
#: Metric names containing one of these are better when lower; all others when higher.
_LOWER_IS_BETTER = ("loss", "error", "err", "mse", "mae", "rmse", "perplexity", "latency", "time")


def lower_is_better(metric: str) -> bool:
    """Whether a smaller value of ``metric`` is better (loss, error, ...), judged by its name."""
    name = metric.lower()
    return any(word in name for word in _LOWER_IS_BETTER)


def thin(points: Sequence[MetricRecord], most: int = MAX_POINTS) -> list[MetricRecord]:
    """At most ``most`` points of one series, evenly spaced, always keeping the first and last."""
    if len(points) <= most:
        return list(points)
    step = (len(points) - 1) / (most - 1)
    return [points[round(i * step)] for i in range(most)]


def one_per_index(metrics: Sequence[MetricRecord]) -> dict[str, list[MetricRecord]]:
    """Series by name with one value per index (the last written: ranks and retries overlap)."""
    series: dict[str, dict[int, MetricRecord]] = {}
    for m in metrics:  # ordered by name, index, then order written
        series.setdefault(m.name, {})[m.index] = m
    return {name: list(by_index.values()) for name, by_index in series.items()}


def best_runs(last: dict[str, dict[str, float]]) -> dict[str, str]:
    """Per metric, the run id with the best last value; none when under two runs have it or all tie."""
    best: dict[str, str] = {}
    names = sorted({name for values in last.values() for name in values})
    for name in names:
        scored = [(v[name], run_id) for run_id, v in last.items() if name in v and not math.isnan(v[name])]
        if len(scored) < 2 or len({value for value, _ in scored}) == 1:
            continue
        pick = min if lower_is_better(name) else max
        best[name] = pick(scored, key=lambda item: item[0])[1]
    return best


def differing(parameters: Sequence[dict[str, JsonValue]]) -> list[str]:
    """Sorted names whose values are not the same in every run (missing counts as a value)."""
    names = sorted({name for params in parameters for name in params})
    missing = object()
    return [n for n in names if len({repr(p.get(n, missing)) for p in parameters}) > 1]


@dataclass(frozen=True)
class ComparedRun:
    """One run of a comparison: its record, last metric values and (thinned) metric history."""

    record: RunRecord
    metrics: dict[str, float]
    history: list[MetricRecord]


@dataclass(frozen=True)
class Comparison:
    """Runs side by side, in the order asked."""

    runs: list[ComparedRun]
    parameters: list[str]
    differing: list[str]
    metrics: list[str]
    best: dict[str, str]


def check_ids(run_ids: Sequence[str]) -> None:
    """``InvalidInput`` unless ``run_ids`` are 2 to :data:`MAX_COMPARED` distinct ids."""
    if len(set(run_ids)) != len(run_ids):
        raise InvalidInput("run ids: compare distinct runs; an id is given twice")
    if not 2 <= len(run_ids) <= MAX_COMPARED:
        raise InvalidInput(f"run ids: compare 2 to {MAX_COMPARED} runs, got {len(run_ids)}")


def compare_runs(store: RunStore, run_ids: Sequence[str]) -> Comparison:
    """Compare the runs ``run_ids`` (in that order); ``NotFound`` if one does not exist."""
    check_ids(run_ids)
    compared: list[ComparedRun] = []
    last: dict[str, dict[str, float]] = {}
    for run_id in run_ids:
        run = store.get_run(run_id)
        series = one_per_index(store.list_metrics(run_id))
        last[run_id] = {name: points[-1].value for name, points in series.items()}
        history = [m for points in series.values() for m in thin(points)]
        compared.append(ComparedRun(record=run, metrics=last[run_id], history=history))
    params = [dict(c.record.parameters) for c in compared]
    return Comparison(
        runs=compared,
        parameters=sorted({name for p in params for name in p}),
        differing=differing(params),
        metrics=sorted({name for values in last.values() for name in values}),
        best=best_runs(last),
    )
