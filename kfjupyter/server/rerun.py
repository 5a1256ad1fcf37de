"""``POST runs/{id}/rerun``: start a finished run again, with changed parameters if asked.

A pipeline run re-runs its notebook (as ``notebooks/run`` does, in a detached ``kfjupyter run``)
with the run's recorded parameter values, overridden by the request's; the cache is on unless
``no_cache``, so steps whose code and inputs did not change are not executed again. A run that was
submitted to Kubeflow Pipelines is submitted again, to the server's configured KFP. A training run
re-launches the same script job with its recorded spec; a function job cannot be re-launched from
the server (the function lives in a notebook kernel). The notebook or script must still exist
inside the server's root directory, and a run that is still active is a 409.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from functools import partial
from pathlib import Path

from kfjupyter.compiler.ir import JsonValue
from kfjupyter.compiler.lint import compile_notebook
from kfjupyter.errors import Conflict, InvalidInput, NotFound
from kfjupyter.server import models
from kfjupyter.server.handlers import KfJupyterHandler, api
from kfjupyter.server.kfp_handlers import KfpOptions, submit
from kfjupyter.server.launch import Part, confine, confine_file, relative_to_root, start_run
from kfjupyter.server.models_pipelines import RerunRequest
from kfjupyter.server.runs_handlers import RUN_ID, opened_store
from kfjupyter.server.training_handlers import start_script_job
from kfjupyter.store import RunRecord, RunStore
from kfjupyter.store.models import ACTIVE_RUN_STATUSES
from kfjupyter.training.job import TrainJob
from kfjupyter.training.spec import BackendName

#: The backend name and host label of runs submitted to Kubeflow Pipelines (see ``kfjupyter.kfp.tracking``).
KFP_BACKEND, KFP_HOST_LABEL = "kfp", "kfp_host"


def as_override(value: JsonValue) -> str:
    """The ``NAME=VALUE`` text that parses back to ``value`` (see ``parse_overrides``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def rerun_parameters(
    declared: set[str], recorded: Mapping[str, JsonValue], given: Mapping[str, str]
) -> dict[str, str]:
    """Recorded values of the parameters the notebook still declares, then the ``given`` overrides."""
    values = {name: as_override(value) for name, value in recorded.items() if name in declared}
    values.update(given)
    return values


def _existing(root_dir: str, recorded: str, run_id: str, what: str) -> str:
    """``recorded`` relative to the root; ``Forbidden`` outside it, ``NotFound`` when it is gone."""
    relative = relative_to_root(root_dir, recorded)
    if not Path(recorded).is_file():
        raise NotFound(f"the {what} of run {run_id}, {relative!r}, no longer exists")
    return relative


async def rerun_pipeline(
    store: RunStore,
    root_dir: str,
    run: RunRecord,
    body: RerunRequest,
    kfp: KfpOptions,
    allow_hidden: bool = False,
) -> models.RunStarted:
    """Start ``run``'s notebook again (locally, or on KFP for a KFP run) with overridden parameters."""
    if run.notebook is None:
        raise Conflict(f"run {run.id} was not made from a notebook and cannot be re-run")
    if run.backend not in ("local", KFP_BACKEND):
        raise Conflict(f"run {run.id} ran on {run.backend!r}, which cannot re-run it from here")
    relative = _existing(root_dir, run.notebook, run.id, "notebook")
    confined = partial(confine, allow_hidden=allow_hidden)
    notebook = await asyncio.to_thread(confined, root_dir, relative, "notebook")
    pipeline, _ = compile_notebook(notebook)  # lint errors are reported when it starts
    declared = {p.name for p in pipeline.parameters}
    parameters = rerun_parameters(declared, run.parameters, body.parameters)
    part = Part(body.from_step, body.only, run.id) if body.from_step or body.only else Part()
    if run.backend == KFP_BACKEND:
        if body.from_step or body.only:
            raise Conflict(
                f"run {run.id} ran on Kubeflow Pipelines; re-running from a step is for local runs "
                "(its upstream outputs are in the cluster's pipeline root)"
            )
        return await _resubmit(kfp, run, notebook, relative, parameters, body.no_cache)
    started = await start_run(store, notebook, parameters, body.no_cache, part=part)
    return models.RunStarted(run_id=started.id, notebook=relative)


async def _resubmit(
    kfp: KfpOptions,
    run: RunRecord,
    notebook: Path,
    relative: str,
    parameters: Mapping[str, str],
    no_cache: bool,
) -> models.RunStarted:
    """Submit a KFP run's notebook again to the same Kubeflow Pipelines (its own cache applies)."""
    if no_cache:
        raise InvalidInput("no_cache: Kubeflow Pipelines runs use KFP's cache; re-run without no_cache")
    host = run.labels.get(KFP_HOST_LABEL)
    if host and kfp.host and host.rstrip("/") != kfp.host.strip().rstrip("/"):
        raise Conflict(f"run {run.id} ran on Kubeflow Pipelines at {host}; this server submits to {kfp.host}")
    done = await asyncio.to_thread(submit, kfp, notebook, parameters, None, kfp.image or None)
    return models.RunStarted(run_id=done.record.id, notebook=relative)


def synced_kfp_run(run_id: str, kfp: KfpOptions) -> RunRecord:
    """The run after asking its KFP server for its state (blocking; an unreachable server is ignored)."""
    from kfjupyter.kfp.sync import sync_kfp_runs

    with opened_store() as store:
        sync_kfp_runs(store, [run_id], token=kfp.token or None, cookie=kfp.cookie or None, timeout_s=5.0)
        return store.get_run(run_id)


def _script_spec(run: RunRecord) -> tuple[str, list[str]]:
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
            "not recorded; start it again with POST training and its env"
        )
    args = entry.get("args")
    return str(entry["path"]), [str(a) for a in args] if isinstance(args, list) else []


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _count(value: object, default: int | None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def relaunch(run: RunRecord, script: str) -> TrainJob:
    """Start ``run``'s script job again with its recorded spec (blocking; run in a thread)."""
    spec = run.parameters
    _, args = _script_spec(run)
    backend: BackendName = "kubernetes" if run.backend == "kubernetes" else "local"
    return start_script_job(
        script,
        args,
        num_nodes=_count(spec.get("num_nodes"), 1) or 1,
        procs_per_node=_count(spec.get("procs_per_node"), None),
        gpus_per_node=_count(spec.get("gpus_per_node"), 0) or 0,
        cpu=_text(spec.get("cpu")),
        memory=_text(spec.get("memory")),
        image=_text(spec.get("image")),
        env={},
        backend=backend,
        runtime=_text(spec.get("runtime")),
        name=run.name,
    )


async def rerun_training(
    root_dir: str, run: RunRecord, body: RerunRequest, allow_hidden: bool = False
) -> models.RunStarted:
    """Re-launch a script training job; 409 for a function job."""
    if body.parameters:
        raise InvalidInput("parameters: a training job has no notebook parameters to override")
    script, _ = _script_spec(run)
    relative = _existing(root_dir, script, run.id, "script")
    confine_file(
        root_dir, relative, suffixes=(".py",), kind="Python script", field="script", allow_hidden=allow_hidden
    )
    job = await asyncio.to_thread(relaunch, run, script)
    return models.RunStarted(run_id=job.id, notebook=relative)


class RunRerunHandler(KfJupyterHandler):
    """``POST /kfjupyter/api/runs/{id}/rerun``: ``{no_cache?, parameters?}`` -> 202 ``RunStarted``."""

    @api("execute")
    async def post(self, run_id: str) -> None:
        """Start the run again (from a step: ``from_step``/``only``); 404 unknown run or missing notebook, 409 while active."""
        body = self.parse_body(RerunRequest)
        root_dir = self.serverapp.root_dir
        kfp: KfpOptions = self.settings["kfjupyter_kfp"]
        with opened_store() as store:
            store.mark_interrupted()
            run = store.get_run(run_id)
            if run.status in ACTIVE_RUN_STATUSES and run.backend == KFP_BACKEND:
                run = await asyncio.to_thread(synced_kfp_run, run_id, kfp)
            if run.status in ACTIVE_RUN_STATUSES:
                raise Conflict(f"run {run_id} is still {run.status}; wait for it to end or cancel it first")
            if run.kind == "training":
                if body.from_step or body.only:
                    raise InvalidInput("from_step: a training job has no steps to re-run from")
                started = await rerun_training(root_dir, run, body, self.allow_hidden)
            else:
                started = await rerun_pipeline(store, root_dir, run, body, kfp, self.allow_hidden)
        self.reply(started, status=202)


def rerun_routes(api_prefix: str) -> list[tuple[str, type[KfJupyterHandler]]]:
    """The routes of this module under ``api_prefix`` (e.g. ``/kfjupyter/api``)."""
    return [(rf"{api_prefix}/runs/{RUN_ID}/rerun/?", RunRerunHandler)]
