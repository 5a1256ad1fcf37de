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


def apply_settings(task: Any, settings: StepSettings, *, step: str) -> None:
    """Apply ``settings`` to ``task`` (a ``kfp.dsl.PipelineTask``) in a fixed order."""
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
