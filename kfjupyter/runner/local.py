"""The local executor: runs a pipeline's steps as processes on this machine.

It drives the pure :class:`~kfjupyter.runner.state.Scheduler` with real processes forked by a
:class:`~kfjupyter.runner.forkserver.ForkServer`: independent steps run in parallel, each attempt
has a timeout, failures are retried as configured, cancellation kills whole process groups, and
every step whose cache key is known is reused instead of run.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kfjupyter.compiler.ir import JsonValue, Pipeline, Step
from kfjupyter.context import METRICS_FILE
from kfjupyter.errors import StepFailed
from kfjupyter.runner import planning, reuse, stepinputs
from kfjupyter.runner.child import RESULT_FILE
from kfjupyter.runner.forkserver import ForkServer
from kfjupyter.runner.job import SavedOutput, StepResult
from kfjupyter.runner.recording import Recorder, now
from kfjupyter.runner.scratch import Persister, scratch_root
from kfjupyter.runner.selection import EVERYTHING, Selection
from kfjupyter.runner.state import Scheduler
from kfjupyter.runner.stepfiles import checked_metrics, own_file, read_result
from kfjupyter.store import CacheEntry, EventRecord, RunRecord, RunStore, RunUpdate
from kfjupyter.store.liveness import process_start

EventCallback = Callable[[str, str, str], None]


@dataclass
class LocalOptions:
    """How a local run behaves."""

    use_cache: bool = True
    track_reads: bool = field(default_factory=lambda: os.environ.get("KFJUPYTER_TRACK_READS") != "off")
    max_parallel: int = field(default_factory=lambda: os.cpu_count() or 1)
    on_event: EventCallback | None = None
    selection: Selection = EVERYTHING  # --from / --only / --reuse


@dataclass
class _Attempt:
    step: str
    key: str
    deadline: float | None
    pid: int | None = None
    timed_out: bool = False


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _is_own_file(path: Path) -> bool:
    try:
        return own_file(path, "log") is not None
    except StepFailed:
        return False


class LocalRun:
    """One run of one pipeline on this machine."""

    def __init__(
        self,
        store: RunStore,
        run: RunRecord,
        pipeline: Pipeline,
        parameters: Mapping[str, JsonValue],
        workdir: Path,
        options: LocalOptions,
        server: ForkServer | None = None,
    ) -> None:
        self._server = server
        self.store = store
        self.run = run
        self.pipeline = pipeline
        self.parameters = dict(parameters)
        self.workdir = workdir
        self.options = options
        self.recorder = Recorder(store, run.id)
        self.produced: dict[str, dict[str, SavedOutput]] = {}
        self.metrics: dict[str, float] = {}
        skipped = options.selection.skipped
        self.scheduler = Scheduler(
            {name: ups for name, ups in planning.dag_of(pipeline).items() if name not in skipped},
            max_parallel=max(1, options.max_parallel),
            retries={s.name: s.settings.retries for s in pipeline.steps if s.name not in skipped},
        )
        self._attempts: dict[str, _Attempt] = {}  # by job path
        self._keys: dict[str, str] = {}  # step -> cache key of its successful attempt
        self._persister = Persister(scratch_root(), lambda m: self._events.put(m))
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._by_pid: dict[int, str] = {}
        self._before: dict[str, tuple[str, str, stepinputs.StepInputs]] | None = (
            None  # earlier runs, read lazily
        )
        self._unrecorded: set[str] = set()  # steps whose outputs are being persisted, not yet recorded
        self._ended: dict[str, float] = {}  # step -> when it ended, while its outputs are persisted
        self._late_failures: list[str] = []  # steps whose outputs could not be kept in the run folder

    def _emit(self, step: str, status: str, detail: str = "") -> None:
        if self.options.on_event is not None:
            self.options.on_event(step, status, detail)

    def execute(self) -> str:
        """Run every step to the end; return the run's final status."""
        server = self._server or ForkServer()
        self._events = server.events
        server.preload(planning.preload_modules(self.pipeline))
        owner = os.getpid()
        self.store.update_run(
            self.run.id,
            RunUpdate(
                status="running",
                owner_pid=owner,
                owner_host=socket.gethostname(),
                owner_start=process_start(owner),
            ),
        )
        self.recorder.init_steps({s.name: s.upstream for s in self.pipeline.steps})
        for name in self.options.selection.skipped:
            self.recorder.step(name, "skipped", error=f"not selected ({self.options.selection.option})")
            self._emit(name, "skipped")
        try:
            self._loop(server)
        except KeyboardInterrupt:
            self._cancel("cancelled by the user (Ctrl-C)")
            self._drain(server)
        except BaseException as crash:  # the driver itself failed: stop its steps, say so, re-raise
            self._abandon(server, crash)
            raise
        finally:
            if self._server is None:
                server.close()
            self._persister.remove_run(self.run.id)
        outcome = self.scheduler.outcome
        if outcome == "succeeded" and self._late_failures:
            outcome = "failed"
        error = None
        if outcome != "succeeded":
            failed = [n for n, s in self.scheduler.statuses().items() if s.value == "failed"]
            failed += [n for n in self._late_failures if n not in failed]
            error = f"step(s) failed: {', '.join(failed)}" if failed else "cancelled"
        self.store.update_run(self.run.id, RunUpdate(status=outcome, error=error))
        return outcome

    def _loop(self, server: ForkServer) -> None:
        ready_server = False
        while not self.scheduler.done or self._persisting():
            launched = self._launch_ready(server, ready_server)
            ready_server = ready_server or launched
            if self.scheduler.done and not self._persisting():
                break
            self._wait_one(server)

    def _persisting(self) -> bool:
        """Whether a step's outputs are still being kept: until the driver has handled its message."""
        return bool(self._unrecorded)

    def _launch_ready(self, server: ForkServer, server_ready: bool) -> bool:
        launched = False
        progress = True
        while progress:
            progress = False
            for name in self.scheduler.next_ready():
                step = self.pipeline.step(name)
                key = planning.cache_key(
                    self.pipeline, step, self.parameters, self.produced, workdir=self.workdir
                )
                parts = self._record_inputs(step) if self.scheduler.attempt(name) == 0 else None
                decision = self._decide(step, key)
                if parts is not None and decision.reasons == [reuse.NO_ENTRY]:
                    decision.reasons = self._changes(name, parts) or decision.reasons
                self.scheduler.start(name)
                if decision.entry is not None:
                    self.produced[name] = {o.name: o for o in decision.outputs}
                    self.metrics.update(self.recorder.reuse_metrics(name, decision.entry))
                    self.scheduler.succeed(name, cached=True)
                    t = now()
                    self.recorder.step(
                        name, "cached", cached=True, cache_key=key, started_at=t, finished_at=t
                    )
                    self._emit(
                        name, "cached", decision.reasons[0] if name in self.options.selection.pinned else ""
                    )
                    progress = True
                    continue
                if name in self.options.selection.needed:  # its cache entry went away since the plan
                    self._refuse(name, decision.reasons)
                    progress = True
                    continue
                if not server_ready:
                    server.wait_ready()
                    server_ready = True
                self._start_attempt(server, name, key, decision.reasons)
                launched = True
        return launched

    def _decide(self, step: Step, key: str) -> reuse.Decision:
        """Reuse the step's cached outputs, or the run named by ``--reuse``, or run it (``--from``)."""
        selection = self.options.selection
        pinned = selection.pinned.get(step.name)
        if pinned is not None:
            entry = CacheEntry(
                cache_key=key, run_id=selection.reuse_run or self.run.id, step=step.name, reads=[]
            )
            return reuse.Decision(key, entry, list(pinned.values()), [reuse.reused_reason(selection)])
        if step.name in selection.forced:
            return reuse.Decision(key, reasons=[f"{selection.option}: it runs again"])
        return reuse.decide(self.store, step, key, use_cache=self.options.use_cache)

    def _changes(self, name: str, parts: stepinputs.KeyParts) -> list[str]:
        """What changed since step ``name`` last ran in another run of the notebook (as the plan says it)."""
        if self.run.notebook is None:
            return []
        if self._before is None:  # read once, at the first step that is not cached
            steps = [s.name for s in self.pipeline.steps]
            self._before = stepinputs.baseline(self.store, self.run.notebook, steps, exclude=self.run.id)
        return reuse.changed(name, self._before, parts)

    def _record_inputs(self, step: Step) -> stepinputs.KeyParts:
        """Record what the step is given (its parameters, its inputs' files) for ``%kf load`` and the plan."""
        parts = stepinputs.key_parts(
            self.pipeline, step, self.parameters, self.produced, workdir=self.workdir
        )
        kept: dict[str, dict[str, SavedOutput]] = {}  # where the values stay: the run folder, not scratch
        steps_dir = self.store.run_dir(self.run.id) / "steps"
        for producer in set(step.inputs.values()):
            kept[producer] = {
                name: replace(out, path=str(steps_dir / producer / "outputs" / Path(out.path).name))
                if self._persister.in_scratch(out)
                else out
                for name, out in self.produced.get(producer, {}).items()
            }
        stepinputs.record(self.store, self.run.id, step, self.parameters, kept, parts)
        return parts

    def _refuse(self, name: str, reasons: list[str]) -> None:
        """Fail a step the selection needed but that can no longer be taken from the cache."""
        error = reuse.not_available(self.options.selection, name, reasons).message
        self.scheduler.fail(name, error)
        self.recorder.step(name, "failed", finished_at=now(), error=error)
        self._emit(name, "failed", error)
        self._mark_upstream_failed()

    def _start_attempt(self, server: ForkServer, name: str, key: str, reasons: list[str]) -> None:
        step = self.pipeline.step(name)
        step_dir = self.store.run_dir(self.run.id) / "steps" / name
        if step_dir.exists():
            shutil.rmtree(step_dir)
        step_dir.mkdir(parents=True)
        log_path = self.store.log_path(self.run.id, name, create_dir=True)
        job = planning.build_job(
            run_id=self.run.id,
            pipeline=self.pipeline,
            step=step,
            parameters=self.parameters,
            produced=self.produced,
            workdir=self.workdir,
            step_dir=step_dir,
            log_path=log_path,
        )
        if self._persister.root is not None:
            job.scratch_dir = str(self._persister.root / self.run.id / name)
        job.track_reads = self.options.track_reads
        job.private_dirs = [str(self.store.run_dir(self.run.id).parent)]
        if self._persister.root is not None:
            job.private_dirs.append(str(self._persister.root))
        job_path = step_dir / "job.json"
        job_path.write_text(job.to_json())
        timeout = step.settings.timeout_s
        self._attempts[str(job_path)] = _Attempt(name, key, time.monotonic() + timeout if timeout else None)
        server.launch(job_path, os.environ)
        attempt = self.scheduler.attempt(name)
        self.recorder.step(name, "running", attempt=attempt, cache_key=key, started_at=now(), cached=False)
        if attempt == 1 and reasons:
            self.store.add_event(
                EventRecord(run_id=self.run.id, step=name, type="cache_miss", payload={"reasons": reasons})
            )
        changed = [r for r in reasons if r not in reuse.ROUTINE]
        self._emit(name, "running", f"attempt {attempt}" if attempt > 1 else "; ".join(changed))

    def _next_deadline(self) -> float | None:
        deadlines = [
            a.deadline for a in self._attempts.values() if a.deadline is not None and not a.timed_out
        ]
        return min(deadlines) - time.monotonic() if deadlines else None

    def _wait_one(self, server: ForkServer) -> None:
        wait = self._next_deadline()
        try:
            message = server.events.get(timeout=max(0.0, wait) if wait is not None else None)
        except queue.Empty:
            self._kill_overdue()
            return
        self._handle(message)

    def _handle(self, message: dict[str, object]) -> None:
        if "started" in message:
            attempt = self._attempts.get(str(message["started"]))
            if attempt is None:
                return  # a step of an earlier run on this (pooled) server
            attempt.pid = int(message["pid"])  # type: ignore[call-overload]
            self._by_pid[attempt.pid] = str(message["started"])
        elif "exited" in message:
            job_path = self._by_pid.pop(int(message["exited"]), None)  # type: ignore[call-overload]
            if job_path is None:
                return  # a step of an earlier run on this (pooled) server
            code, sig = message.get("code"), message.get("signal")
            self._finish(
                job_path, code if isinstance(code, int) else None, sig if isinstance(sig, int) else None
            )
        elif "persisted" in message:
            self._record_persisted(message)
        elif "server_exited" in message:
            for job_path in list(self._attempts):
                self._finish(job_path, None, None, lost=True)

    def _kill_overdue(self) -> None:
        current = time.monotonic()
        for attempt in self._attempts.values():
            if (
                attempt.deadline is not None
                and current >= attempt.deadline
                and attempt.pid
                and not attempt.timed_out
            ):
                attempt.timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(attempt.pid, signal.SIGKILL)

    def _finish(self, job_path: str, code: int | None, sig: int | None, *, lost: bool = False) -> None:
        attempt = self._attempts.pop(job_path)
        name = attempt.step
        step_dir = Path(job_path).parent
        log = self.store.log_path(self.run.id, name)
        tampered: str | None = None
        result: StepResult | None = None
        try:  # everything here was written by (or is in reach of) the step's own code
            metrics_file = step_dir / METRICS_FILE
            self.metrics.update(self.recorder.metrics(checked_metrics(self.run.id, name, metrics_file)))
            result = read_result(step_dir / RESULT_FILE)
            own_file(log, "log")
        except StepFailed as unusable:
            tampered = f"step '{name}' failed: {unusable.message}"
        if self.scheduler.status(name).value == "cancelled" or self.scheduler.cancelling:
            with contextlib.suppress(Exception):
                self.scheduler.fail(name, "cancelled")
            self.recorder.step(name, "cancelled", finished_at=now(), signal=sig, exit_code=code)
            self._emit(name, "cancelled")
            return
        if tampered is None and result is not None and result.ok and code == 0:
            try:
                self._succeed(name, attempt, result, step_dir)
                return
            except StepFailed as unchecked:
                tampered = f"step '{name}' failed: {unchecked.message}"
        timeout = self.pipeline.step(name).settings.timeout_s
        if attempt.timed_out:
            error = f"step '{name}' timed out after {timeout:g} s and was killed"
        elif lost:
            error = f"step '{name}' was lost: the step process server stopped"
        elif sig is not None:
            error = f"step '{name}' was killed by {_signal_name(sig)}"
        elif tampered is not None:
            error = tampered
        elif result is not None and result.error:
            error = result.error.splitlines()[0]
        else:
            error = f"step '{name}' exited with status {code} without a result (see its log)"
        retry = self.scheduler.fail(name, error)
        self.recorder.step(
            name, "pending" if retry else "failed", finished_at=now(), error=error, exit_code=code, signal=sig
        )
        if _is_own_file(log):
            self.recorder.outputs(name, [], [], log)
        self._emit(name, "retrying" if retry else "failed", error)
        if not retry:
            self._mark_upstream_failed()

    def _succeed(self, name: str, attempt: _Attempt, result: StepResult, step_dir: Path) -> None:
        """A step ended well: let its dependents start, and record it once its outputs are checked.

        Its outputs are copied out of scratch and every output is checked (size and sha256) in the
        background (see :class:`Persister`); until then the step's record stays ``running``.
        """
        self.produced[name] = {o.name: o for o in result.outputs}
        self.scheduler.succeed(name)
        self._keys[name] = attempt.key
        self._ended[name] = now()
        if result.outputs:
            self._unrecorded.add(name)
            self._persister.submit(name, result, step_dir / "outputs")
        else:
            self._kept(name, result)

    def _kept(self, name: str, result: StepResult) -> None:
        """Record a step whose outputs are all on disk and checked: succeeded, its artifacts, its cache entry."""
        self.recorder.step(name, "succeeded", finished_at=self._ended.pop(name, now()), exit_code=0)
        self._emit(name, "succeeded")
        try:
            self.recorder.outputs(
                name, result.outputs, result.figures, self.store.log_path(self.run.id, name)
            )
        except (OSError, ValueError) as error:  # a figure or the log moved away meanwhile
            self._warn(name, f"some files of step '{name}' could not be recorded ({error})")
        self.recorder.cache(self._keys[name], name, result)

    def _record_persisted(self, message: dict[str, Any]) -> None:
        name = str(message["persisted"])
        self._unrecorded.discard(name)
        result = message.get("result")
        if isinstance(result, StepResult):
            self._kept(name, result)
            return
        error = f"step '{name}' failed: {message.get('error')}"
        self._late_failures.append(name)
        self.recorder.step(name, "failed", finished_at=self._ended.pop(name, now()), error=error)
        self._emit(name, "failed", error)

    def _warn(self, name: str, message: str) -> None:
        self.store.add_event(
            EventRecord(run_id=self.run.id, step=name, type="warning", payload={"message": message})
        )

    def _mark_upstream_failed(self) -> None:
        for name, state in self.scheduler.statuses().items():
            if state.value == "upstream_failed" and self.recorder.steps[name].status != "upstream_failed":
                self.recorder.step(name, "upstream_failed")
                self._emit(name, "upstream_failed")

    def _cancel(self, reason: str) -> None:
        for name in self.scheduler.cancel():
            for attempt in self._attempts.values():
                if attempt.step == name and attempt.pid:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(attempt.pid, signal.SIGKILL)
        for name, state in self.scheduler.statuses().items():
            if state.value == "cancelled" and self.recorder.steps[name].status == "pending":
                self.recorder.step(name, "cancelled", error=reason)

    def _abandon(self, server: ForkServer, error: BaseException) -> None:
        """Kill the steps still running and record the run interrupted (it can be resumed).

        The process may live on (a notebook kernel), so no liveness check would ever tell.
        """
        deadline = time.monotonic() + 5
        while any(a.pid is None for a in self._attempts.values()) and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):  # learn the pids of steps just launched
                message = server.events.get(timeout=0.2)
                if "started" in message:
                    self._handle(message)
        for attempt in self._attempts.values():
            if attempt.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(attempt.pid, signal.SIGKILL)
        reason = f"the run stopped because its driver failed ({type(error).__name__}: {error})"[:1000]
        with contextlib.suppress(Exception):  # the store may be what failed
            for name, record in self.recorder.steps.items():
                if record.status == "running":
                    self.recorder.step(name, "interrupted", finished_at=now(), error=reason)
            self.store.update_run(self.run.id, RunUpdate(status="interrupted", error=reason))

    def _drain(self, server: ForkServer) -> None:
        deadline = time.monotonic() + 10
        while self._attempts and time.monotonic() < deadline:
            try:
                self._handle(server.events.get(timeout=0.5))
            except queue.Empty:
                continue
