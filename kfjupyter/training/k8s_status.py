"""Pure readers of cluster state for training jobs: Trainer version, job status and node pods.

:func:`trainer_version` finds the installed Kubeflow Trainer version: the ``kubeflow_trainer_version``
key of ConfigMap ``kubeflow-system/kubeflow-trainer-public`` (what the Kubeflow SDK reads), else
the TrainJob CRD's schema (``runtimePatches`` -> v2.2+, ``podTemplateOverrides`` -> v2.1,
``podSpecOverrides`` -> v2.0), else its ``app.kubernetes.io/version`` label, else the newest.
:func:`job_state` maps a TrainJob's or PyTorchJob's conditions and its pods onto the shared
status vocabulary (Created, Running, Complete, Failed) and a status per node, with when each
node's trainer container started and ended (the ranks' durations).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kfjupyter.store.details import CrKind
from kfjupyter.training.job import JobStatus
from kfjupyter.training.k8s_builders import TRAINER_VERSIONS, TrainerVersion

_VERSION = re.compile(r"v?(\d+)\.(\d+)")
_PHASE: dict[str, JobStatus] = {
    "Pending": "Created",
    "Running": "Running",
    "Succeeded": "Complete",
    "Failed": "Failed",
}
NODE_INDEX_KEY = "batch.kubernetes.io/job-completion-index"
JOBSET_NAME = "jobset.sigs.k8s.io/jobset-name"
REPLICATED_JOB = "jobset.sigs.k8s.io/replicatedjob-name"
TRAINJOB_NAME = "trainer.kubeflow.org/trainjob-name"
PYTORCH_JOB_NAME = "training.kubeflow.org/job-name"
REPLICA_TYPE = "training.kubeflow.org/replica-type"
REPLICA_INDEX = "training.kubeflow.org/replica-index"


def _known(text: str | None) -> TrainerVersion | None:
    match = _VERSION.match((text or "").strip())
    if match is None:
        return None
    major, minor = int(match.group(1)), int(match.group(2))
    if major != 2:
        return None
    return TRAINER_VERSIONS[min(minor, len(TRAINER_VERSIONS) - 1)]


def _spec_fields(crd: dict[str, Any]) -> set[str]:
    for version in crd.get("spec", {}).get("versions", []):
        schema = (version.get("schema") or {}).get("openAPIV3Schema") or {}
        props = schema.get("properties", {}).get("spec", {}).get("properties", {})
        if props:
            return set(props)
    return set()


def trainer_version(public: dict[str, str] | None, crd: dict[str, Any]) -> tuple[TrainerVersion, str]:
    """The Trainer version and how it was found, from the public ConfigMap data and the CRD."""
    found = _known((public or {}).get("kubeflow_trainer_version"))
    if found:
        return found, "ConfigMap kubeflow-system/kubeflow-trainer-public"
    fields = _spec_fields(crd)
    by_field: tuple[tuple[str, TrainerVersion], ...] = (
        ("runtimePatches", "v2.3"),
        ("podTemplateOverrides", "v2.1"),
        ("podSpecOverrides", "v2.0"),
    )
    for field, version in by_field:
        if field in fields:
            return version, f"TrainJob CRD schema field spec.{field}"
    found = _known((crd.get("metadata", {}).get("labels") or {}).get("app.kubernetes.io/version"))
    if found:
        return found, "TrainJob CRD label app.kubernetes.io/version"
    return TRAINER_VERSIONS[-1], "no version information found: assuming the newest"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NodePod(_Model):
    """One node's pod, as far as status and logs need it."""

    node: int = Field(ge=0, description="Node rank (completion index, or Master 0 / Worker i+1).")
    name: str = Field(description="Pod name.")
    status: JobStatus = Field(description="Status mapped from the pod phase.")
    started: bool = Field(False, description="Whether the trainer container has started (it has a log).")
    finished: bool = Field(description="Whether the pod's containers have ended.")
    exit_code: int | None = Field(None, description="Exit code of the trainer container, once ended.")
    error: str | None = Field(None, description="Why the pod failed or waits, if it says.")
    started_at: float | None = Field(None, description="When the trainer container started (Unix seconds).")
    finished_at: float | None = Field(None, description="When the trainer container ended (Unix seconds).")


