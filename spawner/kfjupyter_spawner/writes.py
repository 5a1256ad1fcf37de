"""The API writes of one spawn: a user's namespace objects once, PVCs once, the pod every time.

The spawner calls :func:`create_server` off the event loop with objects from the pure builders
(``pods``, ``namespaces``) as JSON. What outlives a server (the user's namespace with its access
objects, PVCs) is created only when neither this hub process nor the server's saved state knows it
exists, so a restart costs one write: the pod. A 409 on those means "already there", and the
existing namespace or PVC is used only when kfjupyter made it for that same user (``ownership``);
an existing pod is replaced only when it is this same server's, and deleted only if it is still
that very pod. Someone else's object is never used or deleted: the spawn fails with a message.
If the namespace was deleted behind the hub's back, the pod create says so and everything is made
again, once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kfjupyter.errors import Forbidden, Unavailable
from kfjupyter.k8s.client import Kube, discard, ignore_conflict, ignore_not_found, is_status, list_json
from kfjupyter_spawner.namespaces import RESERVED, UserNamespaces, build_namespace_objects
from kfjupyter_spawner.options import SpawnPlan
from kfjupyter_spawner.ownership import VOLUME_LABEL, describe_owner, owned_by
from kfjupyter_spawner.pods import PodContext, build_pod, build_pvcs

Obj = dict[str, Any]
TOKEN_WAIT_S = 20.0
GONE_WAIT_S = 30.0

_ENSURED: set[tuple[str, str]] = set()  # (scope, namespace) ensured by this hub process
_LOCK = threading.Lock()
# Blocking API calls of spawns run here, not in asyncio's default pool (cpu count + 4 threads):
# with 64 spawns at once, a pool that small queued the creates. Sized like Kube's connection pool.
_POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="kfjupyter-writes")
T = TypeVar("T")


async def off_loop(call: Callable[..., T], *args: Any) -> T:
    """Run a blocking API call of a spawn in the writes pool, awaiting its result."""
    return await asyncio.get_running_loop().run_in_executor(_POOL, call, *args)


@dataclass(frozen=True)
class ServerObjects:
    """What a spawn needs to exist, as JSON: namespace objects (user namespaces only), PVCs, pod."""

    namespace: str
    user: str
    pod: Obj
    server: str = ""
    pvcs: list[Obj] = field(default_factory=list)
    namespace_objects: list[Obj] = field(default_factory=list)

    def in_order(self) -> list[Obj]:
        """Every object, in the order a first spawn creates them."""
        return [*self.namespace_objects, *self.pvcs, self.pod]


@dataclass
class Known:
    """What a server's saved state says exists: PVCs (``namespace/name``) and its own namespace."""

    pvcs: set[str] = field(default_factory=set)
    namespace: str = ""


def server_objects(
    plan: SpawnPlan, ctx: PodContext, settings: UserNamespaces | None, hub_namespace: str
) -> ServerObjects:
    """The objects of one spawn as JSON (pure; also what ``kfjupyter-spawner render`` prints)."""
    from kubernetes.client import ApiClient

    if settings is not None and (ctx.namespace in RESERVED or ctx.namespace == hub_namespace):
        raise Forbidden(
            f"Your namespace would be {ctx.namespace!r}, which is not a user namespace; "
            "ask an admin to change user_namespace_template."
        )
    client = ApiClient()
    extra = build_namespace_objects(settings, ctx.user) if settings is not None else []
    return ServerObjects(
        namespace=ctx.namespace,
        user=ctx.user,
        server=ctx.server,
        pod=client.sanitize_for_serialization(build_pod(plan, ctx)),
        pvcs=[client.sanitize_for_serialization(p) for p in build_pvcs(plan, ctx)],
        namespace_objects=[client.sanitize_for_serialization(o) for o in extra],
    )


def forget_ensured() -> None:
    """Forget which namespaces this process ensured (tests: simulate a hub restart)."""
    with _LOCK:
        _ENSURED.clear()


def _ensured(scope: str, namespace: str) -> bool:
    with _LOCK:
        return (scope, namespace) in _ENSURED


def _create_one(kube: Kube, body: Obj) -> None:
    ns = body["metadata"].get("namespace")
    rbac = kube.rbac
    calls: dict[str, Callable[..., Any]] = {
        "Namespace": kube.core.create_namespace,
        "ServiceAccount": kube.core.create_namespaced_service_account,
        "Role": rbac.create_namespaced_role,
        "RoleBinding": rbac.create_namespaced_role_binding,
        "ResourceQuota": kube.core.create_namespaced_resource_quota,
        "PersistentVolumeClaim": kube.core.create_namespaced_persistent_volume_claim,
        "Pod": kube.core.create_namespaced_pod,
    }
    call = calls[body["kind"]]
    args = (body,) if ns is None else (ns, body)
    discard(call(*args, _preload_content=False))


def ensure_namespace(kube: Kube, objects: list[Obj], user: str) -> None:
    """Create the user's namespace and its access objects; existing ones are fine (409)."""
    for body in objects:
        try:
            _create_one(kube, body)
        except Exception as error:
            name = body["metadata"].get("namespace") or body["metadata"]["name"]
            if is_status(error, 403) and "being terminated" in str(getattr(error, "body", "")):
                raise Unavailable(
                    f"Your namespace {name!r} is being deleted; try again in a minute.", detail=str(error)
                ) from None
            if not is_status(error, 409):
                raise
            if body["kind"] == "Namespace":
                existing = list_json(kube.core.read_namespace, name=name)
                if not owned_by(existing, user):
                    raise Forbidden(
                        f"Namespace {name!r} already exists and was not made by kfjupyter for you; "
                        "ask an admin to check user_namespace_template.",
                        detail=f"namespace {name}: {describe_owner(existing)}",
                    ) from None


