"""Find the pods of a KFP run's steps, the way Kubeflow Pipelines 2.x with Argo Workflows names them.

A KFP 2.x server never reports pod names in a run's task details (``pod_name`` is unset and
``child_tasks[].pod_name`` holds Argo node ids). The pods themselves say where they belong:

- every pod of a run carries the label ``pipeline/runid=<KFP run id>`` (the API server puts it on
  all templates of the run's workflow);
- Argo annotates each pod with ``workflows.argoproj.io/node-name``, the node's path in the
  workflow: ``<workflow>.root.<task>.executor`` for a step's container, or
  ``<workflow>.root.<task>.executor(N)`` for attempt ``N`` of a step with retries, and
  ``<workflow>.root.<task>-driver`` for the driver pod that prepares it;
- the step's own process runs in the container ``main``.

``<task>`` is the KFP task name: the component name of the step
(:func:`kfjupyter.kfp.names.component_name`), unique within the pipeline
(:func:`kfjupyter.kfp.names.check_task_names` refuses the rest at compile time). :func:`step_pods` maps a run's pods onto its steps;
:func:`failure_message` says why a failed step's last pod failed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from kfjupyter.k8s.client import Kube
from kfjupyter.k8s.logs import PodLogs
from kfjupyter.kfp.names import component_name
from kfjupyter.kfp.podlogs import MAIN_CONTAINER, PodTask

RUN_ID_LABEL = "pipeline/runid"
NODE_NAME_ANNOTATION = "workflows.argoproj.io/node-name"
_EXECUTOR = re.compile(r"executor(?:\((\d+)\))?")
#: Lines of a failed pod's log shown as its failure message when it left no termination message.
TAIL_LINES = 5
_MESSAGE_CHARS = 1000


class StepPod(BaseModel):
    """What tracking needs to know about one pod of a KFP run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Pod name.")
    node_name: str = Field(
        "", description="Argo node path from the workflows.argoproj.io/node-name annotation."
    )
    phase: str = Field("", description="Pod phase: Pending, Running, Succeeded, Failed or Unknown.")
    started: bool = Field(False, description="Whether the main container has started (so it has a log).")
    exit_code: int | None = Field(None, description="Exit code of the main container once it terminated.")
    reason: str = Field(
        "", description="Why the main container terminated (e.g. OOMKilled), as the kubelet says."
    )
    message: str = Field("", description="Termination message of the main container, if it left one.")

    @property
    def finished(self) -> bool:
        """Whether the pod has ended (its log is complete)."""
        return self.phase in ("Succeeded", "Failed")


class RunPodLister(Protocol):
    """Lists the pods of one KFP run (label ``pipeline/runid``) in a namespace."""

    def list_run_pods(self, namespace: str, run_id: str) -> list[StepPod]:
        """Return the run's pods; raise anything when the cluster cannot be asked."""


def executor_node(node_name: str) -> tuple[str, int] | None:
    """``(task, attempt)`` of an executor pod's node path, ``None`` for any other node (drivers, DAGs).

    ``wf.root.step-a.executor`` is attempt 0 of task ``step-a``; ``wf.root.step-a.executor(2)``
    is attempt 2.
    """
    parts = node_name.rsplit(".", 2)
    if len(parts) < 3:
        return None
    match = _EXECUTOR.fullmatch(parts[2])
    if match is None or not parts[1]:
        return None
    return parts[1], int(match.group(1) or 0)


def task_names(steps: Iterable[str]) -> dict[str, str]:
    """KFP task name -> step name."""
    return {component_name(step): step for step in steps}


def step_pods(pods: Iterable[StepPod], steps: Iterable[str]) -> dict[str, list[StepPod]]:
    """Each step's executor pods, oldest attempt first; driver pods and unknown tasks are left out."""
    by_task = task_names(steps)
    found: dict[str, list[tuple[int, str, StepPod]]] = {}
    for pod in pods:
        node = executor_node(pod.node_name)
        if node is None or node[0] not in by_task:
            continue
        found.setdefault(by_task[node[0]], []).append((node[1], pod.name, pod))
    return {step: [pod for _, _, pod in sorted(items)] for step, items in found.items()}


def log_tasks(pods: Mapping[str, list[StepPod]]) -> list[PodTask]:
    """The pods to keep logs of: every started executor pod, in attempt order per step."""
    return [
        PodTask(step=step, pod=pod.name, finished=pod.finished)
        for step, items in sorted(pods.items())
        for pod in items
        if pod.started
    ]


def _strip_stamp(line: str) -> str:
    head, _, rest = line.partition(" ")
    return rest if re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)", head) else line


def log_tail(text: str, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` non-empty lines of a stored pod log, without their timestamps."""
    kept = [_strip_stamp(line).rstrip() for line in text.splitlines()]
    return "\n".join([line for line in kept if line.strip()][-lines:])


def failure_message(pod: StepPod | None, tail: str) -> str:
    """Why a step failed: its last pod's exit code and kubelet reason, termination message or log tail."""
    detail = pod.message.strip() if pod is not None else ""
    detail = detail or tail.strip()
    if len(detail) > _MESSAGE_CHARS:
        detail = "…" + detail[-_MESSAGE_CHARS:]
    head = "the step failed"
    if pod is not None and pod.exit_code is not None:
        head = f"the step's container exited with code {pod.exit_code}"
        if pod.reason not in ("", "Error", "Completed"):
            head += f" ({pod.reason})"
    elif pod is None:
        head = "the step failed on Kubeflow Pipelines (no pod of it was found)"
    return f"{head}: {detail}" if detail else head


def _step_pod(item: Mapping[str, Any]) -> StepPod:
    """A :class:`StepPod` from a pod's JSON."""
    meta, status = item.get("metadata") or {}, item.get("status") or {}
    annotations = meta.get("annotations") or {}
    main: Mapping[str, Any] = next(
        (c for c in status.get("containerStatuses") or [] if c.get("name") == MAIN_CONTAINER), {}
    )
    state = main.get("state") or {}
    terminated = state.get("terminated")
    started = terminated is not None or state.get("running") is not None
    terminated = terminated or {}
    return StepPod(
        name=str(meta.get("name", "")),
        node_name=str(annotations.get(NODE_NAME_ANNOTATION, "")),
        phase=str(status.get("phase") or ""),
        started=started,
        exit_code=terminated.get("exitCode"),
        reason=terminated.get("reason") or "",
        message=terminated.get("message") or "",
    )


class KubernetesRunPods(PodLogs):
    """Pod logs and the pods of a run, through the Kubernetes API (in-cluster, else the kubeconfig)."""

    def __init__(self, kube: Kube | None = None, timeout_s: float | None = None) -> None:
        """Use ``kube``, or connect from the environment on first use."""
        super().__init__(kube, MAIN_CONTAINER, timeout_s)

    def list_run_pods(self, namespace: str, run_id: str) -> list[StepPod]:
        """The pods labelled ``pipeline/runid=<run_id>`` in ``namespace``."""
        return [_step_pod(item) for item in self.list_pods(namespace, f"{RUN_ID_LABEL}={run_id}")]
