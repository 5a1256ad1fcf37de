"""One pod's lifecycle on the process kubelet: pull, start, probe, restart, report, terminate.

A :class:`PodWorker` thread owns one pod: it prepares volumes, simulates image pulls (images
matching the unpullable pattern fail with ErrImagePull -> ImagePullBackOff), starts each
container's process, restarts it per ``restartPolicy`` with back-off (CrashLoopBackOff), runs
its startup, readiness and liveness probes (rules in ``prober``; a failed startup or liveness probe
kills the container: SIGTERM, SIGKILL after the grace period, then the usual restart), writes status,
and on deletion sends SIGTERM, waits the grace period, sends SIGKILL and removes the pod object.
"""

from __future__ import annotations

import math
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from kfjupyter.cluster.config import KubeletSettings
from kfjupyter.cluster.kubelet import runtime
from kfjupyter.cluster.kubelet.prober import ContainerProbes
from kfjupyter.cluster.kubelet.probes import probe
from kfjupyter.cluster.kubelet.status import ContainerRecord, backoff, now_iso, pod_status
from kfjupyter.cluster.kubelet.volumes import prepare_volumes
from kfjupyter.errors import KfJupyterError
from kfjupyter.k8s.client import Kube, discard, ignore_not_found, ignore_status

_POLL_S = 0.3


class Host(Protocol):
    """What a pod worker needs from the kubelet that runs it."""

    kube: Kube
    settings: KubeletSettings
    state_dir: Path
    host_ip: str
    running: bool

    def event(
        self, pod: dict[str, Any], reason: str, message: str, kind: str = ..., container: str | None = ...
    ) -> None:
        """Record an event about ``pod``."""

    def lookup(self, kind: str, namespace: str, name: str) -> dict[str, str] | None:
        """Data of a secret or config map, None when missing."""

    def base_env(self) -> dict[str, str]:
        """Environment every container gets (e.g. KUBERNETES_SERVICE_HOST)."""

    def unpullable(self, image: str) -> bool:
        """Whether pulling ``image`` fails."""


