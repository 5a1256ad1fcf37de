"""REST handlers of training jobs: start a script job, list, describe, read rank logs, cancel.

Starting goes through the run operations (:func:`kfjupyter.runs.operations.start_run`); the views
read the training facade (``get_job``, ``list_jobs``) with its own run store for
``KFJUPYTER_HOME``. Every call runs in a worker thread: submitting,
syncing a cluster job and cancelling (which waits for the ranks to stop) may take seconds and must
not block the server. A script must be a ``.py`` file inside the server's root directory.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from kfjupyter.errors import InvalidInput, NotFound
from kfjupyter.runs.backend import ScriptStart
from kfjupyter.runs.operations import start_run
from kfjupyter.runs.training import cancel_job
from kfjupyter.server import models, models_training
from kfjupyter.server.handlers import KfJupyterHandler, api
from kfjupyter.server.models_pipelines import LogQuery
from kfjupyter.server.paths import confine_file, shown
from kfjupyter.server.requests import opened_store, parse_query
from kfjupyter.server.run_files import checked_log_path
from kfjupyter.training.facade import get_job, list_jobs
from kfjupyter.training.job import TrainJob, job_from_records, step_name

JOB_ID = r"(?P<job_id>[^/]+)"
RANK = r"(?P<rank>[^/]+)"
#: Most digits of a rank in a URL (a job has at most 1024 nodes x 1024 processes).
_RANK_DIGITS = 7


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def summary(job: TrainJob, parameters: Mapping[str, object]) -> models_training.TrainingSummary:
    """The list view of one job; ``parameters`` are its run's recorded spec (for the GPUs)."""
    return models_training.TrainingSummary(
        id=job.id,
        name=job.name,
        backend=job.backend,
        status=job.status,
        reason=job.reason,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        num_nodes=job.num_nodes,
        procs_per_node=job.procs_per_node,
        gpus_per_node=_int(parameters.get("gpus_per_node"), 0),
    )


def _parameters(job_id: str) -> dict[str, object]:
    with opened_store() as store:
        return dict(store.get_run(job_id).parameters)


def describe(job_id: str) -> models_training.TrainingDetail:
    """A fresh snapshot of one job with its ranks and metric names (blocking; run in a thread)."""
    handle = get_job(job_id)
    job = handle.job
    parameters = _parameters(job.id)
    entry = parameters.get("entrypoint")
    script, args = None, []
    if isinstance(entry, dict) and entry.get("kind") == "script":
        script = str(entry.get("path"))
        recorded = entry.get("args")
        args = [str(a) for a in recorded] if isinstance(recorded, list) else []
    ranks = [
        models_training.TrainingRank(
            rank=s.rank,
            step=s.name,
            status=s.status,
            exit_code=s.exit_code,
            started_at=s.started_at,
            finished_at=s.finished_at,
            error=s.error,
        )
        for s in job.steps
    ]
    return models_training.TrainingDetail(
        job=summary(job, parameters),
        script=script,
        args=args,
        ranks=ranks,
        metrics=sorted(handle.metrics()),
    )


def _list(limit: int) -> models_training.TrainingList:
    jobs = [handle.job for handle in list_jobs(limit=limit)]
    params: dict[str, dict[str, object]] = {}
    with opened_store() as store:
        for job in jobs:
            with contextlib.suppress(NotFound):  # deleted since it was listed
                params[job.id] = dict(store.get_run(job.id).parameters)
    return models_training.TrainingList(jobs=[summary(job, params.get(job.id, {})) for job in jobs])


