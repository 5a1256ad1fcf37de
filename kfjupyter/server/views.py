"""The REST views of stored records: run and step summaries, metric points, artifacts, comparisons.

Pure functions from the core's records (:mod:`kfjupyter.store`, :mod:`kfjupyter.runs.compare`) to
the response models of :mod:`kfjupyter.server.models`; shared by the handler modules.
"""

from __future__ import annotations

from kfjupyter.charts import Chart, chart_data, chart_spec, compare_data, metric_names, run_labels
from kfjupyter.runs.compare import Comparison
from kfjupyter.server import models
from kfjupyter.store import ArtifactRecord, KfpDetails, MetricRecord, RunRecord, StepRecord
from kfjupyter.store.base import run_duration


def _duration(started: float | None, finished: float | None) -> float | None:
    if started is None or finished is None:
        return None
    return max(0.0, finished - started)


def run_summary(run: RunRecord) -> models.RunSummary:
    """The list view of one run."""
    return models.RunSummary(
        id=run.id,
        kind=run.kind,
        name=run.name,
        notebook=run.notebook,
        backend=run.backend.value,
        status=run.status,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        duration_s=run_duration(run),
        error=run.error,
    )


def step_summary(step: StepRecord) -> models.StepSummary:
    """The detail view of one step."""
    return models.StepSummary(
        name=step.name,
        status=step.status,
        cached=step.cached,
        started_at=step.started_at,
        finished_at=step.finished_at,
        duration_s=_duration(step.started_at, step.finished_at),
        error=step.error,
        upstream=list(step.upstream),
    )


def metric_point(m: MetricRecord) -> models.MetricPoint:
    """The REST form of one stored metric value."""
    return models.MetricPoint(step=m.step, name=m.name, value=m.value, index=m.index, ts=m.ts)


def artifact_summary(a: ArtifactRecord) -> models.ArtifactSummary:
    """The REST form of one artifact."""
    return models.ArtifactSummary(
        step=a.step,
        name=a.name,
        kind=a.kind,
        path=a.path,
        media_type=a.media_type,
        size=a.size,
        created_at=a.created_at,
        preview=dict(a.preview),
    )


def external_link(run: RunRecord) -> str | None:
    """The recorded link to a run in its engine's UI, if it is an http(s) URL (never ``javascript:``)."""
    link = (run.details.link if isinstance(run.details, KfpDetails) else None) or ""
    return link if link.startswith(("https://", "http://")) else None


def metric_chart(chart: Chart, *, title: bool = False) -> models.MetricChart:
    """The REST form of one chart: its Vega-Lite spec, or only the flag of a single value."""
    if chart.single:
        return models.MetricChart(metric=chart.metric, single=True, spec=None)
    return models.MetricChart(metric=chart.metric, single=False, spec=chart_spec(chart, title=title))


def metric_history(run_id: str, metrics: list[MetricRecord]) -> models.MetricHistory:
    """Every value of a run and one chart per metric name."""
    return models.MetricHistory(
        run_id=run_id,
        metrics=[metric_point(m) for m in metrics],
        charts=[metric_chart(chart_data(metrics, name)) for name in metric_names(metrics)],
    )


def comparison(found: Comparison) -> models.RunComparison:
    """The REST form of a comparison."""
    labels = run_labels([(c.record.name, c.record.id) for c in found.runs])
    histories = [c.history for c in found.runs]
    return models.RunComparison(
        runs=[
            models.ComparedRun(
                run=run_summary(c.record),
                parameters=dict(c.record.parameters),
                metrics=c.metrics,
                history=[metric_point(m) for m in c.history],
            )
            for c in found.runs
        ],
        parameters=found.parameters,
        differing=found.differing,
        metrics=found.metrics,
        best=found.best,
        charts=[
            metric_chart(compare_data(list(zip(labels, histories, strict=True)), name))
            for name in found.metrics
        ],
    )
