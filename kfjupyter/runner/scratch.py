"""RAM-backed scratch space for step outputs, persisted to the run's folder in the background.

A value passed between two steps is written where the next step can map it at memory speed
(``/dev/shm``), so a gigabyte array moves between steps at well over 1 GB/s even on a slow disk.
As soon as the producing step succeeds, a background thread copies its outputs into the run's
folder; only then are they recorded as artifacts and cache entries (what the store points to is
always on disk). The run's scratch folder is removed when the run ends. ``KFJUPYTER_SCRATCH=off``
turns this off; ``KFJUPYTER_SCRATCH=/path`` picks another place.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from kfjupyter.runner.job import StepResult

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
    """Copies outputs out of scratch in background threads and reports each step when done."""

    def __init__(self, root: Path, notify: Callable[[dict[str, Any]], None]) -> None:
        self.root = root
        self._notify = notify
        self._lock = threading.Lock()
        self.pending = 0

    def holds(self, result: StepResult) -> bool:
        """Whether any of ``result``'s outputs lie in scratch."""
        return any(Path(o.path).is_relative_to(self.root) for o in result.outputs)

    def submit(self, step: str, result: StepResult, destination: Path) -> None:
        """Copy ``result``'s scratch outputs into ``destination``, then notify ``{"persisted": step}``."""
        with self._lock:
            self.pending += 1
        threading.Thread(
            target=self._copy, args=(step, result, destination), name=f"kfjupyter-persist-{step}", daemon=True
        ).start()

    def _copy(self, step: str, result: StepResult, destination: Path) -> None:
        message: dict[str, Any] = {"persisted": step}
        try:
            destination.mkdir(parents=True, exist_ok=True)
            outputs = []
            for out in result.outputs:
                source = Path(out.path)
                if source.is_relative_to(self.root):
                    target = destination / source.name
                    shutil.copyfile(source, target)
                    out = replace(out, path=str(target))
                outputs.append(out)
            message["result"] = replace(result, outputs=outputs)
        except OSError as error:
            message["error"] = (
                f"could not keep the outputs of step '{step}' ({error}); they will not be cached"
            )
        finally:
            with self._lock:
                self.pending -= 1
            self._notify(message)

    def remove_run(self, run_id: str) -> None:
        """Delete the run's scratch folder."""
        shutil.rmtree(self.root / run_id, ignore_errors=True)