class TrainingHandler(KfJupyterHandler):
    """``POST /kfjupyter/api/training`` (start a script job) and ``GET`` (list jobs, newest first)."""

    @api("execute")
    async def post(self) -> None:
        """Validate the body, confine the script to the root and start the job; 202 with its id."""
        body = self.parse_body(models_training.TrainingRequest)
        script = confine_file(
            self.serverapp.root_dir,
            body.script,
            suffixes=(".py",),
            kind="Python script",
            field="script",
            allow_hidden=self.allow_hidden,
        )
        start = ScriptStart(
            script=script,
            args=body.args,
            num_nodes=body.num_nodes,
            procs_per_node=body.procs_per_node,
            gpus_per_node=body.gpus_per_node,
            cpu=body.cpu,
            memory=body.memory,
            image=body.image,
            env=body.env,
            target=body.backend,
            name=body.name,
        )
        with opened_store() as store:
            run = await (await asyncio.to_thread(start_run, self.context_for(store), start)).wait_async()
            job = job_from_records(run, store.get_steps(run.id))
        self.reply(
            models_training.TrainingStarted(
                run_id=job.id, name=job.name, backend=job.backend, status=job.status
            ),
            status=202,
        )

    @api("read")
    async def get(self) -> None:
        """List recent jobs."""
        query = parse_query(models_training.TrainingListQuery, self.request.query_arguments)
        self.reply(await asyncio.to_thread(_list, query.limit))


class TrainingJobHandler(KfJupyterHandler):
    """``GET /kfjupyter/api/training/{id}``: one job with its ranks and metric names."""

    @api("read")
    async def get(self, job_id: str) -> None:
        """Describe one job; 404 when there is none."""
        self.reply(await asyncio.to_thread(describe, job_id))


class TrainingLogHandler(KfJupyterHandler):
    """``GET /kfjupyter/api/training/{id}/logs/{rank}?offset=N``: whole log lines of one rank."""

    @api("read")
    async def get(self, job_id: str, rank: str) -> None:
        """Read a rank's log from ``offset``; pass ``next_offset`` back to follow it."""
        offset = parse_query(LogQuery, self.request.query_arguments).offset
        if not (rank.isascii() and rank.isdigit() and len(rank) <= _RANK_DIGITS):
            raise InvalidInput(f"rank: must be a whole number >= 0 (a rank of the job), got {shown(rank)}")
        job = await asyncio.to_thread(lambda: get_job(job_id).job)
        if int(rank) not in {s.rank for s in job.steps}:
            raise NotFound(
                f"training job {job.name!r} has no rank {rank}; its ranks are 0..{len(job.steps) - 1}"
            )
        step = step_name(int(rank))
        with opened_store() as store:
            checked_log_path(store, job.id, step)
            chunk = store.read_log(job.id, step, offset)
        self.reply(
            models.LogText(
                run_id=job.id, step=step, text=chunk.text, next_offset=chunk.next_offset, exists=chunk.exists
            )
        )


def _cancel(job_id: str) -> TrainJob:
    """Stop every rank of a job of this server's store (blocking: waits for the ranks to stop)."""
    with opened_store() as store:
        return cancel_job(store, job_id)


class TrainingCancelHandler(KfJupyterHandler):
    """``POST /kfjupyter/api/training/{id}/cancel``: stop every rank; 202 with the new status."""

    @api("write")
    async def post(self, job_id: str) -> None:
        """Cancel the job (a finished job is left as it is)."""
        job = await asyncio.to_thread(_cancel, job_id)
        self.reply(models_training.TrainingCancelled(run_id=job.id, status=job.status), status=202)


def training_routes(api_prefix: str) -> list[tuple[str, type[KfJupyterHandler]]]:
    """The routes of this module under ``api_prefix`` (e.g. ``/kfjupyter/api``)."""
    jobs = f"{api_prefix}/training"
    return [
        (rf"{jobs}/?", TrainingHandler),
        (rf"{jobs}/{JOB_ID}/?", TrainingJobHandler),
        (rf"{jobs}/{JOB_ID}/logs/{RANK}/?", TrainingLogHandler),
        (rf"{jobs}/{JOB_ID}/cancel/?", TrainingCancelHandler),
    ]
