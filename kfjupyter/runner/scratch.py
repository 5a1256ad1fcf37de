"""RAM-backed scratch space for step outputs, persisted to the run's folder in the background.

A value passed between two steps is written where the next step can map it at memory speed
(``/dev/shm``), so a gigabyte array moves between steps at well over 1 GB/s even on a slow disk.
As soon as the producing step succeeds, a background thread copies its outputs into the run's
folder and checks each copy (size and sha256); only then is the step recorded as succeeded and
are its outputs recorded as artifacts and cache entries (what the store points to is always on
disk, complete). A copy that fails (a full disk) fails the step. The run's scratch folder is removed when the run ends. ``KFJUPYTER_SCRATCH=off``
turns this off; ``KFJUPYTER_SCRATCH=/path`` picks another place.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from kfjupyter.errors import StepFailed
from kfjupyter.runner.job import SavedOutput, StepResult
from kfjupyter.runner.stepfiles import os_error_message, verify_output

MIN_FREE_BYTES = 1 << 30


def scratch_root() -> Path | None:
    """Where step outputs go first, or None to write them straight into the run's folder."""
    setting = os.environ.get("KFJUPYTER_SCRATCH", "")
    if setting.lower() in ("off", "0", "no", "false"):
        return None
    base = Path(setting) if setting else Path("/dev/shm")  # noqa: S108 (a private, checked subfolder)
    if not base.is_dir() or not os.access(base, os.W_OK):
        return None
    try:
        stat = os.statvfs(base)
    except OSError:
        return None
    if stat.f_bavail * stat.f_frsize < MIN_FREE_BYTES:
        return None
    root = base / f"kfjupyter-{os.getuid()}"
    try:
        root.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(root)
    except OSError:
        return None
    # Someone else's folder (or a link planted there) is never used.
    if not stat_is_private_dir(info):
        return None
    return root


def stat_is_private_dir(info: os.stat_result) -> bool:
    """A real directory of ours that nobody else can write to."""
    import stat

    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022


class Persister:
    """Copies outputs out of scratch (if any) and checks every output, in background threads.

    It reports each step when done; ``root`` is the scratch folder, ``None`` without one.
    """

    def __init__(self, root: Path | None, notify: Callable[[dict[str, Any]], None]) -> None:
        self.root = root
        self._notify = notify
        self._lock = threading.Lock()
        self.pending = 0

    def in_scratch(self, output: SavedOutput) -> bool:
        """Whether ``output`` lies in scratch (else the step wrote it to disk itself)."""
        return self.root is not None and Path(output.path).is_relative_to(self.root)

    def holds(self, result: StepResult) -> bool:
        """Whether any of ``result``'s outputs lie in scratch."""
        return any(self.in_scratch(o) for o in result.outputs)

    def submit(self, step: str, result: StepResult, destination: Path) -> None:
        """Copy ``result``'s scratch outputs into ``destination``, then notify ``{"persisted": step}``.

        The message carries the result with the copies' paths, every output on disk checked against
        the size and sha256 the step reported, or an ``error`` ("disk full" and the path, or what
        differs).
        """
        with self._lock:
            self.pending += 1
        threading.Thread(
            target=self._copy, args=(step, result, destination), name=f"kfjupyter-persist-{step}", daemon=True
        ).start()

    def _copy(self, step: str, result: StepResult, destination: Path) -> None:
        message: dict[str, Any] = {"persisted": step}
        target: Path | None = None
        try:
            destination.mkdir(parents=True, exist_ok=True)
            outputs = []
            for out in result.outputs:
                if self.in_scratch(out):
                    target = destination / Path(out.path).name
                    shutil.copyfile(out.path, target)
                    out = replace(out, path=str(target))
                verify_output(out)
                target = None
                outputs.append(out)
            message["result"] = replace(result, outputs=outputs)
        except OSError as error:
            message["error"] = f"could not keep its outputs ({os_error_message(error, target)})"
        except StepFailed as error:
            message["error"] = error.message
        finally:
            if target is not None:  # a partial copy only takes room
                with contextlib.suppress(OSError):
                    target.unlink()
            with self._lock:
                self.pending -= 1
            self._notify(message)

    def remove_run(self, run_id: str) -> None:
        """Delete the run's scratch folder."""
        if self.root is not None:
            shutil.rmtree(self.root / run_id, ignore_errors=True)
