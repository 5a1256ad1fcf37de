"""Confinement of the run files the REST API serves: logs and artifacts stay inside their run directory.

A step runs user code with the user's rights, so anything under ``<home>/runs/<id>/`` may have been
replaced by a symlink. Before the server reads a log or an artifact it resolves the path and refuses
(``Forbidden``) one that leads out of the run's own directory, or a run directory that itself leads
out of ``<home>/runs``.
"""

from __future__ import annotations

from pathlib import Path

from kfjupyter.errors import Forbidden
from kfjupyter.store import RunStore


def real_run_dir(store: RunStore, run_id: str) -> Path:
    """The symlink-free directory of ``run_id``; ``Forbidden`` when it lies outside ``<home>/runs``."""
    runs = (store.home / "runs").resolve()
    try:
        real = store.run_dir(run_id).resolve()
    except (OSError, RuntimeError):  # a symlink loop (Python 3.11 raises RuntimeError)
        raise Forbidden(f"the directory of run {run_id} cannot be resolved") from None
    if real.parent != runs:
        raise Forbidden(f"the directory of run {run_id} leads outside the run store")
    return real


def inside_run_dir(store: RunStore, run_id: str, path: Path) -> Path | None:
    """``path`` with symlinks resolved if it lies inside the run's directory, else None."""
    run_dir = real_run_dir(store, run_id)
    try:
        real = path.resolve()
    except (OSError, RuntimeError, ValueError):  # unusable, a loop, not encodable
        return None
    return real if real.is_relative_to(run_dir) else None


def checked_log_path(store: RunStore, run_id: str, step: str) -> Path:
    """The log file of ``step`` (it may not exist yet).

    ``Forbidden`` when it is a symlink leading out of the run's directory or something other than a
    regular file (a FIFO would block the server's reads, a folder cannot be read).
    """
    path = store.log_path(run_id, step)
    real = inside_run_dir(store, run_id, path)
    if real is None:
        raise Forbidden(f"the log of step {step!r} of run {run_id} leads outside the run's directory")
    if real.exists() and not real.is_file():
        raise Forbidden(f"the log of step {step!r} of run {run_id} is not a regular file")
    return path
