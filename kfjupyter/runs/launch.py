"""Starting a notebook run in a detached ``kfjupyter run`` process, under an id picked here.

The caller never runs the pipeline in its own process: :class:`Launch` starts ``python -m
kfjupyter.cli.main run <notebook> --json --run-id=<id>`` in its own session (so it outlives the
caller, e.g. a server restart) with the caller's environment, ``KFJUPYTER_HOME`` included. The id
is minted here and handed down, so concurrent starts of one notebook each get their own run; then
the store is polled until that run exists and its process has taken it over.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from kfjupyter.errors import InvalidInput, KfJupyterError, NotFound, Unavailable, error_for_exit_status
from kfjupyter.runs.backend import Part
from kfjupyter.store import RunRecord, RunStore
from kfjupyter.store.models import new_run_id

#: How long to wait for the started process to create its run.
START_TIMEOUT_S = 10.0
_POLL_S = 0.1


def run_command(
    notebook: Path, parameters: Mapping[str, str], no_cache: bool, run_id: str, part: Part | None = None
) -> list[str]:
    """The argument list (no shell) that runs ``notebook`` with the CLI as run ``run_id``."""
    part = part or Part()
    cmd = [sys.executable, "-m", "kfjupyter.cli.main", "run", str(notebook), "--json", f"--run-id={run_id}"]
    # ``--param=NAME=VALUE`` as one token: a value starting with '-' is never taken for an option.
    cmd += [f"--param={name}={value}" for name, value in parameters.items()]
    if no_cache:
        cmd.append("--no-cache")
    for option, value in (("--from", part.from_step), ("--only", part.only), ("--reuse", part.reuse)):
        if value is not None:
            cmd.append(f"{option}={value}")  # one token, like --param
    return cmd


_minted: set[str] = set()
_minted_lock = threading.Lock()


def mint_run_id(store: RunStore) -> str:
    """A run id that no run in ``store`` has and that this process never handed out before."""
    while True:
        run_id = new_run_id()
        with _minted_lock:
            if run_id in _minted:
                continue
            _minted.add(run_id)
        try:
            store.get_run(run_id)
        except NotFound:
            return run_id


def _started(store: RunStore, run_id: str, pid: int) -> RunRecord | None:
    """The run ``run_id`` once the process ``pid`` has created it and taken it over; None until then."""
    try:
        run = store.get_run(run_id)
    except NotFound:
        return None
    if run.owner_pid is None and run.status == "pending":
        return None  # created, not yet driven: its owner is written next
    if run.owner_pid not in (None, pid):
        # Another process made a run with this id first (ids are random): never answer its run.
        raise Unavailable(f"run id {run_id} was taken by another run at the same moment; try again")
    return run


def _failure(stderr: IO[bytes], returncode: int) -> KfJupyterError:
    """The error the run command reported, of the kind its exit status says (a full disk is no 400)."""
    stderr.seek(0)
    lines = [line for line in stderr.read().decode(errors="replace").splitlines() if line.strip()]
    message = lines[-1] if lines else f"kfjupyter run exited with status {returncode}"
    return error_for_exit_status(
        returncode, message.removeprefix("kfjupyter: error: "), detail="\n".join(lines[-20:]) or None
    )


def spawn(cmd: list[str], stderr: IO[bytes]) -> subprocess.Popen[bytes]:
    """Start ``cmd`` detached; ``InvalidInput`` when its arguments cannot be passed, ``Unavailable`` when no process starts."""
    try:
        return subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
            close_fds=True,
        )
    except ValueError as error:  # a NUL in an argument (the request models refuse these first)
        raise InvalidInput(f"parameters: a value cannot be passed to the run ({error})") from None
    except OSError as error:
        if error.errno == errno.E2BIG:
            raise InvalidInput(
                "parameters: the values are too long for a command line; pass large data as a file path"
            ) from None
        raise Unavailable(f"could not start kfjupyter run ({error.strerror or error}); try again") from None


class Launch:
    """A detached run of ``notebook``: spawned at once, waited on until it has created its run.

    Raises ``InvalidInput`` with the CLI's own message when the process exits without creating the
    run (lint errors, unknown parameters) and ``Unavailable`` when the run does not appear in
    ``timeout_s``.
    """

    def __init__(
        self,
        store: RunStore,
        notebook: Path,
        parameters: Mapping[str, str],
        no_cache: bool,
        timeout_s: float = START_TIMEOUT_S,
        part: Part | None = None,
    ) -> None:
        self.store, self.notebook, self.timeout_s = store, notebook, timeout_s
        self.run_id = mint_run_id(store)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - the child writes it; closed when done
        try:
            self._proc = spawn(run_command(notebook, parameters, no_cache, self.run_id, part), self._stderr)
        except BaseException:
            self._stderr.close()
            raise
        # Reap the child when it ends so it never lingers as a zombie that looks alive.
        threading.Thread(target=self._proc.wait, name=f"kfjupyter-run-{self._proc.pid}", daemon=True).start()
        self._deadline = time.monotonic() + timeout_s

    def poll(self) -> RunRecord | None:
        """The run once it exists; None while the process is still creating it."""
        found = _started(self.store, self.run_id, self._proc.pid)
        if found is not None:
            return found
        code = self._proc.poll()
        if code is not None:
            found = _started(self.store, self.run_id, self._proc.pid)
            with contextlib.suppress(NotFound):
                return found or self.store.get_run(self.run_id)  # it ended (or failed) before we looked
            raise _failure(self._stderr, code)
        if time.monotonic() > self._deadline:
            raise Unavailable(
                f"the run of {self.notebook.name} did not start within {self.timeout_s:.0f} s; "
                f"check run {self.run_id} in the runs list in a moment"
            )
        return None

    def wait(self) -> RunRecord:
        """Block until the run exists."""
        try:
            while (found := self.poll()) is None:
                time.sleep(_POLL_S)
            return found
        finally:
            self._stderr.close()

    async def wait_async(self) -> RunRecord:
        """Wait in an event loop until the run exists."""
        try:
            while (found := self.poll()) is None:
                await asyncio.sleep(_POLL_S)
            return found
        finally:
            self._stderr.close()
