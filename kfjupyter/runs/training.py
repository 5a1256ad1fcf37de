"""The training backends: script and function jobs on this machine or on a Kubernetes cluster.

Both go through the training facade (:func:`kfjupyter.training.train`, ``get_job``), which keeps
each job's run in the front door's store (``RunContext.store``, never the default one unless that
is it); the two differ only in the engine they record. Calls may take seconds (submitting, syncing
a cluster job, waiting for the ranks to stop). A script job can be started
again with its recorded spec; a function job cannot (the function lives in a notebook kernel), nor
a job that set environment variables (their values are not recorded).
"""

from __future__ import annotations

from kfjupyter.errors import Conflict, InvalidInput
from kfjupyter.runs.backend import (
    BackendKey,
    Cancelled,
    NotebookStart,
    Rerun,
    RunContext,
    ScriptStart,
    Started,
    Starting,
)
from kfjupyter.runs.stored import StoredRuns, existing_source
from kfjupyter.store import Engine, RunRecord, RunStore
from kfjupyter.store.models import ACTIVE_RUN_STATUSES
from kfjupyter.training.job import TrainJob
from kfjupyter.training.spec import BackendName as TrainingTarget


def start_script(ctx: RunContext, request: ScriptStart) -> RunRecord:
    """Start ``python script *args`` as a training job and return its run (blocking).

    Raises ``InvalidInput`` naming the bad field of the spec before anything starts.
    """
    from kfjupyter.training.facade import train

    handle = train(
        str(request.script),
        args=list(request.args),
        num_nodes=request.num_nodes,
        procs_per_node=request.procs_per_node,
        gpus_per_node=request.gpus_per_node,
        cpu=request.cpu,
        memory=request.memory,
        image=request.image,
        env=dict(request.env),
        backend=request.target,
        runtime=request.runtime,
        name=request.name,
        store=ctx.store,
    )
    return ctx.store.get_run(handle.id)


def cancel_job(store: RunStore, name: str) -> TrainJob:
    """Stop every rank of the job with this id (else the newest with this name); a finished job is left as is.

    Blocking: waits for the ranks to stop. Returns the job's last snapshot.
    """
    from kfjupyter.training.facade import get_job

    return get_job(name, store=store).cancel()


def script_spec(run: RunRecord) -> tuple[str, list[str]]:
    """The recorded script and arguments of a job; ``Conflict`` when it cannot be started again."""
    spec = run.parameters
    entry = spec.get("entrypoint")
    if not isinstance(entry, dict) or entry.get("kind") != "script" or not isinstance(entry.get("path"), str):
        raise Conflict(
            f"training job {run.name!r} ({run.id}) ran a Python function from a notebook; run the "
            "notebook cell that calls kfjupyter.train() again to start it anew"
        )
    env_names = spec.get("env_names")
    if isinstance(env_names, list) and env_names:
        names = ", ".join(str(n) for n in env_names)
        raise Conflict(
            f"training job {run.name!r} ({run.id}) set environment variables ({names}) whose values are "
            "not recorded; start it again with its env"
        )
    args = entry.get("args")
    return str(entry["path"]), [str(a) for a in args] if isinstance(args, list) else []


#: The training target that re-launches a job on the engine it ran on.
_TARGETS: dict[Engine, TrainingTarget] = {Engine.LOCAL: "local", Engine.KUBERNETES: "kubernetes"}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _count(value: object, default: int | None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


class TrainingJobs(StoredRuns):
    """Training jobs on one engine (the facade's backend of the same name)."""

    def __init__(self, key: BackendKey, engine: Engine) -> None:
        self.key, self.engine = key, engine

    def start(self, ctx: RunContext, request: NotebookStart | ScriptStart) -> Starting:
        """Start a script job (blocking)."""
        if not isinstance(request, ScriptStart):
            raise InvalidInput("a training job starts from a Python script, not a notebook")
        return Started(start_script(ctx, request))

    def status(self, ctx: RunContext, run: RunRecord) -> RunRecord:
        """The job's run after the facade read it (a cluster job is synced first)."""
        return self.sync(ctx, run)

    def sync(self, ctx: RunContext, run: RunRecord) -> RunRecord:
        """Bring the job's run up to date (a cluster job from the cluster) and return it."""
        from kfjupyter.training.facade import get_job

        get_job(run.id, store=ctx.store).job  # noqa: B018 - reading the snapshot syncs the store
        return ctx.store.get_run(run.id)

    def cancel(self, ctx: RunContext, run: RunRecord) -> Cancelled:
        """Stop every rank of the job (blocking: waits for the ranks to stop)."""
        from kfjupyter.training.facade import get_job

        if run.status not in ACTIVE_RUN_STATUSES:
            raise Conflict(f"run {run.id} is {run.status}; only a pending or running run can be cancelled")
        get_job(run.id, store=ctx.store).cancel()
        return Cancelled(run=ctx.store.get_run(run.id), pid=run.owner_pid or 0)

    def rerun(self, ctx: RunContext, run: RunRecord, request: Rerun) -> Starting:
        """Start the job's script again with its recorded spec; ``Conflict`` for a function job."""
        if request.partial:
            raise InvalidInput("from_step: a training job has no steps to re-run from")
        if request.parameters:
            raise InvalidInput("parameters: a training job has no notebook parameters to override")
        script, args = script_spec(run)
        path = existing_source(ctx, run, script, "script")
        spec = run.parameters
        request_ = ScriptStart(
            script=path,
            args=args,
            num_nodes=_count(spec.get("num_nodes"), 1) or 1,
            procs_per_node=_count(spec.get("procs_per_node"), None),
            gpus_per_node=_count(spec.get("gpus_per_node"), 0) or 0,
            cpu=_text(spec.get("cpu")),
            memory=_text(spec.get("memory")),
            image=_text(spec.get("image")),
            target=_TARGETS[self.engine],
            runtime=_text(spec.get("runtime")),
            name=run.name,
        )
        return self.start(ctx, request_)
