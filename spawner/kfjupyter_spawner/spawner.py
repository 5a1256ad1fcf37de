"""The ``kfjupyter`` spawner class registered under the ``jupyterhub.spawners`` entry point.

A thin JupyterHub-facing shell over pure parts: profiles are validated (``profiles``), each spawn
is resolved fresh from config + user + options (``options``), objects are built by pure functions
(``pods``, ``namespaces``) and created by ``writes``, state comes from shared watches
(``cluster_view``), and terminal problems are turned into plain-language errors within seconds
(``failures``). With ``user_namespaces`` on, each user's servers run in their own namespace.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from jupyterhub.spawner import Spawner
from pydantic import ValidationError
from tornado import web
from traitlets import Bool, Dict, Float, Int, List, Unicode, default

from kfjupyter.errors import Forbidden, InvalidInput, KfJupyterError
from kfjupyter.k8s.client import ignore_not_found, list_json
from kfjupyter_spawner.cluster_view import ClusterView
from kfjupyter_spawner.failures import terminal_problem
from kfjupyter_spawner.form import options_from_form, render_form
from kfjupyter_spawner.names import pod_name
from kfjupyter_spawner.namespaces import NOTEBOOK_ACCOUNT, UserNamespaces
from kfjupyter_spawner.options import SpawnPlan, UserInfo, resolve, visible_profiles
from kfjupyter_spawner.ownership import describe_owner, owned_by
from kfjupyter_spawner.pods import PodContext, idle_args
from kfjupyter_spawner.profiles import SpawnerConfig, config_errors, load_config, load_config_file
from kfjupyter_spawner.progress import OBJECTS, STARTING, Progress
from kfjupyter_spawner.writes import (
    Known,
    ServerObjects,
    create_server,
    delete_pod,
    off_loop,
    server_objects,
)

_CONFIGS: dict[str, SpawnerConfig] = {}
_NAMESPACE_SETTINGS: dict[str, UserNamespaces] = {}


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
    kubeconfig = Unicode(
        "",
        config=True,
        help="Kubeconfig of the cluster; empty: the hub's in-cluster service account, else the first "
        "file of $KUBECONFIG, else ~/.kube/config.",
    )
    fail_fast_grace_s = Float(3.0, config=True, help="How long a terminal problem may last before failing.")
    uid = Int(1000, config=True, help="User id the notebook runs as (never root).")
    fs_group = Int(100, config=True, help="Group owning mounted volumes.")
    service_account = Unicode("", config=True, help="Service account for profiles with cluster_access.")
    user_namespaces = Bool(
        False,
        config=True,
        help="Run each user's servers in their own namespace, made on their first spawn with a "
        "'notebook' service account that may run pods and training jobs there only.",
    )
    user_namespace_template = Unicode(
        "kfjupyter-{username}", config=True, help="Name of a user's namespace ('{username}' is replaced)."
    )
    user_namespace_labels = Dict(config=True, help="Extra labels of each user namespace.")
    user_namespace_pod_security = Unicode(
        "baseline", config=True, help="Pod Security level enforced in user namespaces ('' for none)."
    )
    user_namespace_quota = Dict(config=True, help="ResourceQuota 'hard' limits per user namespace.")

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

    def namespace_settings(self) -> UserNamespaces | None:
        """The validated per-user namespace settings, or None when servers share ``namespace``."""
        if not self.user_namespaces:
            return None
        return user_namespace_settings(
            self.user_namespace_template,
            dict(self.user_namespace_labels),
            self.user_namespace_pod_security,
            dict(self.user_namespace_quota),
        )

    @property
    def pod_namespace(self) -> str:
        """Namespace of this server's pod (the user's own one with ``user_namespaces``)."""
        settings = self.namespace_settings()
        return settings.name_for(self.user.name) if settings else self.namespace

    @property
    def _view_namespace(self) -> str:
        # Per-user namespaces: one view over all namespaces ("") rather than one per namespace.
        return "" if self.user_namespaces else self.namespace

    async def _view(self) -> ClusterView:
        return await ClusterView.get(self.kubeconfig, self._view_namespace)

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
        view = await self._view()
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
            namespace=self.pod_namespace,
            command=[*self.cmd, *self.get_args(), *idle_args(plan)],
            port=self.port,
            server=self.name,
            env=env,
            uid=self.uid,
            fs_group=self.fs_group,
            service_account=NOTEBOOK_ACCOUNT if self.user_namespaces else self.service_account or None,
            own_namespace=self.user_namespaces,
            # Longer than the hub's start_timeout: the hub gives up (with its message) first.
            startup_timeout_s=int(self.start_timeout) + 30,
        )

    async def start(self) -> tuple[str, int]:
        """Create this server's PVCs and pod, wait until it is ready, fail fast when it cannot be."""
        view = await self._view()
        try:
            plan = resolve(self.load_profiles(), self._user_info(view), self.user_options or {})
            objects = self.server_objects(plan)
        except KfJupyterError as error:
            raise SpawnFailed(error.message, 403 if isinstance(error, Forbidden) else 400) from None
        self._progress = Progress()
        self._progress.add(STARTING, f"Starting your {plan.profile} server…")
        try:
            done = await off_loop(self._create, view, objects)
        except KfJupyterError as error:
            raise SpawnFailed(error.message, 403 if isinstance(error, Forbidden) else 503) from None
        for line in done:
            self._progress.add(OBJECTS, line)
        self._progress.add(OBJECTS, "Asked the cluster for your server")
        return await self._wait_ready(view, plan)

    def server_objects(self, plan: SpawnPlan) -> ServerObjects:
        """The JSON objects of this spawn (what ``kfjupyter-spawner render`` prints)."""
        return server_objects(plan, self._context(plan), self.namespace_settings(), self.namespace)

    def get_state(self) -> dict[str, Any]:
        """Persist which PVCs (and user namespace) are known to exist: a restart writes only the pod."""
        state: dict[str, Any] = super().get_state()
        if self._known.pvcs:
            state["pvcs"] = sorted(self._known.pvcs)
        if self._known.namespace:
            state["namespace"] = self._known.namespace
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what is known to exist (kept across stops, like the objects themselves)."""
        super().load_state(state)
        self._known = Known(set(state.get("pvcs") or []), str(state.get("namespace") or ""))

    @property
    def _progress(self) -> Progress:
        progress: Progress | None = self.__dict__.get("_kfj_progress")
        if progress is None:
            progress = self.__dict__["_kfj_progress"] = Progress()
        return progress

    @_progress.setter
    def _progress(self, value: Progress) -> None:
        self.__dict__["_kfj_progress"] = value

    @property
    def _known(self) -> Known:
        known: Known | None = self.__dict__.get("_kfj_known")
        if known is None:
            known = self.__dict__["_kfj_known"] = Known()
        return known

    @_known.setter
    def _known(self, value: Known) -> None:
        self.__dict__["_kfj_known"] = value

    def _create(self, view: ClusterView, objects: ServerObjects) -> list[str]:
        return create_server(
            view.kube,
            objects,
            self._known,
            scope=self.kubeconfig,
            pod_gone=lambda: view.pod(self.pod_name, objects.namespace) is None,
        )

    def _own_pod(self, view: ClusterView, namespace: str) -> dict[str, Any] | None:
        """The cached pod of this server; None when absent or when the name holds someone else's."""
        pod = view.pod(self.pod_name, namespace)
        if pod is None or not owned_by(pod, self.user.name, server=self.name):
            return None
        return pod

    async def _wait_ready(self, view: ClusterView, plan: SpawnPlan) -> tuple[str, int]:
        first_problem: float | None = None
        seen: set[str] = set()
        gpu = self.load_profiles().profile(plan.profile).gpu
        namespace = self.pod_namespace
        while True:
            pod = self._own_pod(view, namespace)
            events = view.pod_events(self.pod_name, namespace)
            for event in events:
                uid = event.get("metadata", {}).get("uid", "")
                if uid not in seen:
                    seen.add(uid)
                    self._progress.add_event(event)
            capacity = view.capacity(gpu) if gpu is not None else {}
            problem = terminal_problem(pod, events, plan, capacity)
            if problem is not None:
                first_problem = first_problem or time.monotonic()
                if time.monotonic() - first_problem >= self.fail_fast_grace_s:
                    # Shown on the spawn page at once: the hub reports the failure itself only
                    # after stop(), which waits for the pod to be gone.
                    self._progress.add(0, problem)
                    await off_loop(self._delete)
                    raise SpawnFailed(problem)
            else:
                first_problem = None
            if pod is not None and _ready(pod):
                ip = pod["status"]["podIP"]
                self._progress.add(100, "Your server is ready")
                return ip, self.port
            await view.pods.changed(timeout_s=0.5, key=f"{namespace}/{self.pod_name}")

    async def progress(self) -> AsyncIterator[dict[str, Any]]:
        """Plain-language progress for the hub's spawn page, with how far along it is (0-100)."""
        sent = 0
        while True:
            steps = self._progress.steps
            while sent < len(steps):
                yield {"progress": steps[sent].progress, "message": steps[sent].message}
                sent += 1
            if self._spawn_future is not None and self._spawn_future.done():
                return
            await asyncio.sleep(0.5)

    def _delete(self) -> None:
        view = ClusterView.peek(self.kubeconfig, self._view_namespace)
        if view is None:
            return
        namespace = self.pod_namespace
        pod = view.pod(self.pod_name, namespace)
        if pod is None:  # not in the cache (yet): ask the API server
            with ignore_not_found() as gone:
                pod = list_json(view.kube.core.read_namespaced_pod, name=self.pod_name, namespace=namespace)
            if gone:
                return
        if not owned_by(pod, self.user.name, server=self.name):
            self.log.warning(
                "Not deleting pod %s/%s: it is not this server's (%s)",
                namespace,
                self.pod_name,
                describe_owner(pod),
            )
            return
        delete_pod(view.kube, pod, grace_period_s=5)

    async def stop(self, now: bool = False) -> None:
        """Delete the pod (PVCs and the user's namespace stay) and wait until it is gone."""
        view = await self._view()
        await off_loop(self._delete)
        namespace = self.pod_namespace
        deadline = time.monotonic() + 60
        while self._own_pod(view, namespace) is not None and time.monotonic() < deadline:
            await view.pods.changed(timeout_s=1.0, key=f"{namespace}/{self.pod_name}")

    async def poll(self) -> int | None:
        """None while the pod runs; an exit status once it is gone or ended (from the cache)."""
        view = await self._view()
        pod = self._own_pod(view, self.pod_namespace)
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


