"""Whether the local process that owns a run is still alive.

A run records the pid and host of the process driving it. After a crash, a kill -9 or a kernel
restart that process is gone, and :meth:`RunStore.mark_interrupted` uses :func:`pid_alive` to find
such orphans. Only runs owned by this host (or by no named host) can be judged from here.
"""

from __future__ import annotations

import os
import socket


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


def this_host() -> str:
    """Return the host name recorded as ``owner_host`` for runs driven by this machine."""
    return socket.gethostname()


def current_owner() -> tuple[int, str]:
    """Return ``(pid, host)`` of this process, for ``RunRecord.owner_pid`` / ``owner_host``."""
    return os.getpid(), this_host()
