"""The local backend: a job's workers run on this machine, in the notebook's own environment.

:meth:`LocalBackend.submit` records the job in the run store (a ``training`` run with one step per
rank), writes the launch plan and the function's cloudpickle payload into the run directory, and
starts a detached supervisor (:mod:`kfjupyter.training.supervisor`) that owns the workers. Nothing
is installed and the kernel's working directory is never changed: workers inherit the kernel's
environment (plus ``env``), working directory and ``sys.path``. Everything else reads the store,
so a job can be inspected, followed and cancelled from any process, also after a kernel restart.
If anything fails between recording the job and starting its supervisor (a file that cannot be
written, an interpreter that cannot be executed), the job is marked ``failed`` with the cause and
the error is raised: no job is ever left ``pending`` without a process that owns it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from kfjupyter.errors import Conflict, InvalidInput, KfJupyterError, NotFound, Unavailable
from kfjupyter.store import Engine, EventRecord, RunRecord, RunStore, RunUpdate, StepRecord
from kfjupyter.store.liveness import owner_alive, process_start, same_process, this_host
from kfjupyter.training.backends.base import TrainingBackend
from kfjupyter.training.job import MetricPoint, TrainJob, job_from_records, points_from_records, step_name
from kfjupyter.training.launch import PAYLOAD_FILE, LaunchPlan, write_plan
from kfjupyter.training.logs import RankLogs
from kfjupyter.training.spec import ScriptEntrypoint, TrainingSpec
from kfjupyter.training.supervisor import STOP_GRACE_S, WORKERS_FILE

SUPERVISOR_LOG = "supervisor.log"
#: The interpreter that runs the supervisor (the kernel's own); a module attribute so tests can replace it.
SUPERVISOR_PYTHON = sys.executable
_CANCEL_WAIT_S = STOP_GRACE_S + 5.0
_FIND_PAGE = 200


def visible_gpus() -> int:
    """Count the GPUs this process can see, without importing torch if it is not loaded yet."""
    torch = sys.modules.get("torch")
    if torch is not None:
        with contextlib.suppress(Exception):
            return int(torch.cuda.device_count())
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip() and d.strip() != "-1"])
    return len(list(Path("/dev").glob("nvidia[0-9]*")))


def resolve_procs(spec: TrainingSpec, gpus: int) -> int:
    """Worker processes per node: as asked, else one per requested or visible GPU, else one."""
    if spec.procs_per_node is not None:
        return spec.procs_per_node
    if spec.gpus_per_node:
        return spec.gpus_per_node
    return max(gpus, 1)


def _parameters(spec: TrainingSpec, procs: int) -> dict[str, object]:
    data: dict[str, object] = spec.model_dump(mode="json", exclude={"env"})
    data["env_names"] = sorted(spec.env)
    data["layout"] = {"num_nodes": spec.num_nodes, "procs_per_node": procs}
    return data


class LocalBackend(TrainingBackend):
    """Runs jobs as local processes and keeps them in a run store."""

    name = Engine.LOCAL

    def __init__(self, store: RunStore) -> None:
        self.store = store

    def submit(
        self, spec: TrainingSpec, payload: bytes | None, files: Mapping[str, bytes] | None = None
    ) -> TrainJob:
        """Record the job, write its plan and payload, and start its supervisor (``files`` are here)."""
        gpus = visible_gpus()
        if spec.gpus_per_node > gpus:
            raise InvalidInput(
                f"Job {spec.name!r} asks for {spec.gpus_per_node} GPU(s) per node, but this machine "
                f"has {gpus} visible; lower gpus_per_node or run it on a cluster."
            )
        procs = resolve_procs(spec, gpus)
        script = spec.entrypoint if isinstance(spec.entrypoint, ScriptEntrypoint) else None
        if (script is None) != (payload is not None):
            raise InvalidInput("A function job needs a payload and a script job must not have one.")
        run = RunRecord(
            kind="training",
            name=spec.name,
            backend=self.name,
            parameters=_parameters(spec, procs),
        )
        self.store.create_run(run)
        try:
            world = spec.world_size(procs)
            self.store.upsert_steps([StepRecord(run_id=run.id, name=step_name(r)) for r in range(world)])
            run_dir = self.store.run_dir(run.id, create=True)
            if payload is not None:
                (run_dir / PAYLOAD_FILE).write_bytes(payload)
            plan = LaunchPlan(
                run_id=run.id,
                home=str(self.store.home),
                kind="script" if script else "function",
                script=script.path if script else None,
                script_args=list(script.args) if script else [],
                num_nodes=spec.num_nodes,
                procs_per_node=procs,
                sys_path=[p for p in sys.path if p],
            )
            write_plan(run_dir, plan)
            self._note_cluster_only(run.id, spec)
            process = self._start_supervisor(run_dir, spec.env)
        except BaseException as exc:
            error = self._failed_to_start(run.id, spec.name, exc)
            if error is exc:
                raise
            raise error from exc
        self._adopt(run.id, process)
        return self.get_job(run.id)

    def _failed_to_start(self, run_id: str, name: str, exc: BaseException) -> BaseException:
        """Mark a job that could not be started ``failed`` and return the error to raise."""
        if isinstance(exc, KfJupyterError):
            cause = exc.message
        elif isinstance(exc, OSError):
            cause = f"{exc.strerror or exc}" + (f": {exc.filename!r}" if exc.filename else "")
        else:
            cause = f"{type(exc).__name__}: {exc}"
        message = f"Job {name!r} could not be started ({cause}); it is marked failed."
        with contextlib.suppress(KfJupyterError):
            error = f"The job could not be started: {cause}."
            self.store.update_run(run_id, RunUpdate(status="failed", error=error))
            self.store.upsert_steps(
                [
                    s.model_copy(update={"status": "failed", "error": error})
                    for s in self.store.get_steps(run_id)
                ]
            )
        if not isinstance(exc, Exception) or isinstance(exc, KfJupyterError):
            return exc  # KeyboardInterrupt and our own errors leave as they are
        if isinstance(exc, OSError):
            return Unavailable(message, detail=repr(exc), reason="training_start_failed")
        return InvalidInput(message, detail=repr(exc), reason="training_start_failed")

    def _note_cluster_only(self, run_id: str, spec: TrainingSpec) -> None:
        ignored = {k: v for k, v in (("cpu", spec.cpu), ("memory", spec.memory), ("image", spec.image)) if v}
        if spec.runtime:
            ignored["runtime"] = spec.runtime
        if ignored:
            self.store.add_event(
                EventRecord(
                    run_id=run_id,
                    type="note",
                    payload={
                        "message": f"{', '.join(ignored)} apply on a cluster only; the local backend "
                        "runs in this machine's environment.",
                        "ignored": ignored,
                    },
                )
            )

    def _start_supervisor(self, run_dir: Path, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Start the detached supervisor of the job in ``run_dir``; ``OSError`` if it cannot be executed."""
        env = {**os.environ, **extra_env, "PYTHONUNBUFFERED": "1"}
        with (run_dir / SUPERVISOR_LOG).open("ab") as log:
            process = subprocess.Popen(
                [SUPERVISOR_PYTHON, "-m", "kfjupyter.training.supervisor", str(run_dir)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        return process

    def _adopt(self, run_id: str, process: subprocess.Popen[bytes]) -> None:
        """Reap the started supervisor in the background and record it as the job's owner."""
        start = process_start(process.pid)  # before it can be reaped and its pid reused
        # Reap the supervisor as soon as it exits (no zombie); the job does not depend on this process.
        threading.Thread(target=process.wait, name=f"kfjupyter-reap-{run_id}", daemon=True).start()
        with contextlib.suppress(Conflict):
            self.store.update_run(
                run_id, RunUpdate(owner_pid=process.pid, owner_host=this_host(), owner_start=start)
            )

    # -- reading ------------------------------------------------------------------------------

    def _run(self, job_id: str) -> RunRecord:
        try:
            run = self.store.get_run(job_id)
        except InvalidInput:
            raise NotFound(f"There is no training job {job_id!r}.") from None
        if run.kind != "training":
            raise NotFound(f"{job_id!r} is a {run.kind} run, not a training job.")
        return run

    def _owner_alive(self, run: RunRecord) -> bool:
        if run.owner_host not in (None, this_host()):
            return True  # another host's job: it cannot be judged from here
        return run.owner_pid is None or owner_alive(run.owner_pid, run.owner_start)

    def get_job(self, job_id: str) -> TrainJob:
        """Return a snapshot; a job whose supervisor died is marked ``Failed`` (Interrupted)."""
        run = self._run(job_id)
        if run.status in ("pending", "running") and not self._owner_alive(run):
            with contextlib.suppress(Conflict):
                error = "The job's supervisor process ended unexpectedly; see supervisor.log in its run directory."
                self.store.update_run(job_id, RunUpdate(status="interrupted", error=error))
                self._kill_workers(job_id)  # orphaned ranks of a job that is now over
            run = self._run(job_id)
        return job_from_records(run, self.store.get_steps(job_id))

    def find_job(self, name: str) -> TrainJob:
        """Return the job with this id, else the newest with this name."""
        with contextlib.suppress(NotFound):
            return self.get_job(name)
        offset = 0
        while True:
            runs = self.store.list_runs(kind="training", limit=_FIND_PAGE, offset=offset)
            for run in runs:
                if run.name == name and run.backend == self.name:
                    return self.get_job(run.id)
            if len(runs) < _FIND_PAGE:
                raise NotFound(f"There is no local training job named or with id {name!r}.")
            offset += _FIND_PAGE

    def list_jobs(self, limit: int = 50) -> list[TrainJob]:
        """Return local jobs, newest first."""
        runs = self.store.list_runs(kind="training", limit=limit)
        return [self.get_job(r.id) for r in runs if r.backend == self.name]

    def logs(self, job_id: str, rank: int | None, follow: bool, tail: int | None) -> Iterator[str]:
        """Yield log lines of one rank or of all ranks merged by time; see :class:`RankLogs`."""
        job = self.get_job(job_id)
        ranks = [s.rank for s in job.steps]
        if rank is not None and rank not in ranks:
            raise NotFound(f"Job {job.name!r} has no rank {rank}; its ranks are 0..{len(ranks) - 1}.")
        steps = [step_name(r) for r in ([rank] if rank is not None else ranks)]
        reader = RankLogs(self.store, job_id, steps)
        return reader.iterate(tail, follow, lambda: self.get_job(job_id).finished)

    def metrics(self, job_id: str, rank: int | None) -> list[MetricPoint]:
        """Return metric values, ordered by name, rank, then index."""
        self._run(job_id)
        points = points_from_records(self.store.list_metrics(job_id))
        if rank is not None:
            points = [p for p in points if p.rank == rank]
        return sorted(points, key=lambda p: (p.name, p.rank, p.index, p.ts))

    # -- cancelling ---------------------------------------------------------------------------

    def cancel(self, job_id: str) -> TrainJob:
        """Ask the supervisor to stop every rank; if it is gone, stop them here."""
        job = self.get_job(job_id)
        if job.finished:
            return job
        run = self._run(job_id)
        if run.owner_pid is not None and self._owner_alive(run):
            with contextlib.suppress(ProcessLookupError):
                os.kill(run.owner_pid, signal.SIGTERM)
        deadline = time.monotonic() + _CANCEL_WAIT_S
        while time.monotonic() < deadline:
            job = self.get_job(job_id)
            if job.finished:
                return job
            time.sleep(0.05)
        self._kill_workers(job_id)
        with contextlib.suppress(Conflict):
            self.store.update_run(job_id, RunUpdate(status="cancelled", error="Cancelled by the user."))
        return self.get_job(job_id)

    def _kill_workers(self, job_id: str) -> None:
        """Kill the process group of each recorded worker that is still the process recorded.

        A pid whose start time differs from the recorded one now names another process: never
        signalled. (A bare pid, as older versions recorded, has no start time to compare.)
        """
        path = self.store.run_dir(job_id) / WORKERS_FILE
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
            for entry in json.loads(path.read_text(encoding="utf-8")):
                pid, start = (entry["pid"], entry.get("start")) if isinstance(entry, dict) else (entry, None)
                pid = int(pid)
                if pid <= 0 or not same_process(pid, start if isinstance(start, str) else None):
                    continue
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
