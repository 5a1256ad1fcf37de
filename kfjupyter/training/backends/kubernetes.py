"""The Kubernetes backend: a job is a Kubeflow Trainer ``TrainJob`` or a Training Operator ``PyTorchJob``.

Which of the two the cluster serves (and the Trainer version) is found by
:func:`~kfjupyter.training.k8s_detect.detect_api`. :class:`KubernetesBackend`
records each job in the run store (backend ``kubernetes``, one step per rank), creates the custom
resource from the pure builders of :mod:`kfjupyter.training.k8s_builders` plus its code ConfigMap
(owned by the resource, so it goes with it), and keeps the store in step with the cluster: every
read, and a daemon follower thread per job while the kernel lives, maps conditions and pods onto
the job model and persists pod logs, metric lines and events (:mod:`kfjupyter.training.k8s_sync`),
so they remain after the pods are gone. The backend reads the job's resource, its pods and the
namespace's events from shared :class:`~kfjupyter.k8s.informer.Informer` caches (one watch per
kind and namespace, for all its jobs), so reads cost the API server nothing; a follower wakes when
those change, and polls only the pod logs of running nodes. A final condition that arrives while node pods still run
is applied once they end (at most ``DRAIN_S`` later), so their last lines are kept too. On a
node with several processes, ``torchrun`` merges their output into the pod log, kept under the
node's first rank. ``cancel`` deletes the resource (its pods and ConfigMap are garbage-collected).
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from kfjupyter.errors import Conflict, Forbidden, InvalidInput, KfJupyterError, NotFound
from kfjupyter.k8s.access import find_access, where_looked
from kfjupyter.k8s.client import Kube, KubeUnavailable, ignore_not_found
from kfjupyter.k8s.informer import Informer, matching
from kfjupyter.k8s.logs import PodLogs
from kfjupyter.store import (
    Engine,
    EventRecord,
    KubernetesDetails,
    RunRecord,
    RunStore,
    RunUpdate,
    StepRecord,
    StepStatus,
)
from kfjupyter.store.details import CrKind
from kfjupyter.training.backends.base import TrainingBackend
from kfjupyter.training.job import (
    BackendNotAvailable,
    JobStatus,
    MetricPoint,
    TrainJob,
    job_from_records,
    points_from_records,
    step_name,
)
from kfjupyter.training.k8s_builders import (
    PYTORCH_CONTAINER,
    TRAINER_CONTAINER,
    K8sJobOptions,
    configmap,
    pytorchjob,
    trainjob,
)
from kfjupyter.training.k8s_detect import TrainingApi, cluster_access, default_namespace, detect_api
from kfjupyter.training.k8s_status import NodePod, job_state, pod_selector
from kfjupyter.training.k8s_sync import node_step, sync_events, sync_logs, sync_metrics
from kfjupyter.training.logs import RankLogs
from kfjupyter.training.spec import ScriptEntrypoint, TrainingSpec

#: What a backend keeps a shared cache of: pods, events, or a job resource kind.
Cached = Literal["pods", "events"] | CrKind
_PLURAL: dict[CrKind, tuple[str, str, str]] = {
    "TrainJob": ("trainer.kubeflow.org", "v1alpha1", "trainjobs"),
    "PyTorchJob": ("kubeflow.org", "v1", "pytorchjobs"),
}
_RUN: dict[JobStatus, Any] = {
    "Created": "pending",
    "Running": "running",
    "Complete": "succeeded",
    "Failed": "failed",
}
_STEP: dict[JobStatus, StepStatus] = {
    "Created": "pending",
    "Running": "running",
    "Complete": "succeeded",
    "Failed": "failed",
}
FOLLOW_INTERVAL_S = 1.0  # how often the logs of running node pods are read
IDLE_WAKE_S = 30.0  # the longest a follower sleeps when no node pod is running
SYNC_WAIT_S = 10.0  # how long a read waits for a new cache's first list
DRAIN_S = 30.0  # how long a finished job waits for its still-running pods' last log lines


def _api_error(error: Exception, what: str) -> KfJupyterError:
    """Map an API error while creating a job's objects onto the error root (with what was tried)."""
    status = getattr(error, "status", None)
    body = getattr(error, "body", None) or str(error)
    if status == 409:
        return Conflict(
            f"Could not {what}: it already exists; pass another name=.", detail=body, reason="exists"
        )
    if status == 403:
        return Forbidden(f"Could not {what}: not allowed for this account.", detail=body)
    if status in (400, 422):
        return InvalidInput(f"Could not {what}: the cluster refused it ({body}).", detail=body)
    return KubeUnavailable(f"Could not {what}: {error}", detail=repr(error))


