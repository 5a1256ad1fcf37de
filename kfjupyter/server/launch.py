"""Starting a notebook run from the server: path confinement and the detached ``kfjupyter run``.

The server never runs a pipeline in its own process. It starts ``python -m kfjupyter.cli.main run
<notebook> --json`` as a detached background process (its own session, so it outlives a server
restart) with the server's environment, ``KFJUPYTER_HOME`` included. The server picks the new
run's id and passes it on (``--run-id``), then polls the run store until that run exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from jupyter_core.paths import is_hidden

from kfjupyter.errors import (
    Forbidden,
    InvalidInput,
    KfJupyterError,
    NotFound,
    Unavailable,
    error_for_exit_status,
)
from kfjupyter.notebook.reader import read_notebook
from kfjupyter.store import RunRecord, RunStore
from kfjupyter.store.models import new_run_id

#: How long to wait for the started process to create its run.
START_TIMEOUT_S = 10.0
_POLL_S = 0.1


def confine(root_dir: str | Path, relative: str, field: str = "path", *, allow_hidden: bool = False) -> Path:
    """Return the absolute path of notebook ``relative`` inside ``root_dir``.

    Raises ``InvalidInput`` for an absolute or non-notebook path and for a file that is not a
    Python nbformat notebook (bad JSON, no cells...), ``Forbidden`` for one that leaves the root
    (``..``, symlinks) or is hidden (see :func:`confine_file`) and ``NotFound`` when there is no
    such file.
    """
    notebook = confine_file(
        root_dir, relative, suffixes=(".ipynb",), kind="notebook", field=field, allow_hidden=allow_hidden
    )
    check_notebook(root_dir, notebook, field)
    return notebook


def shown(path: str, most: int = 120) -> str:
    """``path`` quoted for a message, shortened in the middle when it is very long."""
    if len(path) > most:
        path = f"{path[: most // 2]}...{path[-most // 2 :]}"
    return repr(path)


def confine_file(
    root_dir: str | Path,
    relative: str,
    *,
    suffixes: tuple[str, ...],
    kind: str,
    field: str = "path",
    must_exist: bool = True,
    allow_hidden: bool = False,
) -> Path:
    """Return the absolute, symlink-free path of ``relative`` inside ``root_dir``.

    ``relative`` must end with one of ``suffixes`` (``kind`` names such a file in messages, which
    start with ``field``). Raises ``InvalidInput`` for an absolute path, a backslash separator, a NUL, a
    wrong suffix, a directory or a path the file system cannot use (too long, a symlink loop),
    ``Forbidden`` for a path that leaves the root (``..``, symlinks) or, unless ``allow_hidden``
    (the server's ``ContentsManager.allow_hidden``), that is hidden as Jupyter's file API hides
    files (a name starting with '.', as given or after following symlinks), and, with
    ``must_exist``, ``NotFound`` when there is no such file.
    """
    name = shown(relative)
    if relative.startswith(("/", "\\")) or Path(relative).is_absolute() or "\x00" in relative:
        raise InvalidInput(f"{field}: {name} must be relative to the server's root directory")
    if "\\" in relative:
        raise InvalidInput(f"{field}: {name} uses '\\'; separate folders with '/'")
    if not relative.lower().endswith(suffixes):
        raise InvalidInput(f"{field}: {name} is not a {kind} ({', '.join(suffixes)})")
    try:
        root = Path(root_dir).expanduser().resolve()
        path = (root / relative).resolve()
        outside = not path.is_relative_to(root)
        is_dir, is_file = (False, False) if outside else (path.is_dir(), path.is_file())
    except RuntimeError:  # Python 3.11 resolve(): "Symlink loop from ..."
        raise InvalidInput(f"{field}: {name} is a loop of symbolic links") from None
    except ValueError:  # UnicodeEncodeError: a lone surrogate cannot be a file name
        raise InvalidInput(f"{field}: {name} is not valid Unicode text") from None
    except OSError as error:  # ENAMETOOLONG, ELOOP, EACCES...
        reason = error.strerror or str(error)
        raise InvalidInput(f"{field}: {name} cannot be used ({reason}); check the path") from None
    if outside:
        raise Forbidden(f"{field}: {name} is outside the server's root directory")
    if not allow_hidden and _hidden(root, relative, path):
        raise Forbidden(
            f"{field}: {name} is hidden (a name starting with '.'), and this server hides such files "
            "(ContentsManager.allow_hidden is off)"
        )
    if is_dir:
        raise InvalidInput(f"{field}: {name} is a directory, not a {kind}")
    if must_exist and not is_file:
        raise NotFound(f"{field}: no {kind} at {name}")
    return path


def _hidden(root: Path, relative: str, path: Path) -> bool:
    """Whether Jupyter's file API hides ``relative`` (as given, or ``path`` it leads to) under ``root``."""
    given = os.path.relpath(os.path.normpath(root / relative), root)
    if any(part.startswith(".") for part in (*Path(given).parts, *path.relative_to(root).parts)):
        return True
    try:  # the file system's own hidden flags, where it has them
        return is_hidden(str(path), str(root))
    except OSError:  # not there yet, or not usable: the checks that follow say why
        return False


def check_notebook(root_dir: str | Path, notebook: Path, field: str = "path") -> None:
    """Read ``notebook`` once; ``InvalidInput`` naming ``field`` when it is not a Python nbformat notebook."""
    try:
        read_notebook(notebook)
    except InvalidInput as error:
        message = error.message.replace(str(notebook), relative_to_root(root_dir, notebook))
        raise InvalidInput(f"{field}: {message}") from None


def relative_to_root(root_dir: str | Path, path: str | Path) -> str:
    """``path`` relative to ``root_dir`` with '/' separators.

    ``Forbidden`` when it lies outside, ``NotFound`` when it cannot be resolved (a symlink loop).
    """
    root = Path(root_dir).expanduser().resolve()
    try:
        real = Path(path).resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop (3.11) or a name the file system refuses
        raise NotFound(
            f"{path} cannot be found: it is a loop of symbolic links or an unusable name"
        ) from None
    if not real.is_relative_to(root):
        raise Forbidden(f"{path} is outside the server's root directory")
    return real.relative_to(root).as_posix()


@dataclass(frozen=True)
class Part:
    """Which steps a run runs: ``--from STEP``, ``--only STEP``, and ``--reuse RUN`` for the ones above."""

    from_step: str | None = None
    only: str | None = None
    reuse: str | None = None


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
    """A run id that no run in ``store`` has and that this server never handed out before."""
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


def _spawn(cmd: list[str], stderr: IO[bytes]) -> subprocess.Popen[bytes]:
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


async def start_run(
    store: RunStore,
    notebook: Path,
    parameters: Mapping[str, str],
    no_cache: bool,
    timeout_s: float = START_TIMEOUT_S,
    part: Part | None = None,
) -> RunRecord:
    """Start ``notebook`` in a detached process and return the run it created.

    The server picks the run's id and hands it to the process, so concurrent starts each get
    their own run. Raises ``InvalidInput`` with the CLI's own message when the process exits
    without creating the run (lint errors, unknown parameters) and ``Unavailable`` when the run
    does not appear in ``timeout_s``.
    """
    run_id = mint_run_id(store)
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - the child writes it; closed below
    try:
        proc = _spawn(run_command(notebook, parameters, no_cache, run_id, part), stderr)
        # Reap the child when it ends so it never lingers as a zombie that looks alive.
        threading.Thread(target=proc.wait, name=f"kfjupyter-run-{proc.pid}", daemon=True).start()
        deadline = time.monotonic() + timeout_s
        while True:
            found = _started(store, run_id, proc.pid)
            if found is not None:
                return found
            code = proc.poll()
            if code is not None:
                found = _started(store, run_id, proc.pid)
                with contextlib.suppress(NotFound):
                    return found or store.get_run(run_id)  # it ended (or failed) before we looked
                raise _failure(stderr, code)
            if time.monotonic() > deadline:
                raise Unavailable(
                    f"the run of {notebook.name} did not start within {timeout_s:.0f} s; "
                    f"check run {run_id} in the Kubeflow runs list in a moment"
                )
            await asyncio.sleep(_POLL_S)
    finally:
        stderr.close()
