"""Typed models of the Kubernetes objects kfjupyter writes for training jobs (the fields we set).

Pydantic models with ``extra="forbid"``, camelCase on the wire: the part of Kubeflow Trainer's
``TrainJob`` (``trainer.kubeflow.org/v1alpha1``; per-job pod customisation as v2.0
``podSpecOverrides``, v2.1 ``podTemplateOverrides`` or v2.2+ ``runtimePatches``) and of the Training
Operator's ``PyTorchJob`` (``kubeflow.org/v1``) that the builders fill in. A typo in a field name
is an error here rather than a field the API server silently prunes. The v2.2+ output round-trips
unchanged through the models of the ``kubeflow-trainer-api`` 2.3.0 package.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class K8sModel(BaseModel):
    """Base: frozen, no unknown fields, camelCase aliases; :meth:`dump` gives the wire dict."""

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True)

    def dump(self) -> dict[str, Any]:
        """The object as the API server expects it (aliases, unset optional fields left out)."""
        return self.model_dump(by_alias=True, exclude_none=True)


class ObjectMeta(K8sModel):
    """Name, namespace and labels of an object (or just labels, in a pod template)."""

    name: str | None = Field(None, description="Object name.")
    namespace: str | None = Field(None, description="Namespace.")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels.")


class EnvVar(K8sModel):
    """A literal environment variable."""

    name: str = Field(description="Variable name.")
    value: str = Field(description="Value ($(VAR) already escaped).")


class VolumeMount(K8sModel):
    """Where a volume appears in a container."""

    name: str = Field(description="Volume name.")
    mount_path: str = Field(description="Path in the container.")
    read_only: bool = Field(True, description="Mounted read-only.")


class KeyToPath(K8sModel):
    """One ConfigMap key shown as a file at a path inside the volume."""

    key: str = Field(description="The ConfigMap key.")
    path: str = Field(description="Relative path of the file in the volume.")


class ConfigMapSource(K8sModel):
    """The ConfigMap a volume shows."""

    name: str = Field(description="ConfigMap name.")
    items: list[KeyToPath] | None = Field(
        None, description="Keys and their paths (None: every key, by name)."
    )


class Volume(K8sModel):
    """A ConfigMap volume."""

    name: str = Field(description="Volume name.")
    config_map: ConfigMapSource = Field(description="Its ConfigMap.")


class Resources(K8sModel):
    """Container resources (quantities as strings)."""

    limits: dict[str, str] | None = Field(None, description="Limits (GPUs go here).")
    requests: dict[str, str] | None = Field(None, description="Requests.")


class ContainerPatch(K8sModel):
    """Volume mounts added to a runtime's container."""

    name: str = Field(description="Container to patch.")
    volume_mounts: list[VolumeMount] = Field(description="Mounts to add.")


class PodPatch(K8sModel):
    """Volumes and container mounts added to a runtime's pods."""

    volumes: list[Volume] = Field(description="Volumes to add.")
    containers: list[ContainerPatch] = Field(description="Containers to patch.")


class TargetJob(K8sModel):
    """A replicated job of the runtime an override applies to."""

    name: str = Field(description="Replicated job name ('node').")


class PodSpecOverride(K8sModel):
    """v2.0 ``podSpecOverrides[]`` entry."""

    target_jobs: list[TargetJob] = Field(description="Replicated jobs it applies to.")
    volumes: list[Volume] = Field(description="Volumes to add.")
    containers: list[ContainerPatch] = Field(description="Containers to patch.")


class PodTemplateOverride(K8sModel):
    """v2.1 ``podTemplateOverrides[]`` entry."""

    target_jobs: list[TargetJob] = Field(description="Replicated jobs it applies to.")
    spec: PodPatch = Field(description="Pod spec patch.")


class PodTemplatePatch(K8sModel):
    """``template`` of a Job template patch."""

    spec: PodPatch = Field(description="Pod spec patch.")


class JobSpecPatch(K8sModel):
    """``spec`` of a Job template patch."""

    template: PodTemplatePatch = Field(description="Pod template patch.")


class JobTemplatePatch(K8sModel):
    """``template`` of a replicated job patch."""

    spec: JobSpecPatch = Field(description="Job spec patch.")


class ReplicatedJobPatch(K8sModel):
    """One replicated job of a v2.2+ runtime patch."""

    name: str = Field(description="Replicated job name ('node').")
    template: JobTemplatePatch = Field(description="Job template patch.")


class JobSetSpecPatch(K8sModel):
    """JobSet spec patch."""

    replicated_jobs: list[ReplicatedJobPatch] = Field(description="Per replicated job patches.")


