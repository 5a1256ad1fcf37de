"""Start daemons detached from the caller's terminal and stop them by pid, leaving nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

# Popen objects of daemons this process started, kept so `stop` can reap them (no zombies, and no
# "subprocess still running" ResourceWarning when a Popen is collected).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def spawn(
    cmd: Sequence[str],
    log: Path,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    pass_fds: Sequence[int] = (),
) -> int:
    """Start ``cmd`` in its own session with output appended to ``log`` (and ``pass_fds`` inherited)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(cmd), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            env=env, cwd=cwd, start_new_session=True, pass_fds=tuple(pass_fds),
        )  # fmt: skip
    _CHILDREN[proc.pid] = proc
    return proc.pid


def alive(pid: int, name: str | None = None) -> bool:
    """Whether ``pid`` runs (and, given ``name``, its command line mentions it); zombies count as gone."""
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":
            return False
        if name is not None:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            return name in cmdline
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return True


def stop(pid: int, name: str | None = None, *, grace_s: float = 10.0, group: bool = True) -> None:
    """SIGTERM the process (group), wait up to ``grace_s``, then SIGKILL; reap it if it is our child."""
    if alive(pid, name):
        _signal(pid, signal.SIGTERM, group)
        deadline = time.monotonic() + grace_s
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if alive(pid):
            _signal(pid, signal.SIGKILL, group)
            deadline = time.monotonic() + 5
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
    elif group and not Path(f"/proc/{pid}").exists():
        _signal(pid, signal.SIGKILL, group)  # leftovers of a group whose leader is gone
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        child.wait(timeout=5)


def _signal(pid: int, sig: signal.Signals, group: bool) -> None:
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
