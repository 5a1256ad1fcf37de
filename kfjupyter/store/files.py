"""Where run files live under the store home, and reading step logs (whole, from an offset, tail).

Layout: ``<home>/runs/<run_id>/`` holds everything a run writes; ``<home>/runs/<run_id>/logs/
<step>.log`` is the plain-text log of one step. Logs are written by the executors (one line per
record, timestamp first); this module only names the files and reads them. Reads return whole
lines, so a follower polling with the returned offset never sees half a line.

Steps run user code, so anything in a run directory may have been swapped for a symlink or a FIFO:
logs are opened without following a final symlink and without blocking, and only a regular file
is read (``Forbidden`` otherwise); deleting a run unlinks a symlinked run directory, never its target.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict, Field

from kfjupyter.errors import Forbidden, InvalidInput, Unavailable

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_BAD_STEP = re.compile(r"[/\\\x00]")
_DEFAULT_MAX_BYTES = 1 << 20
_TAIL_BLOCK = 1 << 16
_OPEN_LOG = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class LogChunk(BaseModel):
    """Text read from a log file and the offset to continue from (for ``--follow``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(description="Whole lines read (UTF-8, undecodable bytes replaced).")
    next_offset: int = Field(ge=0, description="Byte offset to pass to the next read.")
    exists: bool = Field(description="Whether the log file exists yet.")


def check_run_id(run_id: str) -> str:
    """Return ``run_id`` if it is safe as a directory name; raise :class:`InvalidInput` if not."""
    if not _RUN_ID.match(run_id):
        raise InvalidInput(f"{run_id!r} is not a valid run id (letters, digits, '.', '_', '-').")
    return run_id


def check_step_name(step: str) -> str:
    """Return ``step`` if it is safe as a file name; raise :class:`InvalidInput` if not."""
    if not step or step in (".", "..") or _BAD_STEP.search(step):
        raise InvalidInput(f"{step!r} is not a valid step name (no '/', '\\' or NUL).")
    return step


def run_dir(home: Path, run_id: str) -> Path:
    """Return the directory of one run's files (not created)."""
    return home / "runs" / check_run_id(run_id)


def log_path(home: Path, run_id: str, step: str) -> Path:
    """Return the log file of one step (not created)."""
    return run_dir(home, run_id) / "logs" / f"{check_step_name(step)}.log"


def remove_run_dir(home: Path, run_id: str) -> None:
    """Delete a run's directory if it exists; raise :class:`Unavailable` if it cannot be removed.

    A run directory that is a symlink (or any other non-directory) is unlinked: the link goes, what
    it points to is never followed nor touched. Symlinks inside the directory are removed as links.
    """
    path = run_dir(home, run_id)
    try:
        if path.is_symlink() or not path.is_dir():
            path.unlink()
        else:
            shutil.rmtree(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise Unavailable(
            f"Run {run_id} was deleted but its files at {path} could not be removed "
            f"({exc.strerror or exc}); remove them by hand.",
            detail=repr(exc),
        ) from exc


def resolve(home: Path, relative: str) -> Path:
    """Return the absolute path of a store-relative path, refusing anything outside ``home``."""
    parts = relative.split("/")
    if relative.startswith("/") or "\\" in relative or any(p in ("", ".", "..") for p in parts):
        raise InvalidInput(f"{relative!r} is not a path inside the run store.")
    return home.joinpath(*parts)


@contextmanager
def _open_log(path: Path) -> Iterator[BinaryIO]:
    """Open a log for reading: never through a final symlink, never blocking, regular files only.

    Raises ``FileNotFoundError`` when there is no log, :class:`Forbidden` for a symlink or a FIFO,
    device or directory (``O_NONBLOCK`` makes opening a FIFO return at once; ``fstat`` then refuses it).
    """
    try:
        fd = os.open(path, _OPEN_LOG)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Forbidden(
                f"The log {path.name} is a symbolic link; logs are never read through links."
            ) from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Forbidden(f"The log {path.name} is not a regular file and cannot be read.")
        os.set_blocking(fd, True)
        fh = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with fh:
        yield fh


def read_log(path: Path, offset: int = 0, max_bytes: int = _DEFAULT_MAX_BYTES) -> LogChunk:
    """Read whole lines from ``offset``, at most about ``max_bytes``; a missing file reads as empty.

    A trailing partial line is left for the next read, unless it alone exceeds ``max_bytes``.
    Raises :class:`Forbidden` when the log is a symlink or not a regular file (see :func:`_open_log`).
    """
    if offset < 0:
        raise InvalidInput(f"Log offset must be >= 0, got {offset}.")
    try:
        with _open_log(path) as fh:
            fh.seek(offset)
            data = fh.read(max_bytes)
    except FileNotFoundError:
        return LogChunk(text="", next_offset=offset, exists=False)
    end = data.rfind(b"\n") + 1
    if end == 0 and len(data) < max_bytes:
        data = b""
    elif end > 0:
        data = data[:end]
    return LogChunk(text=data.decode("utf-8", errors="replace"), next_offset=offset + len(data), exists=True)


def tail_log(path: Path, lines: int = 100) -> LogChunk:
    """Return the last ``lines`` whole lines and the offset just after them (reads from the end)."""
    if lines < 0:
        raise InvalidInput(f"Line count must be >= 0, got {lines}.")
    try:
        with _open_log(path) as fh:
            pos = fh.seek(0, os.SEEK_END)
            buf = b""
            while pos > 0 and buf.count(b"\n") <= lines:
                size = min(_TAIL_BLOCK, pos)
                pos -= size
                fh.seek(pos)
                buf = fh.read(size) + buf
    except FileNotFoundError:
        return LogChunk(text="", next_offset=0, exists=False)
    end = buf.rfind(b"\n") + 1
    kept = buf[:end].split(b"\n")[:-1][-lines:] if lines else []
    text = b"".join(line + b"\n" for line in kept).decode("utf-8", errors="replace")
    return LogChunk(text=text, next_offset=pos + end, exists=True)
