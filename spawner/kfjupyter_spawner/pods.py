"""Pure builders: a spawn plan in, the Kubernetes objects of one server out.

No I/O and no spawner state: the same plan and context always give the same objects, which is
what ``kfjupyter-spawner render`` prints and what the spawner creates. Pods are restricted by
default (non-root, RuntimeDefault seccomp, no capabilities, no privilege escalation, no
service-account token unless the profile grants cluster access); nothing a user sends can add a
host path, a privileged container or an image outside the profile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kubernetes.client import (
    V1Capabilities,
    V1Container,
    V1ContainerPort,
    V1EmptyDirVolumeSource,
    V1EnvVar,
    V1EnvVarSource,
    V1HTTPGetAction,
    V1ObjectFieldSelector,
    V1ObjectMeta,
    V1PersistentVolumeClaim,
    V1PersistentVolumeClaimSpec,
    V1PersistentVolumeClaimVolumeSource,
    V1Pod,
    V1PodSecurityContext,
    V1PodSpec,
    V1Probe,
    V1ResourceRequirements,
    V1SeccompProfile,
    V1SecurityContext,
    V1Toleration,
    V1Volume,
    V1VolumeMount,
    V1VolumeResourceRequirements,
)

from kfjupyter_spawner.names import LABEL_PREFIX, pod_name, pvc_name
from kfjupyter_spawner.options import SpawnPlan
from kfjupyter_spawner.ownership import (
    SERVER_LABEL,
    VOLUME_LABEL,
    owner_annotations,
    owner_labels,
    server_label,
)
from kfjupyter_spawner.profiles import Request, SharedVolume, ShmVolume, Toleration, UserVolume

__all__ = ["LABEL_PREFIX", "PodContext", "build_pod", "build_pvcs", "idle_args", "labels"]
POD_IP_ENV = V1EnvVar(
    name="KFJUPYTER_POD_IP",
    value_from=V1EnvVarSource(field_ref=V1ObjectFieldSelector(field_path="status.podIP")),
)
COMPONENT = "singleuser-server"


@dataclass(frozen=True)
class PodContext:
    """What the hub decides about a server, beside the plan: who, where, how it starts."""

    user: str
    namespace: str
    command: Sequence[str]
    port: int = 8888
    server: str = ""
    env: Mapping[str, str] = field(default_factory=dict)
    uid: int = 1000
    fs_group: int = 100
    service_account: str | None = None
    # In the user's own namespace the pod always names its account: the spawner creates it before
    # the pod, while the namespace's "default" one may not exist yet. A token still needs cluster_access.
    own_namespace: bool = False
    startup_timeout_s: int = 300  # how long the server may take to answer before the kubelet restarts it
    extra_labels: Mapping[str, str] = field(default_factory=dict)


def labels(plan: SpawnPlan, ctx: PodContext) -> dict[str, str]:
    """Labels that make a server's objects easy to find (whose it is: ours win over extra ones)."""
    out = {
        **ctx.extra_labels,
        "app.kubernetes.io/component": COMPONENT,
        **owner_labels(ctx.user),
        SERVER_LABEL: server_label(ctx.server),
        f"{LABEL_PREFIX}/profile": plan.profile,
    }
    if plan.gpu is not None:
        out[f"{LABEL_PREFIX}/gpu-type"] = plan.gpu.type
    return out


def _resources(plan: SpawnPlan) -> V1ResourceRequirements:
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    for name, req in (("cpu", plan.cpu), ("memory", plan.memory)):
        assert isinstance(req, Request)
        if req.request:
            requests[name] = req.request
        if req.limit:
            limits[name] = req.limit
    if plan.gpu is not None:
        limits[plan.gpu.resource] = str(plan.gpu.count)
        requests[plan.gpu.resource] = str(plan.gpu.count)
    return V1ResourceRequirements(requests=requests or None, limits=limits or None)


def _tolerations(items: Sequence[Toleration]) -> list[V1Toleration]:
    return [V1Toleration(key=t.key, operator=t.operator, value=t.value, effect=t.effect) for t in items]


def _volumes(plan: SpawnPlan, ctx: PodContext) -> tuple[list[V1Volume], list[V1VolumeMount]]:
    volumes: list[V1Volume] = []
    mounts: list[V1VolumeMount] = []
    for volume in plan.volumes:
        if isinstance(volume, UserVolume):
            source = V1PersistentVolumeClaimVolumeSource(claim_name=pvc_name(ctx.user, volume.name))
            volumes.append(V1Volume(name=volume.name, persistent_volume_claim=source))
            mounts.append(V1VolumeMount(name=volume.name, mount_path=volume.mount_path))
        elif isinstance(volume, SharedVolume):
            source = V1PersistentVolumeClaimVolumeSource(claim_name=volume.claim, read_only=volume.read_only)
            volumes.append(V1Volume(name=volume.name, persistent_volume_claim=source))
            mounts.append(
                V1VolumeMount(name=volume.name, mount_path=volume.mount_path, read_only=volume.read_only)
            )
        elif isinstance(volume, ShmVolume):
            source_shm = V1EmptyDirVolumeSource(medium="Memory", size_limit=volume.size)
            volumes.append(V1Volume(name="dshm", empty_dir=source_shm))
            mounts.append(V1VolumeMount(name="dshm", mount_path="/dev/shm"))  # noqa: S108 (a mount point)
    return volumes, mounts


