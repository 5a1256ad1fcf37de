"""A fork server: one warm process that forks a fresh process for every step attempt.

Starting Python, IPython and the notebook's libraries for each step would cost far more than the
step itself. The server process imports them once (``preload``), creates the IPython shell, then
forks one child per job. Each child starts its own session (so killing its process group takes
``!shell`` grandchildren too) and runs :func:`kfjupyter.runner.child.child_main`.

Protocol, one JSON object per line: the client writes ``{"run": JOB_PATH}``; the server answers
``{"started": JOB_PATH, "pid": PID}`` and, when the child ends,
``{"exited": PID, "code": CODE | null, "signal": SIG | null}``. When the client goes away (EOF on
the server's stdin), the server kills every child's process group and exits.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import json
import os
import queue
import selectors
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from kfjupyter.errors import Unavailable
from kfjupyter.runner.tracking import forget_local_modules


def _send(message: dict[str, Any]) -> None:
    os.write(1, (json.dumps(message) + "\n").encode())


def _preload(modules: Sequence[str]) -> None:
    for name in modules:
        # A module that fails to import here will fail again, with a proper message, in the step.
        with contextlib.suppress(BaseException):
            importlib.import_module(name)
    # Keep the installed libraries warm, but let each step import the notebook's own modules as they
    # are on disk now (an edited helper must never run as it was when this server started).
    forget_local_modules()


def _become_step_process(wake_fds: tuple[int, int]) -> None:
    """Detach a freshly forked child from the server: own session, default signals, no stdin."""
    os.setsid()
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    for fd in wake_fds:
        os.close(fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)


def _read_all(fd: int) -> str:
    chunks = []
    while chunk := os.read(fd, 4096):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode()


def _write_all_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fork_spare(shell: Any, wake_fds: tuple[int, int]) -> tuple[int, int]:
    """Fork a step process that warms up, then waits for its job path on a pipe.

    Running a first cell in a forked child costs milliseconds of copy-on-write page faults. A spare
    takes them while the previous step runs, so a job handed to it starts at once. Returns the
    spare's pid and the pipe end to write the job path to (closing it without a path dismisses it).
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid:
        os.close(read_end)
        return pid, write_end
    code = 70
    try:
        os.close(write_end)
        _become_step_process(wake_fds)
        with contextlib.suppress(Exception):
            shell.run_cell("pass", store_history=False, silent=True)
        request = _read_all(read_end)
        if not request:
            os._exit(0)
        job = json.loads(request)
        if job.get("env") is not None:  # the caller's environment now, not the server's at start
            os.environ.clear()
            os.environ.update(job["env"])
        from kfjupyter.runner.child import child_main

        code = child_main(Path(job["job"]), shell)
    except BaseException:  # the boundary of the forked process: report, never return into the server
        import traceback

        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


class _Children:
    """The server's children: steps it reports on, and at most one spare it does not."""

    def __init__(self, shell: Any, wake_fds: tuple[int, int]) -> None:
        self._shell = shell
        self._wake_fds = wake_fds
        self.steps: set[int] = set()
        self._others: set[int] = set()  # spares, current or dismissed
        self._spare: tuple[int, int] | None = None

    def refill(self) -> None:
        """Make sure a warm spare is waiting."""
        if self._spare is None:
            self._spare = _fork_spare(self._shell, self._wake_fds)
            self._others.add(self._spare[0])

    def dismiss_spare(self) -> None:
        """Let the spare exit (it predates newly preloaded modules)."""
        if self._spare is not None:
            os.close(self._spare[1])
            self._spare = None

    def dispatch(self, job_path: str, env: dict[str, str] | None = None) -> int:
        """Hand ``job_path`` (and the environment to run it in) to a spare; return its pid."""
        while True:
            self.refill()
            assert self._spare is not None
            pid, pipe = self._spare
            self._spare = None
            try:
                _write_all_fd(pipe, json.dumps({"job": job_path, "env": env}).encode())
            except BrokenPipeError:
                continue  # that spare died; take a fresh one
            finally:
                os.close(pipe)
            self._others.discard(pid)
            self.steps.add(pid)
            return pid

    def reap(self) -> None:
        """Collect ended children; report the steps among them."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self._spare is not None and self._spare[0] == pid:
                os.close(self._spare[1])
                self._spare = None
            self._others.discard(pid)
            if pid not in self.steps:
                continue
            self.steps.discard(pid)
            if os.WIFSIGNALED(status):
                _send({"exited": pid, "code": None, "signal": os.WTERMSIG(status)})
            else:
                _send({"exited": pid, "code": os.WEXITSTATUS(status), "signal": None})

    def kill_all(self) -> None:
        """Kill every child's process group."""
        for pid in self.steps | self._others:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)


