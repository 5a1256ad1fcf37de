"""Starting a notebook run from the server: path confinement and the detached ``kfjupyter run``.

The server never runs a pipeline in its own process. It starts ``python -m kfjupyter.cli.main run
<notebook> --json`` as a detached background process (its own session, so it outlives a server
restart) with the server's environment, ``KFJUPYTER_HOME`` included, and finds the run that
process created by polling the run store.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from kfjupyter.errors import Forbidden, InvalidInput, NotFound, Unavailable
from kfjupyter.store import RunRecord, RunStore

#: How long to wait for the started process to create its run.
START_TIMEOUT_S = 10.0
_POLL_S = 0.1


def confine(root_dir: str | Path, relative: str) -> Path:
    """Return the absolute path of notebook ``relative`` inside ``root_dir``.

    Raises ``InvalidInput`` for an absolute or non-notebook path, ``Forbidden`` for one that leaves
    the root (``..``, symlinks) and ``NotFound`` when there is no such file.
    """
    return confine_file(root_dir, relative, suffixes=(".ipynb",), kind="notebook")


def confine_file(
    root_dir: str | Path,
    relative: str,
    *,
    suffixes: tuple[str, ...],
    kind: str,
    field: str = "path",
    must_exist: bool = True,
) -> Path:
    """Return the absolute, symlink-free path of ``relative`` inside ``root_dir``.

    ``relative`` must end with one of ``suffixes`` (``kind`` names such a file in messages, which
    start with ``field``). Raises ``InvalidInput`` for an absolute path or a wrong suffix,
    ``Forbidden`` for a path that leaves the root (``..``, symlinks) and, with ``must_exist``,
    ``NotFound`` when there is no such file.
    """
    if relative.startswith(("/", "\\")) or Path(relative).is_absolute() or "\x00" in relative:
        raise InvalidInput(f"{field}: {relative!r} must be relative to the server's root directory")
    if not relative.lower().endswith(suffixes):
        raise InvalidInput(f"{field}: {relative!r} is not a {kind} ({', '.join(suffixes)})")
    root = Path(root_dir).expanduser().resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise Forbidden(f"{field}: {relative!r} is outside the server's root directory")
    if must_exist and not path.is_file():
        raise NotFound(f"{field}: no {kind} at {relative!r}")
    if path.is_dir():
        raise InvalidInput(f"{field}: {relative!r} is a directory")
    return path


def relative_to_root(root_dir: str | Path, path: str | Path) -> str:
    """``path`` relative to ``root_dir`` with '/' separators; ``Forbidden`` when it lies outside."""
    root = Path(root_dir).expanduser().resolve()
    real = Path(path).resolve()
    if not real.is_relative_to(root):
        raise Forbidden(f"{path} is outside the server's root directory")
    return real.relative_to(root).as_posix()


def run_command(notebook: Path, parameters: Mapping[str, str], no_cache: bool) -> list[str]:
    """The argument list (no shell) that runs ``notebook`` with the CLI."""
    cmd = [sys.executable, "-m", "kfjupyter.cli.main", "run", str(notebook), "--json"]
    # ``--param=NAME=VALUE`` as one token: a value starting with '-' is never taken for an option.
    cmd += [f"--param={name}={value}" for name, value in parameters.items()]
    if no_cache:
        cmd.append("--no-cache")
    return cmd


def _find_new_run(store: RunStore, notebook: Path, since: float, known: set[str]) -> RunRecord | None:
    for run in store.list_runs(kind="pipeline", limit=20):
        if run.notebook == str(notebook) and run.id not in known and run.created_at >= since - 1.0:
            return run
    return None


def _failure(stderr: IO[bytes], returncode: int) -> InvalidInput:
    stderr.seek(0)
    lines = [line for line in stderr.read().decode(errors="replace").splitlines() if line.strip()]
    message = lines[-1] if lines else f"kfjupyter run exited with status {returncode}"
    return InvalidInput(message.removeprefix("kfjupyter: error: "), detail="\n".join(lines[-20:]) or None)


async def start_run(
    store: RunStore,
    notebook: Path,
    parameters: Mapping[str, str],
    no_cache: bool,
    timeout_s: float = START_TIMEOUT_S,
) -> RunRecord:
    """Start ``notebook`` in a detached process and return the run it created.

    Raises ``InvalidInput`` with the CLI's own message when the process exits without creating a
    run (lint errors, unknown parameters) and ``Unavailable`` when no run appears in ``timeout_s``.
    """
    known = {r.id for r in store.list_runs(kind="pipeline", limit=20)}
    since = time.time()
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - the child writes it; closed below
    try:
        proc = subprocess.Popen(
            run_command(notebook, parameters, no_cache),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
            close_fds=True,
        )
        # Reap the child when it ends so it never lingers as a zombie that looks alive.
        threading.Thread(target=proc.wait, name=f"kfjupyter-run-{proc.pid}", daemon=True).start()
        deadline = time.monotonic() + timeout_s
        while True:
            found = _find_new_run(store, notebook, since, known)
            if found is not None:
                return found
            code = proc.poll()
            if code is not None:
                found = _find_new_run(store, notebook, since, known)
                if found is not None:
                    return found
                raise _failure(stderr, code)
            if time.monotonic() > deadline:
                raise Unavailable(
                    f"the run of {notebook.name} did not start within {timeout_s:.0f} s; "
                    "check the Kubeflow runs list in a moment"
                )
            await asyncio.sleep(_POLL_S)
    finally:
        stderr.close()
