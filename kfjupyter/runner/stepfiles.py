"""What a finished step left in its run folder, read back defensively.

A step runs user code with the user's rights: it may have replaced its log, its metrics file or its
result with a symbolic link, a folder or garbage, and a full disk may have cut an output short.
The driver reads a step's files only through here. Each function raises :class:`StepFailed` with
a message saying what is wrong (and naming the file); the driver then fails that step and goes on.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

from kfjupyter.errors import KfJupyterError, StepFailed
from kfjupyter.runner.job import SavedOutput, StepResult
from kfjupyter.serializers.hashing import sha256_file
from kfjupyter.store import MetricRecord

#: Exceptions that reading data a step wrote can raise (bad JSON, wrong types, deep nesting...).
_BAD_DATA = (ValueError, TypeError, KeyError, RecursionError, KfJupyterError)


def own_file(path: Path, what: str) -> Path | None:
    """``path`` when it is a regular file, ``None`` when there is none.

    ``StepFailed`` when the step put a symbolic link or something else than a file there, or when
    it cannot be looked at.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StepFailed(f"its {what} {path} cannot be read ({error.strerror or error})") from None
    if stat.S_ISLNK(info.st_mode):
        raise StepFailed(f"it replaced its {what} {path} with a symbolic link")
    if not stat.S_ISREG(info.st_mode):
        raise StepFailed(f"it replaced its {what} {path} with something that is not a file")
    return path


def read_result(path: Path) -> StepResult | None:
    """The step's ``result.json``, ``None`` when it wrote none; ``StepFailed`` when unusable."""
    if own_file(path, "result file") is None:
        return None
    try:
        return StepResult.from_json(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise StepFailed(f"its result file {path} cannot be read ({error.strerror or error})") from None
    except _BAD_DATA as error:
        raise StepFailed(f"its result file {path} is not a valid result ({_short(error)})") from None


def checked_metrics(run_id: str, step: str, path: Path) -> list[MetricRecord]:
    """The metrics in the step's metrics file at ``path`` (none without one); ``StepFailed`` when unusable."""
    if own_file(path, "metrics file") is None:
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines if line.strip()]
        return [
            MetricRecord(
                run_id=run_id,
                step=step,
                name=str(r["name"]),
                value=float(r["value"]),
                index=int(r["index"]),
                ts=float(r["ts"]),
            )
            for r in rows
        ]
    except OSError as error:
        raise StepFailed(f"its metrics file {path} cannot be read ({error.strerror or error})") from None
    except _BAD_DATA as error:
        raise StepFailed(f"its metrics file {path} is not valid ({_short(error)})") from None


def verify_output(output: SavedOutput) -> None:
    """Check that output file holds what the step reported: its size, then its sha256.

    ``StepFailed`` naming the path otherwise: "disk full" when the file is short and its disk has
    no room left, else what differs.
    """
    path = Path(output.path)
    try:
        own_file(path, f"output {output.name!r}")
        size = path.stat().st_size
        if size == output.size:
            digest = sha256_file(path)
    except FileNotFoundError:
        raise StepFailed(f"its output {output.name!r} is missing: {path}") from None
    except OSError as error:
        raise StepFailed(f"its output {output.name!r} at {path} cannot be read ({error.strerror})") from None
    if size != output.size:
        reason = "disk full: " if disk_full(path) else ""
        raise StepFailed(
            f"{reason}its output {output.name!r} at {path} is incomplete ({size} of {output.size} bytes written)"
        )
    if digest != output.sha256:
        raise StepFailed(
            f"its output {output.name!r} at {path} does not hold what was saved (sha256 differs)"
        )


def disk_full(path: Path) -> bool:
    """Whether the file system holding ``path`` has no room left for an ordinary user."""
    try:
        info = os.statvfs(path.parent)
    except OSError:
        return False
    return info.f_bavail * info.f_frsize < 64 * 1024


def os_error_message(error: OSError, path: Path | str | None = None) -> str:
    """``disk full`` (or the system's words) and the path, for an error writing a run file."""
    where = error.filename or path
    words = "disk full" if error.errno in (errno.ENOSPC, errno.EDQUOT) else (error.strerror or str(error))
    return f"{words}: {where}" if where else words


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:200]
