"""The ``kfjupyter`` spawner class registered under the ``jupyterhub.spawners`` entry point.

A thin JupyterHub-facing shell over pure parts: profiles are validated (``profiles``), each spawn
is resolved fresh from config + user + options (``options``), objects are built by pure functions
(``pods``), state comes from shared watches (``cluster_view``), and terminal problems are turned
into plain-language errors within seconds (``failures``).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from jupyterhub.spawner import Spawner
from kubernetes.client import ApiClient
from tornado import web
from traitlets import Dict, Float, Int, List, Unicode, default

from kfjupyter.errors import Forbidden, KfJupyterError
from kfjupyter.k8s.client import is_status
from kfjupyter_spawner.cluster_view import ClusterView
from kfjupyter_spawner.failures import terminal_problem
from kfjupyter_spawner.form import options_from_form, render_form
from kfjupyter_spawner.names import pod_name
from kfjupyter_spawner.options import SpawnPlan, UserInfo, resolve, visible_profiles
from kfjupyter_spawner.pods import PodContext, build_pod, build_pvcs, idle_args
from kfjupyter_spawner.profiles import SpawnerConfig, load_config, load_config_file

_CONFIGS: dict[str, SpawnerConfig] = {}


class SpawnFailed(web.HTTPError):
    """A spawn that cannot succeed; the hub shows the message to the user as is (page and REST API)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(status, "%s", message)
        self.jupyterhub_message = message

    def __str__(self) -> str:
        return self.jupyterhub_message


