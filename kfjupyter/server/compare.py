"""Comparing runs: ``GET /kfjupyter/api/runs/compare?ids=a,b,c`` and the pure diff behind it.

One request answers what the compare view needs for up to 50 runs: each run's summary, parameters,
last metric values and (thinned) metric history, plus which parameters differ and which run is
best per metric. Doing it on the server keeps the browser at one round trip instead of two per
run, and the rules (what "differs", what "best" means) live in one tested place.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import JsonValue

from kfjupyter.server import models
from kfjupyter.server.handlers import KfJupyterHandler, api
from kfjupyter.server.runs_handlers import metric_point, opened_store, parse_query, run_summary
from kfjupyter.store import MetricRecord, RunStore

#: Most points per metric series sent for a chart; longer series are evenly thinned.
MAX_POINTS = 500
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


def compare_runs(store: RunStore, run_ids: Sequence[str]) -> models.RunComparison:
    """Compare the runs ``run_ids`` (in that order); ``NotFound`` if one does not exist."""
    compared: list[models.ComparedRun] = []
    last: dict[str, dict[str, float]] = {}
    for run_id in run_ids:
        run = store.get_run(run_id)
        series = one_per_index(store.list_metrics(run_id))
        last[run_id] = {name: points[-1].value for name, points in series.items()}
        history = [metric_point(m) for points in series.values() for m in thin(points)]
        compared.append(
            models.ComparedRun(
                run=run_summary(run), parameters=dict(run.parameters), metrics=last[run_id], history=history
            )
        )
    params = [c.parameters for c in compared]
    return models.RunComparison(
        runs=compared,
        parameters=sorted({name for p in params for name in p}),
        differing=differing(params),
        metrics=sorted({name for values in last.values() for name in values}),
        best=best_runs(last),
    )


class CompareHandler(KfJupyterHandler):
    """``GET /kfjupyter/api/runs/compare?ids=a,b,c``: 2 to 50 runs side by side."""

    @api("read")
    def get(self) -> None:
        """Answer the comparison; 400 for a bad id list, 404 for an unknown run."""
        query = parse_query(models.CompareQuery, self.request.query_arguments)
        with opened_store() as store:
            comparison = compare_runs(store, query.run_ids)
        self.reply(comparison)


def compare_routes(api_prefix: str) -> list[tuple[str, type[KfJupyterHandler]]]:
    """The route of this module; register it before ``runs/{id}``, which would match it too."""
    return [(rf"{api_prefix}/runs/compare/?", CompareHandler)]
