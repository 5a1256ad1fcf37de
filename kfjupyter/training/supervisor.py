"""The supervisor of a local job: ``python -m kfjupyter.training.supervisor RUN_DIR``.

A detached process (own session, so it outlives the kernel) that starts one worker process per
rank, each in its own process group, with torchrun-compatible variables. It writes every output
line of every rank, timestamped, to that rank's log in the run store; moves metrics (``name=value``
stdout lines and ``kfjupyter.log_metric`` values) into the store with their history; and records
each rank's and the job's status. The first rank that fails fails the job at once: the others are
stopped and the error carries the failing rank's traceback. SIGTERM cancels the job.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING

from kfjupyter.store.liveness import process_start
from kfjupyter.training.launch import LaunchPlan, free_port, rank_env, read_plan, worker_command
from kfjupyter.training.metrics import MetricCounter, parse_metric_line

if TYPE_CHECKING:
    from kfjupyter.store import MetricRecord, RunStore

WORKERS_FILE = "workers.json"
STOP_GRACE_S = 3.0
_POLL_S = 0.02
_FLUSH_S = 0.25
_TAIL_LINES = 60
_INDEX_NAMES = ("step", "global_step", "iteration", "iter", "epoch")


def worker_entries(pids: list[int]) -> list[dict[str, object]]:
    """What :data:`WORKERS_FILE` records of each worker: its pid and when it started.

    Whoever stops orphaned workers later signals a pid only while it still names that process
    (see :func:`kfjupyter.store.liveness.same_process`), never a process that reused the pid.
    """
    return [{"pid": pid, "start": process_start(pid)} for pid in pids]


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _stop_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


class _Rank:
    """One worker process and what the supervisor keeps about it."""

    def __init__(self, rank: int, process: subprocess.Popen[bytes], step_dir: Path) -> None:
        self.rank = rank
        self.process = process
        self.step_dir = step_dir
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
        self.readers: list[threading.Thread] = []
        self.metrics_offset = 0
        self.exit_code: int | None = None
        self.stopped = False
        self.started_at = time.time()
        self.log: IO[bytes] | None = None

    @property
    def name(self) -> str:
        return f"rank-{self.rank}"


class Supervisor:
    """Runs one local job from its launch plan and records it in the run store."""

    def __init__(self, run_dir: Path, plan: LaunchPlan) -> None:
        self.run_dir = run_dir
        self.plan = plan
        self.ranks: list[_Rank] = []
        self.cancelled = threading.Event()
        self._lock = threading.Lock()
        self._pending: list[tuple[int, str, float, int | None, float]] = []
        self._counter = MetricCounter()

    # -- processes ----------------------------------------------------------------------------

    def start_workers(self) -> None:
        """Start every rank's process (before anything slow is imported)."""
        nodes, procs = self.plan["num_nodes"], self.plan["procs_per_node"]
        port = free_port()
        command = worker_command(self.plan, self.run_dir)
        for rank in range(nodes * procs):
            step_dir = self.run_dir / "ranks" / f"rank-{rank}"
            step_dir.mkdir(parents=True, exist_ok=True)
            env = dict(os.environ)
            env.update(rank_env(rank, nodes, procs, port))
            env.update(
                PYTHONUNBUFFERED="1",
                KFJUPYTER_RUN_ID=self.plan["run_id"],
                KFJUPYTER_STEP=f"rank-{rank}",
                KFJUPYTER_STEP_DIR=str(step_dir),
            )
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                start_new_session=True,
            )
            self.ranks.append(_Rank(rank, process, step_dir))
        entries = worker_entries([r.process.pid for r in self.ranks])
        (self.run_dir / WORKERS_FILE).write_text(json.dumps(entries), encoding="utf-8")

    def start_readers(self, store: RunStore) -> None:
        """Copy each rank's stdout and stderr, timestamped, into its log file."""
        for rank in self.ranks:
            log = rank.log = store.log_path(self.plan["run_id"], rank.name, create_dir=True).open("ab")
            log_lock = threading.Lock()
            for tag, pipe in (("stdout", rank.process.stdout), ("stderr", rank.process.stderr)):
                assert pipe is not None
                thread = threading.Thread(
                    target=self._read, args=(rank, tag, pipe, log, log_lock), daemon=True
                )
                thread.start()
                rank.readers.append(thread)

    def _read(self, rank: _Rank, tag: str, pipe: IO[bytes], log: IO[bytes], log_lock: threading.Lock) -> None:
        prefix = f" {tag} ".encode()
        for raw in iter(pipe.readline, b""):
            now = datetime.datetime.now()
            line = raw if raw.endswith(b"\n") else raw + b"\n"
            with log_lock:
                log.write(now.isoformat(timespec="milliseconds").encode() + prefix + line)
                log.flush()
            text = line.decode("utf-8", errors="replace").rstrip("\n")
            if tag == "stderr":
                rank.stderr_tail.append(text)
            else:
                self._stdout_metrics(rank.rank, text, now.timestamp())
        pipe.close()

    def _stdout_metrics(self, rank: int, text: str, ts: float) -> None:
        pairs = parse_metric_line(text)
        if not pairs:
            return
        values = dict(pairs)
        explicit = next(
            (int(values[n]) for n in _INDEX_NAMES if n in values and float(values[n]).is_integer()), None
        )
        # ``step=``/``epoch=`` on a line is the x of the other values, not a metric of its own.
        measured = [(n, v) for n, v in pairs if n not in _INDEX_NAMES] if explicit is not None else pairs
        with self._lock:
            self._pending.extend((rank, name, value, explicit, ts) for name, value in measured)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop every rank still running: ``sig`` to its process group, SIGKILL after a grace time."""
        running = [r for r in self.ranks if r.process.poll() is None]
        for rank in running:
            rank.stopped = True
            _stop_group(rank.process.pid, sig)
        deadline = time.monotonic() + STOP_GRACE_S
        while any(r.process.poll() is None for r in running) and time.monotonic() < deadline:
            time.sleep(_POLL_S)
        for rank in running:
            _stop_group(rank.process.pid, signal.SIGKILL)  # also ends what the rank started
            rank.process.wait()

    def wait(self, store: RunStore) -> _Rank | None:
        """Wait for every rank to end; return the first rank that failed, if any."""
        failed: _Rank | None = None
        next_flush = 0.0
        while True:
            for rank in self.ranks:
                code = rank.process.poll()
                if code is not None and rank.exit_code is None:
                    rank.exit_code = code
                    if code != 0 and failed is None and not self.cancelled.is_set():
                        failed = rank
            if failed is not None or self.cancelled.is_set():
                self.stop()
                break
            if all(r.exit_code is not None for r in self.ranks):
                break
            if time.monotonic() >= next_flush:
                self.flush_metrics(store)
                next_flush = time.monotonic() + _FLUSH_S
            time.sleep(_POLL_S)
        for rank in self.ranks:
            rank.exit_code = rank.process.wait()
            for thread in rank.readers:
                thread.join(timeout=2.0)
            if rank.log is not None and not any(t.is_alive() for t in rank.readers):
                rank.log.close()
        return failed

    # -- store --------------------------------------------------------------------------------

    def _file_metrics(self) -> list[tuple[int, str, float, int | None, float]]:
        found = []
        for rank in self.ranks:
            path = rank.step_dir / "metrics.jsonl"
            try:
                with path.open("rb") as fh:
                    fh.seek(rank.metrics_offset)
                    data = fh.read()
            except FileNotFoundError:
                continue
            data = data[: data.rfind(b"\n") + 1]
            rank.metrics_offset += len(data)
            for line in data.decode("utf-8", errors="replace").splitlines():
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    item = json.loads(line)
                    index = item.get("index")
                    found.append(
                        (
                            rank.rank,
                            str(item["name"]),
                            float(item["value"]),
                            int(index) if index is not None else None,
                            float(item["ts"]),
                        )
                    )
        return found

    def flush_metrics(self, store: RunStore) -> None:
        """Move the metrics seen since the last flush into the store."""
        from kfjupyter.store import MetricRecord

        with self._lock:
            pending, self._pending = self._pending, []
        pending += self._file_metrics()
        records: list[MetricRecord] = []
        for rank, name, value, explicit, ts in pending:
            index = self._counter.index(rank, name, explicit)
            records.append(
                MetricRecord(
                    run_id=self.plan["run_id"],
                    step=f"rank-{rank}",
                    name=name,
                    value=value,
                    index=index,
                    ts=ts,
                )
            )
        if records:
            store.add_metrics(records)

    def failure_text(self, rank: _Rank) -> str:
        """User-safe error naming the failed rank, with its traceback (or its last stderr lines)."""
        code = rank.exit_code
        how = (
            f"was killed by {_signal_name(-code)}" if code is not None and code < 0 else f"exited with {code}"
        )
        tail = list(rank.stderr_tail)
        starts = [i for i, line in enumerate(tail) if line.startswith("Traceback (most recent call last)")]
        shown = tail[starts[-1] :] if starts else tail[-20:]
        return f"Rank {rank.rank} {how}." + ("\n" + "\n".join(shown) if shown else "")


def _record_start(store: RunStore, sup: Supervisor) -> None:
    from kfjupyter.store import RunUpdate, StepRecord
    from kfjupyter.store.liveness import current_owner, process_start

    run_id = sup.plan["run_id"]
    pid, host = current_owner()
    store.upsert_steps(
        [
            StepRecord(run_id=run_id, name=r.name, status="running", attempt=1, started_at=r.started_at)
            for r in sup.ranks
        ]
    )
    started = min(r.started_at for r in sup.ranks)
    claim = RunUpdate(
        status="running", started_at=started, owner_pid=pid, owner_host=host, owner_start=process_start(pid)
    )
    store.update_run(run_id, claim)


def _record_end(store: RunStore, sup: Supervisor, failed: _Rank | None) -> None:
    from kfjupyter.store import LocalDetails, RunUpdate, StepRecord

    run_id, now = sup.plan["run_id"], time.time()
    started = {s.name: s.started_at for s in store.get_steps(run_id)}
    steps = []
    for rank in sup.ranks:
        code = rank.exit_code
        if rank is failed:
            status, error = "failed", sup.failure_text(rank)
        elif code == 0:
            status, error = "succeeded", None
        elif rank.stopped or sup.cancelled.is_set():
            why = "the job was cancelled" if failed is None else f"rank {failed.rank} failed"
            status, error = "cancelled", f"Stopped because {why}."
        else:
            status, error = "failed", sup.failure_text(rank)
        steps.append(
            StepRecord(
                run_id=run_id,
                name=rank.name,
                status=status,
                attempt=1,
                started_at=started.get(rank.name),
                finished_at=now,
                error=error,
                exit_code=code if code is not None and code >= 0 else None,
                signal=-code if code is not None and code < 0 else None,
            )
        )
    store.upsert_steps(steps)
    if failed is not None:
        update = RunUpdate(
            status="failed", error=sup.failure_text(failed), details=LocalDetails(reason="RankFailed")
        )
    elif sup.cancelled.is_set():
        update = RunUpdate(status="cancelled", error="Cancelled by the user.")
    else:
        update = RunUpdate(status="succeeded")
    store.update_run(run_id, update)


def main(argv: list[str]) -> int:
    """Supervise the job whose directory is ``argv[0]``; return the supervisor's exit status."""
    run_dir = Path(argv[0])
    plan = read_plan(run_dir)
    sup = Supervisor(run_dir, plan)
    signal.signal(signal.SIGTERM, lambda *_: sup.cancelled.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        sup.start_workers()
    except OSError as exc:
        sup.stop(signal.SIGKILL)
        return _fail_early(plan, f"The worker processes could not be started: {exc}")
    from kfjupyter.store import open_store

    with open_store(Path(plan["home"])) as store:
        sup.start_readers(store)
        _record_start(store, sup)
        failed = sup.wait(store)
        sup.flush_metrics(store)
        _record_end(store, sup, failed)
    return 0


def _fail_early(plan: LaunchPlan, message: str) -> int:
    from kfjupyter.store import RunUpdate, open_store

    with open_store(Path(plan["home"])) as store:
        store.update_run(plan["run_id"], RunUpdate(status="failed", error=message))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
