"""REST handlers of runs: list, detail, step logs, metrics, artifacts, delete, run a notebook.

Each handler opens the run store (``KFJUPYTER_HOME`` decides where), calls it and answers a model
from :mod:`kfjupyter.server.models`. Errors go through the one map in
:mod:`kfjupyter.server.errors`: unknown run 404, bad query or body 400, running run 409.
"""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial

from kfjupyter.api import load_run
from kfjupyter.errors import KfJupyterError, NotFound
from kfjupyter.runs.backend import NotebookStart, Part
from kfjupyter.runs.operations import delete_run, start_run
from kfjupyter.runs.stored import recorded_source
from kfjupyter.server import models
from kfjupyter.server.handlers import KfJupyterHandler, api
from kfjupyter.server.kfp_live import KfpRefresher, live_kfp_runs
from kfjupyter.server.models_pipelines import LogQuery
from kfjupyter.server.paths import confine, confine_file, relative_to_root
from kfjupyter.server.requests import RUN_ID, STEP, opened_store, parse_query, refresh_liveness
from kfjupyter.server.run_files import checked_log_path
from kfjupyter.server.views import artifact_summary, external_link, metric_history, run_summary, step_summary
from kfjupyter.store import RunRecord


def openable_path(root_dir: str, run: RunRecord, *, allow_hidden: bool = False) -> str | None:
    """The run's notebook or script relative to ``root_dir``, when Jupyter can open it; else None.

    Symbolic links are followed: a link inside the root to a file outside it is not offered, nor
    a hidden file unless ``allow_hidden`` (Jupyter's file API would not open it).
    """
    recorded = recorded_source(run)
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
                external_url=external_link(run.record),
            )
        )

    @api("write")
    def delete(self, run_id: str) -> None:
        """Delete a finished run with its files; 409 while it runs."""
        with opened_store() as store:
            delete_run(self.context_for(store), run_id)
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
        self.reply(metric_history(run_id, metrics))


class RunArtifactsHandler(KfJupyterHandler):
    """``GET /kfjupyter/api/runs/{id}/artifacts``: what the run's steps produced."""

    @api("read")
    def get(self, run_id: str) -> None:
        """Return the run's artifacts."""
        with opened_store() as store:
            store.get_run(run_id)
            artifacts = store.list_artifacts(run_id)
        self.reply(models.ArtifactList(run_id=run_id, artifacts=[artifact_summary(a) for a in artifacts]))


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
            start = NotebookStart(
                notebook=notebook, parameters=body.parameters, no_cache=body.no_cache, part=part
            )
            starting = await asyncio.to_thread(start_run, self.context_for(store), start)  # spawns
            run = await starting.wait_async()
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