class JobState(_Model):
    """A job's status from its custom resource and pods."""

    status: JobStatus = Field(description="Created, Running, Complete or Failed.")
    reason: str | None = Field(None, description="Condition reason of a failed job.")
    error: str | None = Field(None, description="Condition message of a failed job.")
    nodes: list[NodePod] = Field(default_factory=list, description="Pods by node rank.")


def pod_selector(kind: CrKind, name: str) -> str:
    """The label selector of a job's node pods."""
    return f"{JOBSET_NAME}={name}" if kind == "TrainJob" else f"{PYTORCH_JOB_NAME}={name}"


def node_rank(kind: CrKind, pod: dict[str, Any]) -> int | None:
    """The node rank of a pod, or ``None`` if it is not a trainer node pod (e.g. an initializer)."""
    meta = pod.get("metadata", {})
    labels, notes = meta.get("labels") or {}, meta.get("annotations") or {}
    if kind == "TrainJob":
        if labels.get(REPLICATED_JOB, "node") != "node":
            return None
        index = labels.get(NODE_INDEX_KEY) or notes.get(NODE_INDEX_KEY) or "0"
    else:
        kind_label = labels.get(REPLICA_TYPE, "").lower()
        index = labels.get(REPLICA_INDEX, "0")
        if kind_label not in ("master", "worker") or not index.isdigit():
            return None
        index = "0" if kind_label == "master" else str(int(index) + 1)
    return int(index) if index.isdigit() else None


def _timestamp(text: object) -> float | None:
    """Unix seconds of an RFC 3339 time as the API writes it (``2026-11-25T17:26:14Z``), else None."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _pod_state(node: int, pod: dict[str, Any], container: str) -> NodePod:
    status = pod.get("status") or {}
    phase = status.get("phase", "Pending")
    exit_code, error, started = None, None, False
    started_at = finished_at = None
    for item in status.get("containerStatuses") or []:
        if item.get("name") != container:
            continue
        state = item.get("state") or {}
        started = "running" in state or "terminated" in state
        current = state.get("running") or state.get("terminated") or {}
        started_at = _timestamp(current.get("startedAt"))
        if "terminated" in state:
            finished_at = _timestamp(state["terminated"].get("finishedAt"))
            exit_code = state["terminated"].get("exitCode")
            if exit_code:
                error = f"exit code {exit_code}: {state['terminated'].get('reason', '')}".strip(": ")
        elif "waiting" in state and state["waiting"].get("reason") not in (None, "ContainerCreating"):
            error = f"{state['waiting'].get('reason')}: {state['waiting'].get('message', '')}".strip(": ")
    mapped = _PHASE.get(phase, "Created")
    if mapped == "Created" and started and exit_code is None:
        mapped = "Running"  # the trainer runs (it writes its log) while e.g. a sidecar still starts
    return NodePod(
        node=node,
        name=pod["metadata"]["name"],
        status=mapped,
        started=started,
        finished=phase in ("Succeeded", "Failed"),
        exit_code=exit_code,
        error=error,
        started_at=started_at,
        finished_at=finished_at,
    )


def _condition(obj: dict[str, Any], *types: str) -> dict[str, Any] | None:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") in types and condition.get("status") == "True":
            return dict(condition)
    return None


def job_state(kind: CrKind, obj: dict[str, Any], pods: list[dict[str, Any]], num_nodes: int) -> JobState:
    """Map a job's conditions and pods: terminal conditions win; else Running or Created.

    All nodes up, or any node's trainer started (its log streams), means Running.
    """
    container = "node" if kind == "TrainJob" else "pytorch"
    nodes: dict[int, NodePod] = {}
    for pod in pods:
        rank = node_rank(kind, pod)
        if rank is not None and (rank not in nodes or not pod["metadata"].get("deletionTimestamp")):
            nodes[rank] = _pod_state(rank, pod, container)
    ordered = [nodes[k] for k in sorted(nodes)]
    done = _condition(obj, "Complete", "Succeeded")
    if done:
        return JobState(status="Complete", nodes=ordered)
    failed = _condition(obj, "Failed")
    if failed:
        return JobState(
            status="Failed",
            reason=failed.get("reason") or "Failed",
            error=failed.get("message"),
            nodes=ordered,
        )
    up = [n for n in ordered if n.status in ("Running", "Complete")]
    # a node whose trainer has started runs the job's code (its log streams): the job is running
    running = len(up) >= num_nodes or any(n.started for n in ordered) or bool(_condition(obj, "Running"))
    return JobState(status="Running" if running else "Created", nodes=ordered)
