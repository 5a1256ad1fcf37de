"""REST handlers of runs: list, detail, step logs, metrics, artifacts, delete, run a notebook.

Each handler opens the run store (``KFJUPYTER_HOME`` decides where), calls it and answers a model
from :mod:`kfjupyter.server.models`. Errors go through the one map in
:mod:`kfjupyter.server.errors`: unknown run 404, bad query or body 400, running run 409.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from kfjupyter.api import load_run
from kfjupyter.errors import InvalidInput, KfJupyterError, NotFound
from kfjupyter.kfp.tracking import LINK_LABEL
from kfjupyter.server import models
from kfjupyter.server.errors import validation_message
from kfjupyter.server.handlers import KfJupyterHandler, api
from kfjupyter.server.kfp_live import KfpRefresher, live_kfp_runs
from kfjupyter.server.launch import Part, confine, confine_file, relative_to_root, start_run
from kfjupyter.server.models_pipelines import LogQuery
from kfjupyter.server.run_files import checked_log_path
from kfjupyter.store import ArtifactRecord, MetricRecord, RunRecord, RunStore, StepRecord, open_store
from kfjupyter.store.base import mark_interrupted_for_reading

RUN_ID = r"(?P<run_id>[^/]+)"
STEP = r"(?P<step>[^/]+)"
#: Query arguments that belong to Jupyter's authentication, not to our queries.
_AUTH_QUERY_ARGUMENTS = frozenset({"token", "_xsrf"})
M = TypeVar("M", bound=BaseModel)


def parse_query(model: type[M], arguments: dict[str, list[bytes]]) -> M:
    """Validate query ``arguments`` into ``model``; a 400 naming the bad arguments if they do not fit.

    Jupyter's auth arguments and the bare number JupyterLab appends to GETs to defeat caches are
    ignored; any other unknown argument is an error.
    """
    raw = {
        name: values[-1].decode(errors="replace")
        for name, values in arguments.items()
        if name not in _AUTH_QUERY_ARGUMENTS and not name.isdigit()
    }
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise InvalidInput(validation_message(error, model.model_fields, what="query")) from None


@contextmanager
def opened_store() -> Iterator[RunStore]:
    """The run store of this server (``KFJUPYTER_HOME``), closed when the block ends."""
    store = open_store()
    try:
        yield store
    finally:
        store.close()


def refresh_liveness(store: RunStore, log: logging.Logger) -> None:
    """Mark runs whose process died interrupted before they are read.

    A store that cannot be written now (a full disk) is still read, with a warning in the server log.
    """
    warning = mark_interrupted_for_reading(store)
    if warning:
        log.warning("kfjupyter: %s", warning)


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
        backend=run.backend,
        status=run.status,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        duration_s=_duration(run.started_at, run.finished_at),
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


def _artifact(a: ArtifactRecord) -> models.ArtifactSummary:
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


def _recorded_source(run: RunRecord) -> str | None:
    """The absolute path of the notebook (pipeline) or script (script training job) ``run`` ran."""
    recorded = run.notebook if run.kind == "pipeline" else None
    entry = run.parameters.get("entrypoint")
    if run.kind == "training" and isinstance(entry, dict) and entry.get("kind") == "script":
        path = entry.get("path")
        recorded = path if isinstance(path, str) else None
    return recorded if recorded and Path(recorded).is_absolute() else None


def openable_path(root_dir: str, run: RunRecord, *, allow_hidden: bool = False) -> str | None:
    """The run's notebook or script relative to ``root_dir``, when Jupyter can open it; else None.

    Symbolic links are followed: a link inside the root to a file outside it is not offered, nor
    a hidden file unless ``allow_hidden`` (Jupyter's file API would not open it).
    """
    recorded = _recorded_source(run)
    if recorded is None:
        return None
    try:
        relative = relative_to_root(root_dir, recorded)
        confine_file(root_dir, relative, suffixes=(".ipynb", ".py"), kind="file", allow_hidden=allow_hidden)
    except (KfJupyterError, OSError, ValueError):
        return None
    return relative


class RunsHandler(KfJupyterHandler):
    """``GET /kfjupyter/api/runs?kind=&status=&backend=&notebook=&q=&sort=&limit=&offset=``."""

    @api("read")
    def get(self) -> None:
        """List one page of runs in the ``sort`` order; one extra row is read to tell whether more follow."""
        query = parse_query(models.RunListQuery, self.request.query_arguments)
        with opened_store() as store:
            refresh_liveness(
                store, self.log
            )  # a run whose process died is listed as interrupted, not running
            runs = store.list_runs(
                kind=query.kind,
                status=query.status,
                backend=query.backend,
                notebook=query.notebook,
                q=query.q,
                sort=query.sort,
                limit=query.limit + 1,
                offset=query.offset,
            )
        page = [run_summary(r) for r in runs[: query.limit]]
        more = len(runs) > query.limit
        refresher: KfpRefresher | None = self.settings.get("kfjupyter_kfp_refresher")
        if refresher is not None:  # unfinished KFP runs: asked in the background, shown on the next poll
            refresher.refresh_soon(live_kfp_runs(runs[: query.limit]))
        self.reply(models.RunList(runs=page, limit=query.limit, offset=query.offset, has_more=more))


def external_link(labels: Mapping[str, str]) -> str | None:
    """The recorded link to a run in its engine's UI, if it is an http(s) URL (never ``javascript:``)."""
    link = labels.get(LINK_LABEL, "")
    return link if link.startswith(("https://", "http://")) else None


class RunHandler(KfJupyterHandler):
    """``GET`` / ``DELETE /kfjupyter/api/runs/{id}``: one run with its steps, last metrics, notebook."""

    @api("read")
    async def get(self, run_id: str) -> None:
        """Describe one run (an unfinished KFP run is first refreshed from its server, briefly)."""
        refresher: KfpRefresher | None = self.settings.get("kfjupyter_kfp_refresher")
        if refresher is not None:
            live: list[str] = []
            with opened_store() as store, contextlib.suppress(KfJupyterError):  # unknown: load_run says so
                live = live_kfp_runs([store.get_run(run_id)])
            await refresher.refresh(live)  # no store held open while KFP is asked
        with opened_store() as store:
            refresh_liveness(store, self.log)  # a run whose process died reads interrupted, not running
            run = load_run(store, run_id)
        self.reply(
            models.RunDetail(
                run=run_summary(run.record),
                parameters=dict(run.record.parameters),
                steps=[step_summary(s) for s in run.steps],
                metrics=run.last_metrics(),
                notebook_path=openable_path(
                    self.serverapp.root_dir, run.record, allow_hidden=self.allow_hidden
                ),
                external_id=run.record.external_id,
                external_url=external_link(run.record.labels),
            )
        )

    @api("write")
    def delete(self, run_id: str) -> None:
        """Delete a finished run with its files; 409 while it runs."""
        with opened_store() as store:
            store.delete_run(run_id)
        self.set_status(204)
        self.finish()


class RunLogHandler(KfJupyterHandler):
    """``GET /kfjupyter/api/runs/{id}/logs/{step}?offset=N``: whole log lines from byte ``N``."""

    @api("read")
    def get(self, run_id: str, step: str) -> None:
        """Read a step's log from ``offset``; pass ``next_offset`` back to follow it."""
        query = parse_query(LogQuery, self.request.query_arguments)
        with opened_store() as store:
            steps = {s.name for s in store.get_steps(run_id)}
            if step not in steps:
                raise NotFound(f"run {run_id} has no step {step!r}")
            checked_log_path(store, run_id, step)
            chunk = store.read_log(run_id, step, query.offset)
        self.reply(
            models.LogText(
                run_id=run_id,
                step=step,
                text=chunk.text,
                next_offset=chunk.next_offset,
                exists=chunk.exists,
            )
        )


class RunMetricsHandler(KfJupyterHandler):
    """``GET /kfjupyter/api/runs/{id}/metrics``: every logged value."""

    @api("read")
    def get(self, run_id: str) -> None:
        """Return the run's full metric history."""
        with opened_store() as store:
            store.get_run(run_id)
            metrics = store.list_metrics(run_id)
        self.reply(models.MetricHistory(run_id=run_id, metrics=[metric_point(m) for m in metrics]))


class RunArtifactsHandler(KfJupyterHandler):
    """``GET /kfjupyter/api/runs/{id}/artifacts``: what the run's steps produced."""

    @api("read")
    def get(self, run_id: str) -> None:
        """Return the run's artifacts."""
        with opened_store() as store:
            store.get_run(run_id)
            artifacts = store.list_artifacts(run_id)
        self.reply(models.ArtifactList(run_id=run_id, artifacts=[_artifact(a) for a in artifacts]))


class RunNotebookHandler(KfJupyterHandler):
    """``POST /kfjupyter/api/notebooks/run``: start a notebook in the background; 202 ``{run_id}``."""

    @api("execute")
    async def post(self) -> None:
        """Start the notebook at ``path`` (relative to the server root) and answer its run id."""
        body = self.parse_body(models.RunNotebookRequest)
        confined = partial(confine, allow_hidden=self.allow_hidden)
        notebook = await asyncio.to_thread(confined, self.serverapp.root_dir, body.path)  # reads it
        with opened_store() as store:
            part = Part(body.from_step, body.only, body.reuse)
            run = await start_run(store, notebook, body.parameters, body.no_cache, part=part)
        self.reply(models.RunStarted(run_id=run.id, notebook=body.path), status=202)


def run_routes(api_prefix: str) -> list[tuple[str, type[KfJupyterHandler]]]:
    """The routes of this module under ``api_prefix`` (e.g. ``/kfjupyter/api``)."""
    runs = f"{api_prefix}/runs"
    return [
        (rf"{runs}/?", RunsHandler),
        (rf"{runs}/{RUN_ID}/?", RunHandler),
        (rf"{runs}/{RUN_ID}/logs/{STEP}/?", RunLogHandler),
        (rf"{runs}/{RUN_ID}/metrics/?", RunMetricsHandler),
        (rf"{runs}/{RUN_ID}/artifacts/?", RunArtifactsHandler),
        (rf"{api_prefix}/notebooks/run/?", RunNotebookHandler),
    ]
