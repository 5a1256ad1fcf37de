"""Fixtures: a private kfjupyter home and run store, functions defined as in a notebook cell."""

from __future__ import annotations

import json
import linecache
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kfjupyter.store import RunStore, pid_alive
from tests.support.stores import home, store

__all__ = ["gone", "home", "no_stray_processes", "notebook_function", "store"]


def notebook_function(source: str, name: str) -> Callable[..., Any]:
    """Define a function the way a notebook cell does (in ``__main__``, so it is pickled by value)."""
    code = textwrap.dedent(source)
    filename = f"<ipython-input-{name}>"
    lines = code.splitlines(keepends=True)
    linecache.cache[filename] = (len(code), None, lines, filename)  # as IPython registers a cell
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(code, filename, "exec"), namespace)
    function: Callable[..., Any] = namespace[name]
    return function


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def gone(pid: int, within: float = 3.0) -> bool:
    """Whether ``pid`` has ended (or is a zombie) within ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        if not pid_alive(pid) or _zombie(pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def no_stray_processes(store: RunStore) -> Iterator[None]:
    """After each test, no supervisor or worker process of any job in the store is still alive."""
    yield
    for run in store.list_runs(kind="training", limit=1000):
        workers = store.run_dir(run.id) / "workers.json"
        pids = [w["pid"] for w in json.loads(workers.read_text())] if workers.exists() else []
        if run.owner_pid is not None:
            pids.append(run.owner_pid)
        alive = [pid for pid in pids if not gone(pid)]
        assert not alive, f"job {run.name} left processes behind: {alive}"
