"""Apply a step's :class:`~kfjupyter.compiler.ir.StepSettings` to its KFP task.

Resources, accelerators, retries and caching use ``PipelineTask`` methods; timeouts, node
selectors, tolerations, PVC mounts, secrets, labels and annotations use ``kfp.kubernetes``.
"""

from __future__ import annotations

from typing import Any

from kfp import kubernetes

from kfjupyter.compiler.ir import StepSettings
from kfjupyter.errors import InvalidInput

DEFAULT_GPU_RESOURCE = "nvidia.com/gpu"


def create_volumes(settings: list[StepSettings]) -> dict[str, Any]:
    """One ``CreatePVC`` task per new claim the steps mount (Kale's ``new_pvc``), by claim name."""
    created: dict[str, Any] = {}
    for volume in (v for s in settings for v in s.volumes if v.get("new") == "true"):
        name = volume["pvc"]
        if name in created:
            continue
        options: dict[str, Any] = {"pvc_name": name}
        options["access_modes"] = [volume.get("access_mode") or "ReadWriteOnce"]
        options["size"] = volume.get("size") or "1Gi"
        if volume.get("storage_class"):
            options["storage_class_name"] = volume["storage_class"]
        created[name] = kubernetes.CreatePVC(**options)
        created[name].set_display_name(f"create-volume-{name}")
    return created


def apply_settings(
    task: Any, settings: StepSettings, *, step: str, created: dict[str, Any] | None = None
) -> None:
    """Apply ``settings`` to ``task`` (a ``kfp.dsl.PipelineTask``) in a fixed order.

    ``created`` maps the names of claims the pipeline creates to their ``CreatePVC`` tasks.
    """
    created = created or {}
    res = settings.resources
    if res.cpu:
        task.set_cpu_request(res.cpu)
        task.set_cpu_limit(res.cpu)
    if res.memory:
        task.set_memory_request(res.memory)
        task.set_memory_limit(res.memory)
    if res.gpu:
        task.set_accelerator_type(res.gpu_type or DEFAULT_GPU_RESOURCE)
        task.set_accelerator_limit(res.gpu)
    if settings.retries:
        task.set_retry(num_retries=settings.retries)
    task.set_caching_options(enable_caching=settings.cache)
    if settings.timeout_s is not None:
        kubernetes.set_timeout(task, seconds=max(1, round(settings.timeout_s)))
    for key, value in sorted(settings.node_selector.items()):
        kubernetes.add_node_selector(task, label_key=key, label_value=value)
    for toleration in settings.tolerations:
        kubernetes.add_toleration(
            task,
            key=toleration.get("key"),
            operator=toleration.get("operator"),
            value=toleration.get("value"),
            effect=toleration.get("effect"),
        )
    for volume in settings.volumes:
        pvc = volume.get("pvc") or volume.get("name")
        path = volume.get("mount_path")
        if not pvc or not path:
            raise InvalidInput(f"step {step!r}: a volume needs 'pvc' and 'mount_path', got {volume}")
        if pvc in created:
            kubernetes.mount_pvc(task, pvc_name=created[pvc].outputs["name"], mount_path=path)
            task.after(created[pvc])
        else:
            kubernetes.mount_pvc(task, pvc_name=pvc, mount_path=path)
    for secret in settings.secrets:
        name, secret_key, env = secret.get("secret"), secret.get("key"), secret.get("env")
        if not name or not secret_key or not env:
            raise InvalidInput(f"step {step!r}: a secret needs 'secret', 'key' and 'env', got {secret}")
        kubernetes.use_secret_as_env(task, secret_name=name, secret_key_to_env={secret_key: env})
    for key, value in sorted(settings.labels.items()):
        kubernetes.add_pod_label(task, label_key=key, label_value=value)
    for key, value in sorted(settings.annotations.items()):
        kubernetes.add_pod_annotation(task, annotation_key=key, annotation_value=value)