class JobSetTemplatePatch(K8sModel):
    """JobSet template patch."""

    spec: JobSetSpecPatch = Field(description="JobSet spec patch.")


class RuntimeSpecPatch(K8sModel):
    """``trainingRuntimeSpec`` of a runtime patch."""

    template: JobSetTemplatePatch = Field(description="JobSet template patch.")


class RuntimePatch(K8sModel):
    """v2.2+ ``runtimePatches[]`` entry, keyed by manager."""

    manager: str = Field(description="Who owns this patch.")
    training_runtime_spec: RuntimeSpecPatch = Field(description="Patch of the runtime spec.")


class RuntimeRef(K8sModel):
    """The training runtime a TrainJob uses."""

    api_group: str = Field("trainer.kubeflow.org", description="API group of the runtime.")
    kind: Literal["ClusterTrainingRuntime", "TrainingRuntime"] = Field(
        "ClusterTrainingRuntime", description="Runtime kind."
    )
    name: str = Field(description="Runtime name.")


class Trainer(K8sModel):
    """``spec.trainer``: the ``node`` container of the trainer replicated job."""

    image: str = Field(description="Container image.")
    command: list[str] = Field(description="Command (calls torchrun).")
    env: list[EnvVar] = Field(description="Environment.")
    num_nodes: int = Field(ge=1, description="Number of nodes.")
    num_proc_per_node: int = Field(ge=1, description="Processes per node.")
    resources_per_node: Resources | None = Field(None, description="Per-node resources.")


class TrainJobSpec(K8sModel):
    """``spec`` of a TrainJob; exactly one pod customisation field is set, per Trainer version."""

    runtime_ref: RuntimeRef = Field(description="Training runtime.")
    trainer: Trainer = Field(description="Trainer settings.")
    pod_spec_overrides: list[PodSpecOverride] | None = Field(None, description="v2.0 pod customisation.")
    pod_template_overrides: list[PodTemplateOverride] | None = Field(
        None, description="v2.1 pod customisation."
    )
    runtime_patches: list[RuntimePatch] | None = Field(None, description="v2.2+ pod customisation.")


class TrainJobObject(K8sModel):
    """A Kubeflow Trainer v2 TrainJob."""

    api_version: Literal["trainer.kubeflow.org/v1alpha1"] = Field(description="API version.")
    kind: Literal["TrainJob"] = Field(description="Kind.")
    metadata: ObjectMeta = Field(description="Metadata.")
    spec: TrainJobSpec = Field(description="Spec.")


class Container(K8sModel):
    """The ``pytorch`` container of a PyTorchJob replica."""

    name: str = Field(description="Container name ('pytorch').")
    image: str = Field(description="Container image.")
    command: list[str] = Field(description="Command (calls torchrun).")
    env: list[EnvVar] = Field(description="Environment.")
    volume_mounts: list[VolumeMount] = Field(description="Mounts.")
    resources: Resources | None = Field(None, description="Resources.")


class PodSpec(K8sModel):
    """Pod spec of a PyTorchJob replica."""

    containers: list[Container] = Field(description="Containers.")
    volumes: list[Volume] = Field(description="Volumes.")


class PodTemplate(K8sModel):
    """Pod template of a PyTorchJob replica."""

    metadata: ObjectMeta = Field(description="Pod labels.")
    spec: PodSpec = Field(description="Pod spec.")


class ReplicaSpec(K8sModel):
    """One replica type (Master or Worker) of a PyTorchJob."""

    replicas: int = Field(ge=1, description="Number of pods.")
    restart_policy: Literal["Never", "OnFailure", "Always", "ExitCode"] = Field(description="Restart policy.")
    template: PodTemplate = Field(description="Pod template.")


class RunPolicy(K8sModel):
    """What happens to the pods when the job ends."""

    clean_pod_policy: Literal["None", "Running", "All"] = Field(
        description="Which pods to delete at the end."
    )


class PyTorchJobSpec(K8sModel):
    """``spec`` of a PyTorchJob."""

    nproc_per_node: str = Field(description="Processes per node.")
    run_policy: RunPolicy = Field(description="Run policy.")
    pytorch_replica_specs: dict[Literal["Master", "Worker"], ReplicaSpec] = Field(
        description="Replicas by type."
    )


class PyTorchJobObject(K8sModel):
    """A Training Operator v1 PyTorchJob."""

    api_version: Literal["kubeflow.org/v1"] = Field(description="API version.")
    kind: Literal["PyTorchJob"] = Field(description="Kind.")
    metadata: ObjectMeta = Field(description="Metadata.")
    spec: PyTorchJobSpec = Field(description="Spec.")