def build_pod(plan: SpawnPlan, ctx: PodContext) -> V1Pod:
    """The notebook server pod of one spawn."""
    env = {
        **ctx.env,
        **plan.env,
        "KFJUPYTER_IMAGE": plan.image,
        "KFJUPYTER_NAMESPACE": ctx.namespace,
        "KFJUPYTER_PROFILE": plan.profile,
    }
    if plan.gpu is not None:
        env["KFJUPYTER_GPU_TYPE"] = plan.gpu.type
    volumes, mounts = _volumes(plan, ctx)
    container = V1Container(
        name="notebook",
        image=plan.image,
        image_pull_policy=plan.image_pull_policy,
        # Arguments, not the command: the image's entrypoint (e.g. tini, reaping the kernels'
        # orphans as PID 1) stays in front of the server; an image without one runs them as is.
        args=list(ctx.command),
        # The pod IP comes first so later values can refer to it as $(KFJUPYTER_POD_IP).
        env=[POD_IP_ENV, *(V1EnvVar(name=k, value=v) for k, v in sorted(env.items()))],
        ports=[V1ContainerPort(name="notebook", container_port=ctx.port)],
        resources=_resources(plan),
        volume_mounts=mounts or None,
        security_context=V1SecurityContext(
            allow_privilege_escalation=False,
            capabilities=V1Capabilities(drop=["ALL"]),
            run_as_non_root=True,
            run_as_user=ctx.uid,
            seccomp_profile=V1SeccompProfile(type="RuntimeDefault"),
        ),
        # Probed once a second while it boots, never after: the pod turns Ready as soon as the
        # server answers (what start() waits for), with no steady probe load per running server.
        # The hub's proxy, not a Service, routes to the pod, so later readiness changes need no probe.
        startup_probe=V1Probe(
            http_get=V1HTTPGetAction(
                path=ctx.env.get("JUPYTERHUB_SERVICE_PREFIX", "/") + "api", port=ctx.port
            ),
            period_seconds=1,
            failure_threshold=max(1, ctx.startup_timeout_s),
        ),
    )
    node_selector = {**plan.node_selector, **(plan.gpu.node_selector if plan.gpu else {})}
    tolerations = [*plan.tolerations, *(plan.gpu.tolerations if plan.gpu else ())]
    annotations = {
        **owner_annotations(ctx.user, ctx.server),
        f"{LABEL_PREFIX}/choices": ",".join(f"{k}={v}" for k, v in sorted(plan.choices.items())),
    }
    if plan.idle_timeout_s is not None:
        annotations[f"{LABEL_PREFIX}/idle-timeout-s"] = str(plan.idle_timeout_s)
    return V1Pod(
        api_version="v1",
        kind="Pod",
        metadata=V1ObjectMeta(
            name=pod_name(ctx.user, ctx.server),
            namespace=ctx.namespace,
            labels=labels(plan, ctx),
            annotations=annotations,
        ),
        spec=V1PodSpec(
            containers=[container],
            volumes=volumes or None,
            node_selector=node_selector or None,
            tolerations=_tolerations(tolerations) or None,
            restart_policy="OnFailure",
            automount_service_account_token=plan.cluster_access,
            service_account_name=ctx.service_account if plan.cluster_access or ctx.own_namespace else None,
            security_context=V1PodSecurityContext(
                run_as_non_root=True,
                run_as_user=ctx.uid,
                fs_group=ctx.fs_group,
                seccomp_profile=V1SeccompProfile(type="RuntimeDefault"),
            ),
            enable_service_links=False,
        ),
    )


def idle_args(plan: SpawnPlan) -> list[str]:
    """Server arguments that apply the profile's idle timeout: the server stops itself when idle.

    Idle kernels are culled after the timeout and the server shuts down once nothing has happened
    for that long; the hub then sees the pod end and marks the server stopped.
    """
    if plan.idle_timeout_s is None:
        return []
    seconds = plan.idle_timeout_s
    return [
        f"--ServerApp.shutdown_no_activity_timeout={seconds}",
        f"--MappingKernelManager.cull_idle_timeout={seconds}",
        "--MappingKernelManager.cull_interval=60",
    ]


def build_pvcs(plan: SpawnPlan, ctx: PodContext) -> list[V1PersistentVolumeClaim]:
    """The per-user PVCs of a spawn (created if missing, kept when the server stops)."""
    claims = []
    for volume in plan.volumes:
        if not isinstance(volume, UserVolume):
            continue
        claims.append(
            V1PersistentVolumeClaim(
                api_version="v1",
                kind="PersistentVolumeClaim",
                metadata=V1ObjectMeta(
                    name=pvc_name(ctx.user, volume.name),
                    namespace=ctx.namespace,
                    labels={**owner_labels(ctx.user), VOLUME_LABEL: volume.name},
                    annotations=owner_annotations(ctx.user),
                ),
                spec=V1PersistentVolumeClaimSpec(
                    access_modes=[volume.access_mode],
                    storage_class_name=volume.storage_class,
                    resources=V1VolumeResourceRequirements(requests={"storage": volume.size}),
                ),
            )
        )
    return claims