class KubernetesBackend(TrainingBackend):
    """Runs jobs as TrainJob / PyTorchJob resources and mirrors them into a run store."""

    name = Engine.KUBERNETES

    def __init__(self, store: RunStore, kube: Kube, namespace: str, api: TrainingApi | None = None) -> None:
        self.store, self.kube, self.namespace = store, kube, namespace
        self.api = api or detect_api(kube)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._final_seen: dict[str, float] = {}
        self._caches: dict[tuple[str, str], Informer] = {}

    def _informer(self, namespace: str, what: Cached) -> Informer:
        """The shared cache of ``what`` ("pods", "events" or a custom resource kind) in ``namespace``."""
        with self._guard:
            found = self._caches.get((namespace, what))
            if found is None:
                if what == "pods":
                    call: Any = functools.partial(self.kube.core.list_namespaced_pod, namespace)
                elif what == "events":
                    call = functools.partial(self.kube.core.list_namespaced_event, namespace)
                else:
                    group, version, plural = _PLURAL[what]
                    call = functools.partial(
                        self.kube.custom.list_namespaced_custom_object, group, version, namespace, plural
                    )
                found = Informer(call, name=f"{what}-{namespace}")
                self._caches[(namespace, what)] = found
        if not found.wait_synced(SYNC_WAIT_S):
            raise KubeUnavailable(f"Could not list {what} in namespace {namespace}: {found.error}")
        return found

    # -- submitting ---------------------------------------------------------------------------

    def submit(
        self, spec: TrainingSpec, payload: bytes | None, files: Mapping[str, bytes] | None = None
    ) -> TrainJob:
        """Create the run record, the custom resource and its code ConfigMap (with ``files``); start following."""
        script = spec.entrypoint if isinstance(spec.entrypoint, ScriptEntrypoint) else None
        if (script is None) != (payload is not None):
            raise InvalidInput("A function job needs a payload and a script job must not have one.")
        procs = spec.procs_per_node or spec.gpus_per_node or 1
        details = KubernetesDetails(
            namespace=self.namespace, kind=self.api.kind, trainer_version=self.api.version or ""
        )
        parameters: dict[str, Any] = spec.model_dump(mode="json", exclude={"env"})
        parameters.update(
            env_names=sorted(spec.env), layout={"num_nodes": spec.num_nodes, "procs_per_node": procs}
        )
        if files:
            parameters["shipped_files"] = sorted(files)
        run = RunRecord(
            kind="training",
            name=spec.name,
            backend=self.name,
            parameters=parameters,
            external_id=spec.name,
            details=details,
        )
        text = Path(script.path).read_text(encoding="utf-8") if script else None
        options = K8sJobOptions(
            spec=spec,
            namespace=self.namespace,
            procs_per_node=procs,
            run_id=run.id,
            trainer_version=self.api.version or "v2.3",
            runtime=spec.runtime or "torch-distributed",
            script_text=text,
            payload=payload,
            files=dict(files or {}),
        )
        body = trainjob(options) if self.api.kind == "TrainJob" else pytorchjob(options)
        code = configmap(options)
        group, version, plural = _PLURAL[self.api.kind]
        try:
            created = self.kube.custom.create_namespaced_custom_object(
                group, version, self.namespace, plural, body
            )
        except Exception as error:
            raise _api_error(error, f"create {self.api.kind} {self.namespace}/{spec.name}") from error
        owner = {"apiVersion": body["apiVersion"], "kind": body["kind"], "name": spec.name}
        owner.update(uid=created["metadata"]["uid"], controller=True)
        code["metadata"]["ownerReferences"] = [owner]
        try:
            self.kube.core.create_namespaced_config_map(self.namespace, code)
        except Exception as error:  # do not leave a job behind that can never start
            with contextlib.suppress(Exception):
                self.kube.custom.delete_namespaced_custom_object(
                    group, version, self.namespace, plural, spec.name
                )
            raise _api_error(
                error, f"create ConfigMap {self.namespace}/{code['metadata']['name']}"
            ) from error
        self.store.create_run(run)
        world = spec.world_size(procs)
        self.store.upsert_steps([StepRecord(run_id=run.id, name=step_name(r)) for r in range(world)])
        note = f"Created {self.api.kind} {self.namespace}/{spec.name}"
        if self.api.version:
            note += f" for Kubeflow Trainer {self.api.version} ({self.api.found_by})"
        self.store.add_event(EventRecord(run_id=run.id, type="note", payload={"message": note}))
        threading.Thread(
            target=self._follow, args=(run.id,), name=f"kfjupyter-k8s-{spec.name}", daemon=True
        ).start()
        return self.get_job(run.id)

    def _follow(self, run_id: str) -> None:
        """Keep syncing a job until it ends (so logs are kept even if nobody asks).

        Between syncs it sleeps until the job's resource or pods change, or for
        ``FOLLOW_INTERVAL_S`` while a node pod runs (its log grows without any object changing).
        """
        while not self._stop.is_set():
            wait = FOLLOW_INTERVAL_S
            with contextlib.suppress(Exception):  # a failed sync is retried next time
                details = _details(self._run(run_id))
                caches = [self._informer(details.namespace, what) for what in ("pods", details.kind)]
                before = [cache.generation for cache in caches]  # read before the sync: no lost wake-up
                job = self.get_job(run_id)
                if job.finished:
                    return
                if not any(step.status == "Running" for step in job.steps):
                    self._sleep_until_changed(caches, before, IDLE_WAKE_S)
                    continue
            self._stop.wait(wait)

    def _sleep_until_changed(self, caches: list[Informer], before: list[int], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self._stop.is_set() and (left := deadline - time.monotonic()) > 0:
            if [cache.generation for cache in caches] != before:
                return
            caches[0].wait_changed(before[0], min(0.5, left))  # the others are checked every 0.5 s

    def close(self) -> None:
        """Stop the follower threads and caches of this backend (jobs keep running on the cluster)."""
        self._stop.set()
        with self._guard:
            for cache in self._caches.values():
                cache.stop()

    # -- reading and syncing ------------------------------------------------------------------

    def _run(self, job_id: str) -> RunRecord:
        try:
            run = self.store.get_run(job_id)
        except InvalidInput:
            raise NotFound(f"There is no training job {job_id!r}.") from None
        if run.kind != "training" or run.backend != self.name:
            raise NotFound(f"{job_id!r} is not a Kubernetes training job.")
        return run

    def _lock(self, run_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(run_id, threading.Lock())

    def _read_cr(self, run: RunRecord) -> dict[str, Any] | None:
        details = _details(run)
        namespace, name = details.namespace, run.external_id or run.name
        cached = self._informer(namespace, details.kind).get(f"{namespace}/{name}")
        if cached is not None:
            return cached
        # not in the cache: just created (the watch has not delivered it yet) or really gone
        group, version, plural = _PLURAL[details.kind]
        with ignore_not_found():
            obj: dict[str, Any] = self.kube.custom.get_namespaced_custom_object(
                group, version, namespace, plural, name
            )
            return obj
        return None

    def sync(self, job_id: str) -> RunRecord:
        """Bring the store up to date with the cluster: status, steps, logs, metrics, events."""
        run = self._run(job_id)
        if run.status not in ("pending", "running"):
            return run
        with self._lock(job_id):
            return self._sync(self._run(job_id))

    def _sync(self, run: RunRecord) -> RunRecord:
        details = _details(run)
        kind, namespace, name = details.kind, details.namespace, run.external_id or run.name
        layout = job_from_records(run, [])
        nodes, procs = layout.num_nodes, layout.procs_per_node
        obj = self._read_cr(run)
        pods = matching(self._informer(namespace, "pods").items(), pod_selector(kind, name))
        state = job_state(kind, obj or {}, pods, nodes)
        container = TRAINER_CONTAINER if kind == "TrainJob" else PYTORCH_CONTAINER
        sync_logs(self.store, run.id, state.nodes, procs, PodLogs(self.kube, container), namespace)
        sync_metrics(self.store, run.id, [node_step(n, procs) for n in range(nodes)])
        involved = {name, *(n.name for n in state.nodes)}
        events = self._informer(namespace, "events").items()
        sync_events(
            self.store, run.id, [e for e in events if e.get("involvedObject", {}).get("name") in involved]
        )
        by_node = {n.node: n for n in state.nodes}
        known = {s.name: s for s in self.store.get_steps(run.id)}  # times outlive the pods
        steps = []
        for rank in range(nodes * procs):
            pod = by_node.get(rank // procs)
            status = pod.status if pod else ("Complete" if state.status == "Complete" else "Created")
            before = known.get(step_name(rank))
            steps.append(
                StepRecord(
                    run_id=run.id,
                    name=step_name(rank),
                    status=_STEP[status],
                    exit_code=pod.exit_code if pod else None,
                    error=pod.error if pod and status == "Failed" else None,
                    started_at=(pod.started_at if pod else None) or (before.started_at if before else None),
                    finished_at=(pod.finished_at if pod else None)
                    or (before.finished_at if before else None),
                )
            )
        self.store.upsert_steps(steps)
        if state.status in ("Complete", "Failed") and obj is not None and self._draining(run, state.nodes):
            return run  # the condition came first: keep reading until the pods' logs are complete
        if obj is None:
            update = RunUpdate(status="cancelled", error=f"The {kind} {namespace}/{name} was deleted.")
        elif state.status == "Failed":
            failing = next((n for n in state.nodes if n.status == "Failed"), None)
            detail = f" (node {failing.node}, pod {failing.name}: {failing.error})" if failing else ""
            reason = details.model_copy(update={"reason": state.reason or "Failed"})
            update = RunUpdate(
                status="failed", error=f"{state.error or state.reason}{detail}", details=reason
            )
        else:
            update = RunUpdate(status=_RUN[state.status])
            starts = [n.started_at for n in state.nodes if n.started_at is not None]
            if state.status == "Running" and run.started_at is None and starts:
                update = RunUpdate(status="running", started_at=min(starts))  # when the first node started
        with contextlib.suppress(Conflict):
            return self.store.update_run(run.id, update)
        return self._run(run.id)

    def _draining(self, run: RunRecord, nodes: list[NodePod]) -> bool:
        """Whether a job with a final condition still has pods writing logs (for a short while)."""
        if not any(n.started and not n.finished for n in nodes):
            return False
        first = self._final_seen.setdefault(run.id, time.monotonic())
        return time.monotonic() - first < DRAIN_S

    def get_job(self, job_id: str) -> TrainJob:
        """Sync a job that is not finished, then return its snapshot from the store."""
        run = self.sync(job_id)
        return job_from_records(run, self.store.get_steps(job_id))

    def find_job(self, name: str) -> TrainJob:
        """Return the job with this id, else the newest Kubernetes job with this name."""
        with contextlib.suppress(NotFound):
            return self.get_job(name)
        for run in self.store.list_runs(kind="training", limit=500):
            if run.name == name and run.backend == self.name:
                return self.get_job(run.id)
        raise NotFound(f"There is no Kubernetes training job named or with id {name!r}.")

    def list_jobs(self, limit: int = 50) -> list[TrainJob]:
        """Return Kubernetes jobs, newest first."""
        runs = self.store.list_runs(kind="training", limit=limit)
        return [self.get_job(r.id) for r in runs if r.backend == self.name]

    def logs(self, job_id: str, rank: int | None, follow: bool, tail: int | None) -> Iterator[str]:
        """Yield stored log lines of one node's leader rank or of all nodes (synced first)."""
        job = self.get_job(job_id)
        leaders = [node_step(n, job.procs_per_node) for n in range(job.num_nodes)]
        if rank is not None:
            step = (
                node_step(rank // job.procs_per_node, job.procs_per_node) if rank < job.world_size else None
            )
            if step is None:
                raise NotFound(f"Job {job.name!r} has no rank {rank}; its ranks are 0..{job.world_size - 1}.")
            leaders = [step]
        reader = RankLogs(self.store, job_id, leaders)
        return reader.iterate(tail, follow, lambda: self.get_job(job_id).finished)

    def metrics(self, job_id: str, rank: int | None) -> list[MetricPoint]:
        """Return metric values parsed from the nodes' logs, ordered by name, rank, then index."""
        self.sync(job_id)
        points = points_from_records(self.store.list_metrics(job_id))
        if rank is not None:
            points = [p for p in points if p.rank == rank]
        return sorted(points, key=lambda p: (p.name, p.rank, p.index, p.ts))

    def events(self, job_id: str) -> list[dict[str, Any]]:
        """The Kubernetes events recorded for a job (about its resource and pods), oldest first."""
        self.sync(job_id)
        return [dict(e.payload) for e in self.store.list_events(job_id) if e.type == "k8s_event"]

    def cancel(self, job_id: str) -> TrainJob:
        """Keep the logs so far, delete the custom resource (its pods and ConfigMap go with it)."""
        job = self.get_job(job_id)
        if job.finished:
            return job
        run = self._run(job_id)
        details = _details(run)
        group, version, plural = _PLURAL[details.kind]
        self.sync(job_id)  # keep the logs written so far
        with ignore_not_found():  # already gone
            self.kube.custom.delete_namespaced_custom_object(
                group, version, details.namespace, plural, run.external_id or run.name,
                body={"propagationPolicy": "Background"},
            )  # fmt: skip
        with contextlib.suppress(Conflict):
            self.store.update_run(job_id, RunUpdate(status="cancelled", error="Cancelled by the user."))
        return job_from_records(self._run(job_id), self.store.get_steps(job_id))


def _details(run: RunRecord) -> KubernetesDetails:
    """The Kubernetes details of a job's run (``NotFound`` for a run of another engine)."""
    if not isinstance(run.details, KubernetesDetails):
        raise NotFound(f"{run.id!r} is not a Kubernetes training job.")
    return run.details


def kubernetes_backend(
    env: Mapping[str, str] | None = None, store: RunStore | None = None
) -> KubernetesBackend:
    """Connect as the environment allows (in-cluster, ``KUBECONFIG``, ``~/.kube``); raise if unusable."""
    env = os.environ if env is None else env
    access = find_access(env)
    if access is None:
        raise BackendNotAvailable(
            f"The Kubernetes training backend is not available: no cluster access was found (looked for "
            f"{where_looked(env)}). Use backend='local' to run the job on this machine."
        )
    if store is None:
        raise InvalidInput("The Kubernetes training backend needs a run store.")
    kube = Kube(access)
    try:
        return KubernetesBackend(store, kube, default_namespace(env))
    except BaseException:
        kube.close()
        raise


__all__ = [
    "KubernetesBackend",
    "TrainingApi",
    "cluster_access",
    "detect_api",
    "kubernetes_backend",
]
