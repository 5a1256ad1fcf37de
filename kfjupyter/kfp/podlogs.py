"""Keep the logs of KFP task pods in the run store, so they outlive the pods.

While a KFP run is tracked, each step's pod log is read through a :class:`PodLogSource` and the
part not yet stored is appended to the step's log file (``RunStore.log_path``). What was stored
per pod lives in ``<run dir>/kfp-logs.json`` (bytes kept, whether the pod is finished), so every
sync reads a pod's log once more at most after its task ends, a retried task's new pod is appended
after the old one, and a log that shrank (rotated) or a pod that is gone never loses what is kept.

The real source is :class:`kfjupyter.k8s.logs.PodLogs` (container ``main``, with timestamps so
lines start with their time like local step logs); tests pass their own source.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from kfjupyter.k8s.logs import PodGone
from kfjupyter.store import RunStore

log = logging.getLogger(__name__)
STATE_FILE = "kfp-logs.json"
MAIN_CONTAINER = "main"


class PodLogSource(Protocol):
    """Reads the whole current log of one pod's main container."""

    def read(self, namespace: str, pod: str) -> bytes:
        """Return the log bytes; raise :class:`PodGone` if the pod is gone, anything else if unsure."""


class PodLogState(BaseModel):
    """How much of one pod's log is stored in its step's log file."""

    model_config = ConfigDict(extra="forbid")

    step: str = Field(description="Step whose log file holds this pod's log.")
    stored: int = Field(0, ge=0, description="Bytes of the pod log already appended.")
    done: bool = Field(False, description="Whether the log is complete (task ended, or pod gone).")


class PodTask(BaseModel):
    """One pod of a step to collect logs from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step: str = Field(description="Step name in the run store.")
    pod: str = Field(description="Pod name from the KFP task detail.")
    finished: bool = Field(description="Whether the task has ended, so this is the last read.")


def _load_state(path: Path) -> dict[str, PodLogState]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return {pod: PodLogState.model_validate(value) for pod, value in raw.items()}


def _save_state(path: Path, state: dict[str, PodLogState]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({k: v.model_dump() for k, v in sorted(state.items())}), encoding="utf-8")
    tmp.replace(path)


def persist_pod_logs(
    store: RunStore, run_id: str, tasks: list[PodTask], source: PodLogSource, namespace: str
) -> int:
    """Append what is new in each pod's log to its step's log file; return the bytes appended.

    A read that fails for another reason than :class:`PodGone` is skipped this time (logged at
    debug level): logs are best effort and never fail tracking.
    """
    state_path = store.run_dir(run_id, create=True) / STATE_FILE
    state = _load_state(state_path)
    appended = 0
    for task in tasks:
        entry = state.setdefault(task.pod, PodLogState(step=task.step))
        if entry.done:
            continue
        try:
            data = source.read(namespace, task.pod)
        except PodGone:
            entry.done = True
            continue
        except Exception as exc:  # kubernetes client errors, network errors: try again next sync
            log.debug("could not read log of pod %s: %r", task.pod, exc)
            continue
        if len(data) > entry.stored:
            new = data[entry.stored :]
            path = store.log_path(run_id, task.step, create_dir=True)
            with path.open("ab") as fh:
                fh.write(new if new.endswith(b"\n") or not task.finished else new + b"\n")
            appended += len(new)
            entry.stored = len(data)
        entry.done = task.finished
    _save_state(state_path, state)
    return appended
