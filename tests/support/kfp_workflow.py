"""The Argo workflow of one KFP run, as the KFP stand-in's "controller" drives it (tests only).

Each part reproduces what a KFP 2.x server with Argo Workflows does; the upstream files it comes
from are named where it happens (kubeflow/pipelines unless said otherwise):

- Node names and templates (``backend/src/v2/compiler/argocompiler/dag.go``, ``container.go``):
  the root DAG node ``<wf>.root`` with its driver ``<wf>.root-driver``; per KFP task a driver
  node ``<wf>.root.<task>-driver`` (template ``system-container-driver``) and the task node
  ``<wf>.root.<task>`` (template ``system-container-executor``) whose one DAG task is
  ``executor`` (template ``system-container-impl``). A task with a retry policy uses the
  ``retry-system-container-executor`` / ``retry-system-container-impl`` templates; Argo then makes
  ``executor`` a Retry node whose attempts are pod nodes ``executor(0)``, ``executor(1)``...
- Node ids ``<wf>-<fnv32a(node name)>`` and pod names ``<wf>-<template>-<fnv32a(node name)>``
  (argoproj/argo-workflows ``workflow/util/pod_name.go``, ``GeneratePodName``, pod names v2).
- Pod labels and annotations: ``pipeline/runid=<run id>`` on every pod of the run
  (``backend/src/apiserver/template/v2_template.go``, labels set on all templates), Argo's
  ``workflows.argoproj.io/workflow`` label and ``workflows.argoproj.io/node-name`` /
  ``node-id`` annotations; the user's process runs in container ``main`` next to Argo's ``wait``.
  The upstream test ``backend/test/v2/api/argo_compatibility_api_test.go`` finds step pods by
  exactly this label and annotation.
- Task details (``backend/src/apiserver/server/api_converter.go``: ``toModelTasks`` over the
  workflow's nodes sorted by node id, then ``toApiPipelineTaskDetail``): ``display_name`` is the
  node's display name, ``parent_task_id`` is empty, ``pod_name`` and ``executor_detail`` are never
  set, ``child_tasks[].pod_name`` holds the children's node ids, times a node does not have are the
  Unix epoch, the state is the node phase through ``RuntimeState.ToV2``
  (``backend/src/apiserver/model/run.go``: ``Error`` becomes ``FAILED``, ``Omitted`` unspecified).
- Terminating sets the workflow deadline to 0 (``resource/resource_manager.go``,
  ``TerminateWorkflow``): Argo then fails the running pod nodes and starts nothing more, and the
  workflow ends ``Failed``.
"""

from __future__ import annotations

import copy
import datetime
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import kfp_server_api as api

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
START = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
PHASE_TO_V2 = {
    "Pending": "PENDING",
    "Running": "RUNNING",
    "Succeeded": "SUCCEEDED",
    "Skipped": "SKIPPED",
    "Failed": "FAILED",
    "Error": "FAILED",
    "Omitted": "RUNTIME_STATE_UNSPECIFIED",
}
RUN_ID_LABEL = "pipeline/runid"
NODE_NAME = "workflows.argoproj.io/node-name"


def fnv32a(text: str) -> int:
    """FNV-1a, 32 bits, as Go's ``hash/fnv`` ``New32a``."""
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


@dataclass
class Node:
    """One Argo node."""

    name: str
    display_name: str
    type: str
    template: str = ""
    phase: str = "Running"
    started: datetime.datetime | None = None
    finished: datetime.datetime | None = None
    children: list[str] = field(default_factory=list)
    pod: str | None = None


