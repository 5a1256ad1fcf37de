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

import contextlib
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


def _send(message: dict[str, Any]) -> None:
    os.write(1, (json.dumps(message) + "\n").encode())


def _preload(modules: Sequence[str]) -> None:
    for name in modules:
        # A module that fails to import here will fail again, with a proper message, in the step.
        with contextlib.suppress(BaseException):
            importlib.import_module(name)


def _fork_child(job_path: str, shell: Any, wake_fds: tuple[int, int]) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 70
    try:
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
        from kfjupyter.runner.child import child_main

        code = child_main(Path(job_path), shell)
    except BaseException:  # the boundary of the forked process: report, never return into the server
        import traceback

        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _reap(children: set[int]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        if os.WIFSIGNALED(status):
            _send({"exited": pid, "code": None, "signal": os.WTERMSIG(status)})
        else:
            _send({"exited": pid, "code": os.WEXITSTATUS(status), "signal": None})


def serve(preload: Sequence[str]) -> None:
    """Run the fork server on stdin/stdout until stdin closes."""
    _preload(["kfjupyter.serializers", "kfjupyter.context", *preload])
    from kfjupyter.runner.child import make_shell

    shell = make_shell()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: set[int] = set()
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
                    _reap(children)
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
                        continue
                    job_path = request["run"]
                    pid = _fork_child(job_path, shell, (wake_r, wake_w))
                    children.add(pid)
                    _send({"started": job_path, "pid": pid})
            _reap(children)
    finally:
        for pid in children:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
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

    def launch(self, job_path: Path) -> None:
        """Ask the server to fork a process for the job at ``job_path``."""
        self._write({"run": str(job_path)})

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