class PodWorker(threading.Thread):
    """Drives one pod; the kubelet feeds it updates and wakes it."""

    def __init__(self, host: Host, pod: dict[str, Any], pod_ip: str) -> None:
        meta = pod["metadata"]
        super().__init__(daemon=True, name=f"pod-{meta['namespace']}/{meta['name']}")
        self.host, self.pod, self.pod_ip = host, pod, pod_ip
        self.uid: str = meta["uid"]
        self.dir = host.state_dir / "pods" / self.uid
        spec = pod["spec"]
        self.init = {
            c["name"]: ContainerRecord(c["name"], c.get("image", ""))
            for c in spec.get("initContainers") or []
        }
        self.apps = {c["name"]: ContainerRecord(c["name"], c.get("image", "")) for c in spec["containers"]}
        self.procs: dict[str, runtime.Process] = {}
        self.due: dict[str, float] = {}
        self.switch: dict[str, float] = {}  # when ErrImagePull turns into ImagePullBackOff
        self.pulls: dict[str, int] = {}
        self.pulled: set[str] = set()
        self.probes: dict[str, ContainerProbes] = {}  # of each running container
        self.unhealthy_at: dict[tuple[str, str], float] = {}  # last Unhealthy event per container and probe
        self.kill_at: dict[str, float] = {}  # SIGKILL deadline of a container killed for a failed probe
        self.mounts: dict[str, list[tuple[str, str, bool]]] | None = None
        self.mount_error_at = 0.0
        self.init_failed = False
        self.start_time = now_iso()
        self.posted: dict[str, Any] | None = None
        self.gone = threading.Event()
        self.wake = threading.Event()
        self.lock = threading.Lock()

    def update(self, pod: dict[str, Any]) -> None:
        """A newer version of the pod object arrived."""
        self.pod = pod
        self.wake.set()

    def deleted(self) -> None:
        """The pod object is gone (force deletion): stop at once."""
        self.gone.set()
        self.wake.set()

    def record(self, container: str) -> ContainerRecord | None:
        """The record of an app or init container."""
        return self.apps.get(container) or self.init.get(container)

    def log_file(self, container: str, previous: bool) -> Path | None:
        """The log of the current (or previous) run of ``container``."""
        record = self.record(container)
        if record is None:
            return None
        run = record.restart_count - (1 if previous else 0)
        path = self.dir / "logs" / container / f"{run}.log"
        return path if run >= 0 and path.is_file() else None

    def is_running(self, container: str) -> bool:
        """Whether the container's process runs (log followers stop when it does not)."""
        return container in self.procs

    def run(self) -> None:
        """The worker loop."""
        failures = 0
        try:
            while True:
                if self.gone.is_set() or not self.host.running:
                    self._kill_all(grace_s=0.0 if self.gone.is_set() else 2.0)
                    break
                if self.pod["metadata"].get("deletionTimestamp"):
                    self._terminate()
                    break
                try:
                    self._step()
                    self._post()
                    failures = 0
                except Exception:  # API hiccups (timeouts, restarts): retry, give up when persistent
                    failures += 1
                    if failures > 20:
                        raise
                    time.sleep(0.5)
                self.wake.wait(timeout=self._sleep())
                self.wake.clear()
        except Exception as error:  # a bug here must not take the kubelet down
            self.host.event(self.pod, "KubeletError", f"process kubelet: {error!r}", "Warning")
            self._kill_all(grace_s=0.0)
            raise
        finally:
            shutil.rmtree(self.dir / "volumes", ignore_errors=True)

    def _sleep(self) -> float | None:
        if self.procs:
            return _POLL_S
        pending = [t for t in (*self.due.values(), *self.switch.values())]
        return max(0.05, min(pending) - time.monotonic()) if pending else None

    def _step(self) -> None:
        if self.mounts is None and not self._prepare():
            return
        policy = self.pod["spec"].get("restartPolicy", "Always")
        for spec in self.pod["spec"].get("initContainers") or []:
            record = self.init[spec["name"]]
            if record.final and record.exit_code() == 0:
                continue
            if record.final:
                self.init_failed = True
                return
            self._drive(spec, record, "Never" if policy == "Never" else "OnFailure")
            return
        for spec in self.pod["spec"]["containers"]:
            self._drive(spec, self.apps[spec["name"]], policy)

    def _prepare(self) -> bool:
        try:
            self.mounts = prepare_volumes(self.pod, self.dir / "volumes", self.host)
        except KfJupyterError as error:
            if time.monotonic() - self.mount_error_at > 10:
                self.mount_error_at = time.monotonic()
                self.host.event(self.pod, "FailedMount", error.message, "Warning")
            self.due["__volumes__"] = time.monotonic() + 1.0
            return False
        self.due.pop("__volumes__", None)
        return True

    def _drive(self, spec: dict[str, Any], record: ContainerRecord, policy: str) -> None:
        name = spec["name"]
        if name in self.procs:
            self._check_running(spec, record, policy)
        elif not record.final:
            now = time.monotonic()
            if name in self.switch and now >= self.switch[name]:
                self._image_backoff(spec, record)
            if now >= self.due.get(name, 0.0):
                self._start(spec, record)

    def _check_running(self, spec: dict[str, Any], record: ContainerRecord, policy: str) -> None:
        name = spec["name"]
        process = self.procs[name]
        code = process.poll()
        if code is None:
            self._probe(spec, record)
            return
        process.reap()
        with self.lock:
            del self.procs[name]
        self.probes.pop(name, None)
        unhealthy = self.kill_at.pop(name, None) is not None
        started = record.state.get("running", {}).get("startedAt", self.start_time)
        term = {"exitCode": code if code >= 0 else 128 - code, "reason": "Completed" if code == 0 else "Error",
                "startedAt": started, "finishedAt": now_iso(), "containerID": record.container_id}  # fmt: skip
        record.ready = record.started = False
        if policy == "Always" or (policy == "OnFailure" and (code != 0 or unhealthy)):
            delay = backoff(
                record.restart_count, self.host.settings.backoff_base_s, self.host.settings.backoff_max_s
            )
            meta = self.pod["metadata"]
            record.last_state = {"terminated": term}
            record.state = {"waiting": {"reason": "CrashLoopBackOff", "message": (
                f"back-off {delay:g}s restarting failed container={name} pod={meta['name']}_{meta['namespace']}"
                f"({self.uid})")}}  # fmt: skip
            self.due[name] = time.monotonic() + delay
            self.host.event(self.pod, "BackOff", "Back-off restarting failed container", "Warning", name)
        else:
            record.state = {"terminated": term}
            record.final = True

    def _image_backoff(self, spec: dict[str, Any], record: ContainerRecord) -> None:
        del self.switch[spec["name"]]
        image = spec.get("image", "")
        record.state = {
            "waiting": {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}
        }
        self.host.event(self.pod, "BackOff", f'Back-off pulling image "{image}"', "Normal", spec["name"])
        self.host.event(self.pod, "Failed", "Error: ImagePullBackOff", "Warning", spec["name"])

    def _start(self, spec: dict[str, Any], record: ContainerRecord) -> None:
        name, image = spec["name"], spec.get("image", "")
        if name not in self.pulled:
            self.host.event(self.pod, "Pulling", f'Pulling image "{image}"', "Normal", name)
            if self.host.unpullable(image):
                self._pull_failed(spec, record)
                return
            self.host.event(self.pod, "Pulled", f'Successfully pulled image "{image}" in 0s', "Normal", name)
            self.pulled.add(name)
        self.due.pop(name, None)
        try:
            env = runtime.container_env(self.pod, spec, pod_ip=self.pod_ip, host_ip=self.host.host_ip,
                                        base=self.host.base_env(), lookup=self.host.lookup)  # fmt: skip
            argv = runtime.wrap(
                runtime.command_line(spec, env), (self.mounts or {}).get(name, []), spec.get("workingDir")
            )
        except KfJupyterError as error:
            record.state = {"waiting": {"reason": "CreateContainerConfigError", "message": error.message}}
            self.host.event(self.pod, "Failed", f"Error: {error.message}", "Warning", name)
            self.due[name] = time.monotonic() + 2.0
            return
        if record.ever_started:
            record.restart_count += 1
        self.host.event(self.pod, "Created", f"Created container {name}", "Normal", name)
        log = self.dir / "logs" / name / f"{record.restart_count}.log"
        try:
            process = runtime.start(argv, env, log, self.dir / f"{name}.pid")
        except KfJupyterError as error:
            record.state = {"waiting": {"reason": "RunContainerError", "message": error.message}}
            self.host.event(self.pod, "Failed", f"Error: {error.message}", "Warning", name)
            self.due[name] = time.monotonic() + backoff(record.restart_count, self.host.settings.backoff_base_s,
                                                        self.host.settings.backoff_max_s)  # fmt: skip
            return
        with self.lock:
            self.procs[name] = process
        record.container_id = f"process://{process.popen.pid}"
        record.state = {"running": {"startedAt": now_iso()}}
        probes = self.probes[name] = ContainerProbes.for_container(spec, time.monotonic())
        record.started, record.ready = probes.started, probes.ready
        self.host.event(self.pod, "Started", f"Started container {name}", "Normal", name)

    def _pull_failed(self, spec: dict[str, Any], record: ContainerRecord) -> None:
        name, image = spec["name"], spec.get("image", "")
        failures = self.pulls[name] = self.pulls.get(name, 0) + 1
        message = (f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": '
                   f"{image}: not found (unpullable by the process kubelet)")  # fmt: skip
        record.state = {"waiting": {"reason": "ErrImagePull", "message": message}}
        self.host.event(self.pod, "Failed", f'Failed to pull image "{image}": {message}', "Warning", name)
        self.host.event(self.pod, "Failed", "Error: ErrImagePull", "Warning", name)
        delay = backoff(failures - 1, self.host.settings.backoff_base_s, self.host.settings.backoff_max_s)
        self.due[name] = time.monotonic() + delay
        self.switch[name] = time.monotonic() + min(1.0, delay / 2)

    def _probe(self, spec: dict[str, Any], record: ContainerRecord) -> None:
        name = spec["name"]
        if name in self.kill_at:  # being killed for a failed probe: SIGKILL once the grace period is over
            if time.monotonic() >= self.kill_at[name]:
                self.procs[name].signal(signal.SIGKILL)
                self.kill_at[name] = math.inf
            return
        probes = self.probes.get(name)
        if probes is None:
            return
        for kind in probes.due(time.monotonic()):
            if probes.failed is not None:
                break
            ok, why = probe(probes.check(kind), spec, self.pod_ip)
            probes.observe(kind, ok, time.monotonic())
            if not ok:
                self._unhealthy(name, kind, why, always=probes.failed is not None)
        record.started, record.ready = probes.started, probes.ready
        if probes.failed is not None:
            self._kill_unhealthy(name, probes.failed)

    def _unhealthy(self, name: str, kind: str, why: str, always: bool) -> None:
        """The kubelet's Unhealthy event, at most one per container and probe in 10 s unless ``always``."""
        if always or time.monotonic() - self.unhealthy_at.get((name, kind), -60.0) > 10:
            self.unhealthy_at[name, kind] = time.monotonic()
            self.host.event(
                self.pod, "Unhealthy", f"{kind.capitalize()} probe failed: {why}", "Warning", name
            )

    def _kill_unhealthy(self, name: str, kind: str) -> None:
        """Stop a container that failed its startup or liveness probe; its exit leads to the restart."""
        restart = self.pod["spec"].get("restartPolicy", "Always") != "Never"
        message = f"Container {name} failed {kind} probe" + (", will be restarted" if restart else "")
        self.host.event(self.pod, "Killing", message, "Normal", name)
        grace = self.pod["spec"].get("terminationGracePeriodSeconds")
        self.kill_at[name] = time.monotonic() + float(30 if grace is None else grace)
        self.procs[name].signal(signal.SIGTERM)

    def _post(self) -> None:
        status = pod_status(list(self.apps.values()), list(self.init.values()), pod_ip=self.pod_ip,
                            host_ip=self.host.host_ip, start_time=self.start_time, init_failed=self.init_failed,
                            previous=self.posted)  # fmt: skip
        if status == self.posted:
            return
        meta = self.pod["metadata"]
        with ignore_not_found() as gone:
            discard(self.host.kube.core.patch_namespaced_pod_status(
                meta["name"], meta["namespace"], {"status": status}, _preload_content=False
            ))  # fmt: skip
        if gone:
            self.gone.set()
            return
        self.posted = status

    def _kill_all(self, grace_s: float) -> None:
        for process in list(self.procs.values()):
            process.signal(signal.SIGTERM if grace_s else signal.SIGKILL)
        deadline = time.monotonic() + grace_s
        while any(p.popen.poll() is None for p in self.procs.values()) and time.monotonic() < deadline:
            if self.gone.wait(0.05):
                break
        for process in list(self.procs.values()):
            process.signal(signal.SIGKILL)
            process.reap()
        with self.lock:
            self.procs.clear()

    def _terminate(self) -> None:
        meta = self.pod["metadata"]
        grace = meta.get("deletionGracePeriodSeconds")
        if grace is None:
            grace = self.pod["spec"].get("terminationGracePeriodSeconds", 30)
        for name in self.procs:
            self.host.event(self.pod, "Killing", f"Stopping container {name}", "Normal", name)
        self._kill_all(grace_s=float(grace))
        with ignore_status(404, 409):  # gone already, or a new pod took the name
            self.host.kube.core.delete_namespaced_pod(
                meta["name"],
                meta["namespace"],
                grace_period_seconds=0,
                body={"gracePeriodSeconds": 0, "preconditions": {"uid": self.uid}},
            )
        shutil.rmtree(self.dir, ignore_errors=True)
