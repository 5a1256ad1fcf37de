"""Whether the local process that owns a run is still alive, and still the same process.

A run records the pid and host of the process driving it, and (where the system tells) the start
time of that process. After a crash, a kill -9 or a kernel restart that process is gone, and
:meth:`RunStore.mark_interrupted` uses :func:`owner_alive` to find such orphans. A pid is reused
by the system sooner or later, so a live process whose start time differs from the recorded one
is another process: the owner is dead, and nothing may signal that pid for the run. Only runs
owned by this host (or by no named host) can be judged from here.
"""

from __future__ import annotations

import functools
import os
import socket
from pathlib import Path

_PROC = Path("/proc")
#: Field 22 of ``/proc/<pid>/stat`` (starttime); index 19 of the fields after the ``comm`` field.
_STARTTIME_INDEX = 19


def pid_alive(pid: int) -> bool:
    """Return whether a process with this pid exists on this host (a zombie counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@functools.cache
def _boot_id() -> str:
    try:
        return (_PROC / "sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def process_start(pid: int) -> str | None:
    """Return a token naming when process ``pid`` started, or ``None`` where it cannot be read.

    On Linux it is ``<start time in clock ticks since boot>@<boot id>`` (field 22 of
    ``/proc/<pid>/stat``): two processes that share a pid, one after the other, never share it.
    ``None`` for a process that does not exist (any more) and on systems without ``/proc``.
    """
    if pid <= 0:
        return None
    try:
        stat = (_PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself contain ')' or spaces.
    fields = stat[stat.rfind(b")") + 1 :].split()
    if len(fields) <= _STARTTIME_INDEX or not fields[_STARTTIME_INDEX].isdigit():
        return None
    return f"{int(fields[_STARTTIME_INDEX])}@{_boot_id()}"


def same_process(pid: int, start: str | None) -> bool:
    """Whether ``pid`` is still the process that started at ``start`` (``True`` when unknown).

    ``start`` is a token from :func:`process_start`; ``None`` (a run recorded by an older
    kfjupyter, or a system without ``/proc``) and an unreadable current start time both count as
    the same process, so the answer falls back to whether the pid exists at all.
    """
    if start is None:
        return True
    current = process_start(pid)
    return current is None or current == start


def owner_alive(pid: int, start: str | None) -> bool:
    """Whether the process recorded as ``(pid, start)`` is alive: the pid exists and was not reused."""
    return pid_alive(pid) and same_process(pid, start)


def this_host() -> str:
    """Return the host name recorded as ``owner_host`` for runs driven by this machine."""
    return socket.gethostname()


def current_owner() -> tuple[int, str]:
    """Return ``(pid, host)`` of this process, for ``RunRecord.owner_pid`` / ``owner_host``."""
    return os.getpid(), this_host()