def serve(preload: Sequence[str]) -> None:
    """Run the fork server on stdin/stdout until stdin closes."""
    os.environ.setdefault("MPLBACKEND", "Agg")  # steps have no screen; figures are saved as PNG
    _preload(["kfjupyter.serializers", "kfjupyter.context", "cloudpickle", *preload])
    from kfjupyter.runner.child import make_shell

    shell = make_shell()
    # Everything loaded so far is shared with every child; keep the collector from touching it
    # (which would copy those pages into each child).
    gc.freeze()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children = _Children(shell, (wake_r, wake_w))
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ, "stdin")
    selector.register(wake_r, selectors.EVENT_READ, "wake")
    buffer = b""
    _send({"ready": os.getpid()})
    try:
        while True:
            for key, _ in selector.select():
                if key.data == "wake":
                    with contextlib.suppress(BlockingIOError):
                        os.read(wake_r, 4096)
                    children.reap()
                    continue
                chunk = os.read(0, 65536)
                if not chunk:
                    return
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    request = json.loads(line)
                    if "preload" in request:
                        _preload(request["preload"])
                        gc.freeze()
                        children.dismiss_spare()
                        children.refill()
                        continue
                    job_path = request["run"]
                    pid = children.dispatch(job_path, request.get("env"))
                    _send({"started": job_path, "pid": pid})
            children.reap()
            children.refill()
    finally:
        children.kill_all()
        # Nothing to clean up that the OS does not: skip interpreter shutdown (tens of ms with IPython).
        os._exit(0)


class ForkServer:
    """Client side: starts the server process and turns its messages into a queue of events."""

    def __init__(self, preload: Sequence[str] = (), env: Mapping[str, str] | None = None) -> None:
        cmd = [
            sys.executable,
            "-c",
            "import sys; from kfjupyter.runner.forkserver import serve; serve(sys.argv[1:])",
        ]
        self._proc = subprocess.Popen(
            [*cmd, *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._ready = threading.Event()
        self._closed = False
        assert self._proc.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self._proc.stdout,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[bytes]) -> None:
        for line in stream:
            message = json.loads(line)
            if "ready" in message:
                self._ready.set()
            else:
                self.events.put(message)
        self.events.put({"server_exited": self._proc.wait()})

    def _write(self, request: dict[str, Any]) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            stdin.write((json.dumps(request) + "\n").encode())
            stdin.flush()
        except BrokenPipeError as error:
            raise Unavailable("the step fork server stopped unexpectedly; run again") from error

    def preload(self, modules: Sequence[str]) -> None:
        """Ask the server to import ``modules`` before it forks the next step."""
        if modules:
            self._write({"preload": list(modules)})

    def launch(self, job_path: Path, env: Mapping[str, str] | None = None) -> None:
        """Ask the server to run the job at ``job_path`` in a fresh process, with ``env`` if given."""
        self._write({"run": str(job_path), "env": dict(env) if env is not None else None})

    @property
    def alive(self) -> bool:
        """Whether the server process is running and this client has not closed it."""
        return not self._closed and self._proc.poll() is None

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Block until the server has preloaded and is ready to fork."""
        if not self._ready.wait(timeout):
            raise Unavailable("the step fork server did not start in time")

    def close(self) -> None:
        """Stop the server; it kills any step still running. Closing twice does nothing."""
        if self._closed:
            return
        self._closed = True
        if not self._ready.is_set():
            # Still preloading and not needed any more (every step was cached): don't wait for it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
        if self._proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._reader.join(timeout=5)


_POOL: list[ForkServer] = []
_POOL_LOCK = threading.Lock()
POOL_SIZE = 2


def acquire() -> ForkServer:
    """A warm fork server from this process's pool, or a new one (start-up is paid once per process)."""
    with _POOL_LOCK:
        while _POOL:
            server = _POOL.pop()
            if server.alive:
                return server
            server.close()
    return ForkServer()


def release(server: ForkServer) -> None:
    """Give a server back to the pool for the next run, or close it."""
    while True:  # messages of the finished run are of no use to the next one
        try:
            server.events.get_nowait()
        except queue.Empty:
            break
    with _POOL_LOCK:
        if server.alive and len(_POOL) < POOL_SIZE:
            _POOL.append(server)
            return
    server.close()


@atexit.register
def _close_pool() -> None:
    with _POOL_LOCK:
        servers, _POOL[:] = list(_POOL), []
    for server in servers:
        server.close()