class KfJupyterSpawner(Spawner):  # type: ignore[misc]
    """Spawns a user's notebook server as a Kubernetes pod chosen from typed profiles."""

    profiles = List(Dict(), config=True, help="Profiles (see the schema); or use profiles_file.")
    profiles_file = Unicode("", config=True, help="YAML file with the profiles.")
    namespace = Unicode("default", config=True, help="Namespace of the server pods.")
    kubeconfig = Unicode(os.environ.get("KUBECONFIG", ""), config=True, help="Kubeconfig of the cluster.")
    fail_fast_grace_s = Float(3.0, config=True, help="How long a terminal problem may last before failing.")
    uid = Int(1000, config=True, help="User id the notebook runs as (never root).")
    fs_group = Int(100, config=True, help="Group owning mounted volumes.")
    service_account = Unicode("", config=True, help="Service account for profiles with cluster_access.")

    @default("port")
    def _port(self) -> int:
        return 8888

    @default("options_form")
    def _form(self) -> Any:
        return KfJupyterSpawner._render_options_form

    @default("cmd")
    def _cmd(self) -> list[str]:
        return ["jupyterhub-singleuser"]

    def load_profiles(self) -> SpawnerConfig:
        """The validated profiles (cached per source; a bad file fails here, with paths)."""
        return spawner_config(list(self.profiles), self.profiles_file)

    @property
    def pod_name(self) -> str:
        """Name of this server's pod."""
        return pod_name(self.user.name, self.name)

    def _user_info(self, view: ClusterView | None) -> UserInfo:
        groups = frozenset(g.name for g in getattr(self.user, "groups", []) or [])
        used = 0
        config = self.load_profiles()
        resources = {p.gpu.resource for p in config.profiles if p.gpu is not None}
        if view is not None:
            used = sum(
                view.gpus_of_user(self.user.name, resource=r, exclude=self.pod_name) for r in resources
            )
        return UserInfo(self.user.name, groups, used, self.name)

    async def _render_options_form(self) -> str:
        config = self.load_profiles()
        view = await ClusterView.get(self.kubeconfig, self.namespace)
        profiles = visible_profiles(config, self._user_info(view))
        capacity = {p.slug: view.capacity(p.gpu) for p in profiles if p.gpu is not None}
        return render_form(profiles, capacity)

    def options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, str]:
        """Flat options from the posted form."""
        return options_from_form(formdata)

    def _context(self, plan: SpawnPlan) -> PodContext:
        env = dict(self.get_env())
        url = env.get("JUPYTERHUB_SERVICE_URL")
        if url:  # listen on the pod's own address
            parsed = urlparse(url)
            env["JUPYTERHUB_SERVICE_URL"] = urlunparse(
                parsed._replace(netloc=f"$(KFJUPYTER_POD_IP):{self.port}")
            )
        return PodContext(
            user=self.user.name,
            namespace=self.namespace,
            command=[*self.cmd, *self.get_args(), *idle_args(plan)],
            port=self.port,
            server=self.name,
            env=env,
            uid=self.uid,
            fs_group=self.fs_group,
            service_account=self.service_account or None,
        )

    async def start(self) -> tuple[str, int]:
        """Create this server's PVCs and pod, wait until it is ready, fail fast when it cannot be."""
        view = await ClusterView.get(self.kubeconfig, self.namespace)
        try:
            plan = resolve(self.load_profiles(), self._user_info(view), self.user_options or {})
        except KfJupyterError as error:
            raise SpawnFailed(error.message, 403 if isinstance(error, Forbidden) else 400) from None
        ctx = self._context(plan)
        self._messages: list[str] = [f"Starting a {plan.profile} server…"]
        await asyncio.to_thread(self._create, view, plan, ctx)
        return await self._wait_ready(view, plan)

    def get_state(self) -> dict[str, Any]:
        """Persist which PVCs are known to exist, so a restart writes only the pod."""
        state: dict[str, Any] = super().get_state()
        if self._pvcs_known:
            state["pvcs"] = sorted(self._pvcs_known)
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore the PVCs known to exist (kept across stops, like the PVCs themselves)."""
        super().load_state(state)
        self._pvcs_known = set(state.get("pvcs") or [])

    @property
    def _pvcs_known(self) -> set[str]:
        known: set[str] | None = self.__dict__.get("_kfj_pvcs")
        if known is None:
            known = self.__dict__["_kfj_pvcs"] = set()
        return known

    @_pvcs_known.setter
    def _pvcs_known(self, value: set[str]) -> None:
        self.__dict__["_kfj_pvcs"] = value

    def _create(self, view: ClusterView, plan: SpawnPlan, ctx: PodContext) -> None:
        core = view.kube.core
        client = ApiClient()
        for pvc in build_pvcs(plan, ctx):
            name = f"{self.namespace}/{pvc.metadata.name}"
            if name in self._pvcs_known:  # created by an earlier spawn: one write (the pod) per restart
                continue
            try:
                core.create_namespaced_persistent_volume_claim(
                    self.namespace, client.sanitize_for_serialization(pvc)
                )
            except Exception as error:
                if not is_status(error, 409):
                    raise
            self._pvcs_known.add(name)
        body = client.sanitize_for_serialization(build_pod(plan, ctx))
        try:
            core.create_namespaced_pod(self.namespace, body)
        except Exception as error:
            if not is_status(error, 409):
                raise
            core.delete_namespaced_pod(self.pod_name, self.namespace, grace_period_seconds=0)
            deadline = time.monotonic() + 30
            while view.pod(self.pod_name) is not None and time.monotonic() < deadline:
                time.sleep(0.1)
            core.create_namespaced_pod(self.namespace, body)

    async def _wait_ready(self, view: ClusterView, plan: SpawnPlan) -> tuple[str, int]:
        first_problem: float | None = None
        seen: set[str] = set()
        gpu = self.load_profiles().profile(plan.profile).gpu
        while True:
            pod = view.pod(self.pod_name)
            events = view.pod_events(self.pod_name)
            for event in events:
                uid = event.get("metadata", {}).get("uid", "")
                if uid not in seen and event.get("reason") != "FailedScheduling":
                    seen.add(uid)
                    self._messages.append(str(event.get("message") or event.get("reason")))
            capacity = view.capacity(gpu) if gpu is not None else {}
            problem = terminal_problem(pod, events, plan, capacity)
            if problem is not None:
                first_problem = first_problem or time.monotonic()
                if time.monotonic() - first_problem >= self.fail_fast_grace_s:
                    await asyncio.to_thread(self._delete)
                    raise SpawnFailed(problem)
            else:
                first_problem = None
            if pod is not None and _ready(pod):
                ip = pod["status"]["podIP"]
                self._messages.append(f"Server ready at {ip}")
                return ip, self.port
            await view.pods.changed(timeout_s=0.5, key=f"{self.namespace}/{self.pod_name}")

    async def progress(self) -> AsyncIterator[dict[str, Any]]:
        """Plain-language progress for the hub's spawn page."""
        sent = 0
        while True:
            messages = getattr(self, "_messages", [])
            while sent < len(messages):
                yield {"message": messages[sent]}
                sent += 1
            if self._spawn_future is not None and self._spawn_future.done():
                return
            await asyncio.sleep(0.5)

    def _delete(self) -> None:
        view = ClusterView.peek(self.kubeconfig, self.namespace)
        if view is None:
            return
        try:
            view.kube.core.delete_namespaced_pod(self.pod_name, self.namespace, grace_period_seconds=5)
        except Exception as error:
            if not is_status(error, 404):
                raise

    async def stop(self, now: bool = False) -> None:
        """Delete the pod (PVCs stay) and wait until it is gone."""
        view = await ClusterView.get(self.kubeconfig, self.namespace)
        await asyncio.to_thread(self._delete)
        deadline = time.monotonic() + 60
        while view.pod(self.pod_name) is not None and time.monotonic() < deadline:
            await view.pods.changed(timeout_s=1.0, key=f"{self.namespace}/{self.pod_name}")

    async def poll(self) -> int | None:
        """None while the pod runs; an exit status once it is gone or ended (from the cache)."""
        view = await ClusterView.get(self.kubeconfig, self.namespace)
        pod = view.pod(self.pod_name)
        if pod is None:
            return 0
        phase = pod.get("status", {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            return 1
        return None


def _ready(pod: dict[str, Any]) -> bool:
    status = pod.get("status", {})
    if status.get("phase") != "Running" or not status.get("podIP"):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def spawner_config(profiles: list[dict[str, Any]], profiles_file: str) -> SpawnerConfig:
    """Load and validate the profiles once per source (raises InvalidInput naming paths)."""
    if profiles_file:
        path = Path(profiles_file)
        key = f"file:{path.resolve()}:{path.stat().st_mtime_ns if path.exists() else 0}"
        if key not in _CONFIGS:
            _CONFIGS[key] = load_config_file(path)
        return _CONFIGS[key]
    key = f"inline:{profiles!r}"
    if key not in _CONFIGS:
        _CONFIGS[key] = load_config(profiles, source="c.KfJupyterSpawner.profiles")
    return _CONFIGS[key]


def configure(c: Any, *, profiles_file: str, **traits: Any) -> SpawnerConfig:
    """Use in jupyterhub_config.py: set the spawner and validate the profiles *now*.

    A bad profiles file stops the hub at start with errors naming the exact paths.
    """
    config = spawner_config([], profiles_file)
    c.JupyterHub.spawner_class = "kfjupyter"
    c.KfJupyterSpawner.profiles_file = profiles_file
    for name, value in traits.items():
        setattr(c.KfJupyterSpawner, name, value)
    return config
