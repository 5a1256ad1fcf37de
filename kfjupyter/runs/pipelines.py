"""The pipeline backends: a notebook run on this machine, and one on Kubeflow Pipelines.

A local run is driven by a detached ``kfjupyter run`` process (:mod:`kfjupyter.runs.launch`);
cancelling it interrupts that process, which records the outcome. A KFP run is submitted through
the front door's KFP connection, refreshed from the server it was submitted to, and cancelled
there (KFP ends it failed; the note left on the run makes the refresh record it cancelled).
Re-running either compiles the recorded notebook again and passes the recorded values of the
parameters it still declares, overridden by the request's.
"""

from __future__ import annotations

from kfjupyter.compiler.lint import compile_notebook
from kfjupyter.errors import Conflict, InvalidInput, KfJupyterError, UpstreamFailed
from kfjupyter.runs.backend import (
    BackendKey,
    Cancelled,
    NotebookStart,
    Part,
    Rerun,
    RunContext,
    ScriptStart,
    Started,
    Starting,
)
from kfjupyter.runs.kfp_submit import submit
from kfjupyter.runs.kfp_sync import SYNC_TIMEOUT_S, sync_kfp
from kfjupyter.runs.launch import Launch
from kfjupyter.runs.local_cancel import cancel_local_run
from kfjupyter.runs.stored import StoredRuns, existing_source, rerun_parameters
from kfjupyter.store import KfpDetails, RunRecord


def _notebook_request(request: NotebookStart | ScriptStart) -> NotebookStart:
    if not isinstance(request, NotebookStart):
        raise InvalidInput("a pipeline starts from a notebook, not a script")
    return request


def rerun_request(ctx: RunContext, run: RunRecord, request: Rerun) -> NotebookStart:
    """The start of ``run``'s notebook again: recorded parameter values, then the request's."""
    if run.notebook is None:
        raise Conflict(f"run {run.id} was not made from a notebook and cannot be re-run")
    notebook = existing_source(ctx, run, run.notebook, "notebook")
    pipeline, _ = compile_notebook(notebook)  # lint errors are reported when it starts
    declared = {p.name for p in pipeline.parameters}
    parameters = rerun_parameters(declared, run.parameters, request.parameters)
    part = Part(request.from_step, request.only, run.id) if request.partial else Part()
    return NotebookStart(notebook=notebook, parameters=parameters, no_cache=request.no_cache, part=part)


class LocalPipelines(StoredRuns):
    """Notebook pipelines run on this machine by a detached ``kfjupyter run``."""

    key = BackendKey.LOCAL_PIPELINE

    def start(self, ctx: RunContext, request: NotebookStart | ScriptStart) -> Starting:
        """Spawn the run's process; wait on the result for the run it created."""
        start = _notebook_request(request)
        return Launch(ctx.store, start.notebook, start.parameters, start.no_cache, part=start.part)

    def status(self, ctx: RunContext, run: RunRecord) -> RunRecord:
        """The stored run, marked interrupted first if its process died."""
        ctx.store.mark_interrupted()
        return ctx.store.get_run(run.id)

    def sync(self, ctx: RunContext, run: RunRecord) -> RunRecord:
        """The same as :meth:`status`: the run's own process keeps the store current."""
        return self.status(ctx, run)

    def cancel(self, ctx: RunContext, run: RunRecord) -> Cancelled:
        """Interrupt the process that drives the run (see :func:`cancel_local_run`)."""
        pid = cancel_local_run(ctx.store, run.id)
        return Cancelled(run=run, pid=pid)

    def rerun(self, ctx: RunContext, run: RunRecord, request: Rerun) -> Starting:
        """Start the run's notebook again here, cached steps reused unless ``no_cache``."""
        return self.start(ctx, rerun_request(ctx, run, request))


class KfpPipelines(StoredRuns):
    """Notebook pipelines submitted to Kubeflow Pipelines."""

    key = BackendKey.KFP_PIPELINE

    def start(self, ctx: RunContext, request: NotebookStart | ScriptStart) -> Starting:
        """Check and submit the notebook (blocking); ``UpstreamFailed`` when KFP fails."""
        return Started(submit(ctx, _notebook_request(request)).record)

    def status(self, ctx: RunContext, run: RunRecord) -> RunRecord:
        """The run after asking its KFP server (an unreachable server leaves it as stored)."""
        return self.sync(ctx, run)

    def sync(self, ctx: RunContext, run: RunRecord) -> RunRecord:
        """Refresh the run from the server it was submitted to (bounded; an unreachable one leaves it)."""
        sync_kfp(ctx, [run.id], timeout_s=SYNC_TIMEOUT_S)
        return ctx.store.get_run(run.id)

    def cancel(self, ctx: RunContext, run: RunRecord) -> Cancelled:
        """Ask the run's KFP server to terminate it and note the cancel on the run."""
        from kfjupyter.kfp.terminate import mark_cancel_requested, terminate_run

        connection = ctx.connection()  # Conflict when this front door has no KFP endpoint
        try:
            terminate_run(run, connection)
        except Conflict:
            raise
        except KfJupyterError as error:  # refused or unreachable
            raise UpstreamFailed.of(error) from error
        return Cancelled(run=mark_cancel_requested(ctx.store, run.id))

    def rerun(self, ctx: RunContext, run: RunRecord, request: Rerun) -> Starting:
        """Submit the run's notebook again to the same Kubeflow Pipelines (its own cache applies)."""
        start = rerun_request(ctx, run, Rerun(parameters=request.parameters))
        if request.partial:
            raise Conflict(
                f"run {run.id} ran on Kubeflow Pipelines; re-running from a step is for local runs "
                "(its upstream outputs are in the cluster's pipeline root)"
            )
        if request.no_cache:
            raise InvalidInput("no_cache: Kubeflow Pipelines runs use KFP's cache; re-run without no_cache")
        host = run.details.host if isinstance(run.details, KfpDetails) else None
        configured = ctx.connection().host
        if host and configured and host.rstrip("/") != configured.strip().rstrip("/"):
            raise Conflict(
                f"run {run.id} ran on Kubeflow Pipelines at {host}; this server submits to {configured}"
            )
        return self.start(ctx, NotebookStart(notebook=start.notebook, parameters=start.parameters))