def _ensure_pvcs(kube: Kube, pvcs: list[Obj], known: Known, user: str) -> None:
    for body in pvcs:
        meta = body["metadata"]
        key = f"{meta['namespace']}/{meta['name']}"
        if key in known.pvcs and _claim_exists(kube, meta):
            continue  # made by an earlier spawn: a read, and the pod is the only write of a restart
        with ignore_conflict() as exists:
            _create_one(kube, body)
        if exists:
            existing = list_json(
                kube.core.read_namespaced_persistent_volume_claim,
                name=meta["name"],
                namespace=meta["namespace"],
            )
            volume = meta["labels"][VOLUME_LABEL]
            if not owned_by(existing, user, volume=volume):
                raise Forbidden(
                    f"The volume claim {meta['name']!r} for your volume {volume!r} already exists and is "
                    "not yours; it was left alone. Ask an admin to check it.",
                    detail=f"PVC {key}: {describe_owner(existing)}",
                )
        known.pvcs.add(key)


def _claim_exists(kube: Kube, meta: dict[str, Any]) -> bool:
    """Whether a claim that the saved state remembers is still there.

    It may have been deleted behind the hub's back, or the hub may face a new cluster; a pod on a
    missing claim would wait unschedulable until the spawn times out.
    """
    with ignore_not_found() as gone:
        list_json(
            kube.core.read_namespaced_persistent_volume_claim, name=meta["name"], namespace=meta["namespace"]
        )
    return not gone


def _namespace_missing(error: BaseException) -> bool:
    # NamespaceLifecycle answers 404 for a missing namespace; ServiceAccount admission 403 for a
    # missing account (someone deleted the objects behind the hub's back).
    text = str(getattr(error, "body", ""))
    return is_status(error, 404) or (is_status(error, 403) and "serviceaccount" in text.lower())


def _token_not_ready(error: BaseException) -> bool:
    # ServiceAccount admission refuses a pod that mounts a token until the token controller made one.
    return is_status(error, 500) and "no api token found" in str(getattr(error, "body", "")).lower()


def _create_pod(kube: Kube, objects: ServerObjects, pod_gone: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TOKEN_WAIT_S
    replaced = False
    while True:
        try:
            _create_one(kube, objects.pod)
            return
        except Exception as error:
            if _token_not_ready(error) and time.monotonic() < deadline:
                time.sleep(0.25)
                continue
            if replaced or not is_status(error, 409):
                raise
        replaced = True
        # A pod of an earlier spawn of this server may still be there (e.g. the hub lost track of
        # it): replace it. Anyone else's pod of that name stays.
        name = objects.pod["metadata"]["name"]
        existing: Obj | None = None
        with ignore_not_found():
            existing = list_json(kube.core.read_namespaced_pod, name=name, namespace=objects.namespace)
        if existing is not None:
            if not owned_by(existing, objects.user, server=objects.server):
                raise Forbidden(
                    f"A pod named {name!r} already exists in namespace {objects.namespace!r} and is not "
                    "this server's; it was left alone. Ask an admin to check it.",
                    detail=f"pod {objects.namespace}/{name}: {describe_owner(existing)}",
                )
            delete_pod(kube, existing, grace_period_s=0)
        gone_by = time.monotonic() + GONE_WAIT_S
        while not pod_gone() and time.monotonic() < gone_by:
            time.sleep(0.1)


def delete_pod(kube: Kube, pod: Obj, *, grace_period_s: int) -> None:
    """Delete exactly ``pod`` (JSON): not a newer pod that took its name meanwhile (uid precondition)."""
    from kubernetes.client import V1DeleteOptions, V1Preconditions

    meta = pod["metadata"]
    options = V1DeleteOptions(
        grace_period_seconds=grace_period_s, preconditions=V1Preconditions(uid=meta.get("uid"))
    )
    try:
        kube.core.delete_namespaced_pod(meta["name"], meta["namespace"], body=options)
    except Exception as error:
        if is_status(error, 409):  # another pod took the name: not ours to delete
            raise Unavailable(
                f"The pod {meta['name']!r} changed while it was being replaced; try again.", detail=str(error)
            ) from None
        if not is_status(error, 404):
            raise


def create_server(
    kube: Kube, objects: ServerObjects, known: Known, *, scope: str, pod_gone: Callable[[], bool]
) -> list[str]:
    """Make sure everything ``objects`` needs exists, then create the pod; returns what was done.

    ``scope`` names the cluster (the hub's kubeconfig) for this process's memory of ensured
    namespaces; ``known`` is updated in place so the spawner can save it.
    """
    done: list[str] = []
    ns = objects.namespace
    for attempt in range(2):
        if objects.namespace_objects and not (known.namespace == ns or _ensured(scope, ns)):
            ensure_namespace(kube, objects.namespace_objects, objects.user)
            done.append(f"Namespace {ns} ready")
            with _LOCK:
                _ENSURED.add((scope, ns))
        if objects.namespace_objects:
            known.namespace = ns
        _ensure_pvcs(kube, objects.pvcs, known, objects.user)
        try:
            _create_pod(kube, objects, pod_gone)
            return done
        except Exception as error:
            if attempt or not objects.namespace_objects or not _namespace_missing(error):
                raise
        # The namespace (or its account) is gone: make everything again, once.
        with _LOCK:
            _ENSURED.discard((scope, ns))
        known.namespace = ""
        known.pvcs = {k for k in known.pvcs if not k.startswith(f"{ns}/")}
    return done