def user_namespace_settings(
    template: str, labels: dict[str, Any], pod_security: str, quota: dict[str, Any]
) -> UserNamespaces:
    """Validate the ``user_namespace_*`` settings (cached; raises InvalidInput naming the setting)."""
    key = repr((template, sorted(labels.items()), pod_security, sorted(quota.items())))
    cached = _NAMESPACE_SETTINGS.get(key)
    if cached is None:
        try:
            cached = UserNamespaces(template=template, labels=labels, pod_security=pod_security, quota=quota)
        except ValidationError as error:
            lines = [f"user_namespace_{line}" for line in config_errors(error)]
            raise InvalidInput(
                "invalid KfJupyterSpawner settings:\n  " + "\n  ".join(lines), detail=str(error)
            ) from None
        _NAMESPACE_SETTINGS[key] = cached
    return cached


def configure(c: Any, *, profiles_file: str, **traits: Any) -> SpawnerConfig:
    """Use in jupyterhub_config.py: set the spawner and validate the profiles *now*.

    A bad profiles file (or bad ``user_namespace_*`` settings) stops the hub at start with errors
    naming the exact paths.
    """
    config = spawner_config([], profiles_file)
    c.JupyterHub.spawner_class = "kfjupyter"
    c.KfJupyterSpawner.profiles_file = profiles_file
    for name, value in traits.items():
        setattr(c.KfJupyterSpawner, name, value)
    if traits.get("user_namespaces"):
        defaults = UserNamespaces()
        user_namespace_settings(
            traits.get("user_namespace_template", defaults.template),
            dict(traits.get("user_namespace_labels", {})),
            traits.get("user_namespace_pod_security", defaults.pod_security),
            dict(traits.get("user_namespace_quota", {})),
        )
    return config