@dataclass
class Workflow:
    """The workflow of one run: its nodes, and the pods it made on a cluster (``kube`` set)."""

    name: str
    run_id: str
    namespace: str
    image: str
    created: datetime.datetime
    kube: Any = None
    nodes: dict[str, Node] = field(default_factory=dict)
    terminated: bool = False
    ticks: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- Argo's bookkeeping ----------------------------------------------------------------------

    def node_id(self, name: str) -> str:
        return self.name if name == self.name else f"{self.name}-{fnv32a(name)}"

    def pod_name(self, node_name: str, template: str) -> str:
        return f"{self.name}-{template}-{fnv32a(node_name)}"

    def now(self) -> datetime.datetime:
        self.ticks += 1
        return self.created + datetime.timedelta(seconds=self.ticks)

    def add(self, parent: str | None, node: Node) -> Node:
        with self.lock:
            node.started = node.started or self.now()
            self.nodes[self.node_id(node.name)] = node
            if parent is not None:
                self.nodes[self.node_id(parent)].children.append(self.node_id(node.name))
        return node

    def end(self, node: Node, phase: str) -> None:
        node.phase, node.finished = phase, self.now()

    # -- what the test scripts ---------------------------------------------------------------------

    def start(self) -> None:
        """The workflow starts: its root node, the root driver and the root DAG."""
        self.add(None, Node(self.name, self.name, "DAG", "entrypoint"))
        driver = self.add(
            self.name, Node(f"{self.name}.root-driver", "root-driver", "Pod", "system-dag-driver")
        )
        self._driver(driver)
        self.add(self.name, Node(f"{self.name}.root", "root", "DAG", "root"))

    def run_task(self, task: str, exits: list[int | None], logs: list[str], retry: bool) -> list[str]:
        """Run one KFP task: its driver, then one pod per attempt; return the executor pod names."""
        root = f"{self.name}.root"
        driver = self.add(
            root, Node(f"{root}.{task}-driver", f"{task}-driver", "Pod", "system-container-driver")
        )
        self._driver(driver)
        prefix = "retry-" if retry else ""
        task_node = self.add(root, Node(f"{root}.{task}", task, "DAG", f"{prefix}system-container-executor"))
        impl = f"{prefix}system-container-impl"
        parent = task_node.name
        if retry:
            parent = self.add(
                task_node.name, Node(f"{task_node.name}.executor", "executor", "Retry", impl)
            ).name
        pods = []
        for attempt, (code, text) in enumerate(zip(exits, logs, strict=True)):
            suffix = f"executor({attempt})" if retry else "executor"
            node = self.add(parent, Node(f"{task_node.name}.{suffix}", suffix, "Pod", impl))
            pods.append(self._pod(node, [text], code))
        last = self.nodes[self.node_id(f"{task_node.name}.{suffix}")]
        if last.phase != "Running":
            for node in (self.nodes[self.node_id(parent)], task_node):
                if node.phase == "Running":
                    self.end(node, last.phase)
        return pods

    def complete(self, task: str, code: int) -> None:
        """The running attempt of ``task`` exits with ``code`` (only without a cluster)."""
        assert self.kube is None, "on a cluster a pod ends by itself"
        phase = "Succeeded" if code == 0 else "Failed"
        prefix = f"{self.name}.root.{task}"
        for node in list(self.nodes.values()):
            if node.phase == "Running" and (node.name == prefix or node.name.startswith(prefix + ".")):
                self.end(node, phase)

    def finish(self, phase: str | None = None) -> str:
        """End the workflow and return its phase.

        Pod nodes still running are failed (a terminated workflow's pods are killed, and their pods
        deleted here); the workflow fails when it was terminated or a pod failed.
        """
        for node in self.nodes.values():
            if node.type == "Pod" and node.phase == "Running":
                self.end(node, "Failed")
                if node.pod and self.kube is not None:
                    self.kube.core.delete_namespaced_pod(node.pod, self.namespace, grace_period_seconds=0)
        failed = any(n.phase in ("Failed", "Error") for n in self.nodes.values() if n.type == "Pod")
        phase = phase or ("Failed" if failed or self.terminated else "Succeeded")
        for node in self.nodes.values():
            if node.phase == "Running":
                self.end(node, phase)
        return phase

    # -- pods on the cluster -------------------------------------------------------------------

    def _driver(self, node: Node) -> None:
        """A driver node: its pod (on the cluster, not awaited) prints a line; the node succeeds."""
        node.pod = self.pod_name(node.name, node.template)
        if self.kube is not None:
            script = f"print('driver of {node.display_name}', flush=True)"
            self.kube.core.create_namespaced_pod(self.namespace, self._manifest(node, script))
        self.end(node, "Succeeded")

    def _pod(self, node: Node, lines: list[str], code: int | None) -> str:
        """An executor node's pod: on the cluster it prints ``lines`` and exits with ``code`` (awaited)."""
        node.pod = self.pod_name(node.name, node.template)
        if self.kube is None:
            if code is not None:
                self.end(node, "Succeeded" if code == 0 else "Failed")
            return node.pod
        script = "import sys\n" + "".join(f"print({line!r}, flush=True)\n" for line in lines)
        script += "import time\ntime.sleep(3600)\n" if code is None else f"sys.exit({code})\n"
        self.kube.core.create_namespaced_pod(self.namespace, self._manifest(node, script))
        if code is not None:
            self.end(node, self._wait(node.pod))
        return node.pod

    def _manifest(self, node: Node, script: str) -> dict[str, Any]:
        def container(name: str, code: str) -> dict[str, Any]:
            return {"name": name, "image": self.image, "command": [sys.executable, "-c", code]}

        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": node.pod,
                "labels": {RUN_ID_LABEL: self.run_id, "workflows.argoproj.io/workflow": self.name},
                "annotations": {
                    NODE_NAME: node.name,
                    "workflows.argoproj.io/node-id": self.node_id(node.name),
                },
            },
            "spec": {
                "containers": [container("wait", "pass"), container("main", script)],
                "restartPolicy": "Never",
                "terminationGracePeriodSeconds": 1,
            },
        }

    def _wait(self, pod: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            phase = str(self.kube.core.read_namespaced_pod(pod, self.namespace).status.phase)
            if phase in ("Succeeded", "Failed"):
                return phase
            time.sleep(0.2)
        raise AssertionError(f"pod {pod} did not finish in {timeout}s")

    # -- what the API server reports --------------------------------------------------------------

    def task_details(self) -> list[Any]:
        """``run_details.task_details`` as ``toModelTasks`` + ``toApiPipelineTaskDetail`` build them."""
        details = []
        with self.lock:
            nodes = sorted((node_id, copy.copy(node)) for node_id, node in self.nodes.items())
        for node_id, node in nodes:
            details.append(
                api.V2beta1PipelineTaskDetail(
                    run_id=self.run_id,
                    task_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.run_id}/{node_id}")),
                    display_name=node.display_name,
                    create_time=self.created,
                    start_time=node.started or EPOCH,
                    end_time=node.finished or EPOCH,
                    state=PHASE_TO_V2.get(node.phase, "RUNTIME_STATE_UNSPECIFIED"),
                    execution_id="0",
                    parent_task_id="",
                    child_tasks=[api.PipelineTaskDetailChildTask(pod_name=c) for c in node.children] or None,
                )
            )
        return details
