"""Pure builders of the Kubernetes objects of a training job: code ConfigMap, TrainJob, PyTorchJob.

Every builder takes one typed :class:`K8sJobOptions` (the validated spec plus cluster choices),
fills the typed models of :mod:`kfjupyter.training.k8s_models` and returns their wire dict,
ready for the API server; nothing here does I/O, so the output is
golden-tested per Trainer version. The code travels in a ConfigMap mounted as files (a function as
its cloudpickle payload in base64 next to the launcher :mod:`kfjupyter.training.k8s_entry`, a
script as its own file), never through a shell. The local modules and files the job needs
(:mod:`kfjupyter.training.shipping`) travel in the same ConfigMap (text as ``data``, other files as
``binaryData``), each shown at
its relative path next to the code; the launcher then copies them into a writable working folder,
which becomes the current directory and the head of ``sys.path``, and runs the function or script. The trainer container runs ``torchrun`` with
``--nnodes``/``--nproc-per-node`` from the spec.

Per-job pod customisation (how the ConfigMap volume reaches the ``node`` container) changed
between Trainer versions: v2.0 ``podSpecOverrides``, v2.1 ``podTemplateOverrides``, v2.2+
``runtimePatches``; :func:`trainjob` writes the one of ``options.trainer_version``.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kfjupyter.errors import InvalidInput
from kfjupyter.training.k8s_models import (
    ConfigMapSource,
    Container,
    ContainerPatch,
    EnvVar,
    JobSetSpecPatch,
    JobSetTemplatePatch,
    JobSpecPatch,
    JobTemplatePatch,
    KeyToPath,
    ObjectMeta,
    PodPatch,
    PodSpec,
    PodSpecOverride,
    PodTemplate,
    PodTemplateOverride,
    PodTemplatePatch,
    PyTorchJobObject,
    PyTorchJobSpec,
    ReplicaSpec,
    ReplicatedJobPatch,
    Resources,
    RunPolicy,
    RuntimePatch,
    RuntimeRef,
    RuntimeSpecPatch,
    TargetJob,
    Trainer,
    TrainJobObject,
    TrainJobSpec,
    Volume,
    VolumeMount,
)
from kfjupyter.training.spec import ScriptEntrypoint, TrainingSpec

TrainerVersion = Literal["v2.0", "v2.1", "v2.2", "v2.3"]
TRAINER_VERSIONS: tuple[TrainerVersion, ...] = ("v2.0", "v2.1", "v2.2", "v2.3")
TRAINER_GROUP = "trainer.kubeflow.org"
TRAINER_API = f"{TRAINER_GROUP}/v1alpha1"
PYTORCH_API = "kubeflow.org/v1"
CODE_DIR = "/opt/kfjupyter/code"
CODE_VOLUME = "kfjupyter-code"
LAUNCHER = "launch.py"
PAYLOAD_KEY = "payload.b64"
FILES_KEY = "files.json"
TRAINER_CONTAINER = "node"
PYTORCH_CONTAINER = "pytorch"
PATCH_MANAGER = "kfjupyter.io/train"
JOB_LABEL = "kfjupyter.io/training-job"
GPU_RESOURCE = "nvidia.com/gpu"
MAX_CONFIGMAP_BYTES = 1_000_000  # the API server refuses objects over ~1 MiB
_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class K8sJobOptions(_Model):
    """Everything a builder needs: the validated spec and the cluster-side choices."""

    spec: TrainingSpec = Field(description="The validated training spec.")
    namespace: str = Field(min_length=1, description="Namespace of the job's objects.")
    procs_per_node: int = Field(ge=1, description="Worker processes per node (resolved).")
    run_id: str = Field(min_length=1, description="Run id in the run store (a label on every object).")
    trainer_version: TrainerVersion = Field("v2.3", description="Installed Kubeflow Trainer version.")
    runtime: str = Field("torch-distributed", description="Training runtime of a TrainJob.")
    script_text: str | None = Field(None, description="Contents of the script of a script job.")
    payload: bytes | None = Field(None, description="Cloudpickle payload of a function job.")
    files: dict[str, bytes] = Field(
        default_factory=dict,
        description="Local modules and files that travel with the job: relative path -> content.",
    )


def code_configmap_name(job: str) -> str:
    """Name of the ConfigMap holding a job's code."""
    return f"{job[:52]}-code"


def _script_key(path: str) -> str:
    name = Path(path).name
    return name if _KEY.match(name) and name not in (LAUNCHER, PAYLOAD_KEY) else "script.py"


def _launcher() -> str:
    return (Path(__file__).with_name("k8s_entry.py")).read_text(encoding="utf-8")


def _file_keys(options: K8sJobOptions) -> dict[str, str]:
    """ConfigMap key -> relative path of each shipped file (``InvalidInput`` for an unsafe path)."""
    taken = {LAUNCHER, PAYLOAD_KEY, FILES_KEY}
    entry = options.spec.entrypoint
    if isinstance(entry, ScriptEntrypoint):
        taken.add(_script_key(entry.path))
    keys = {}
    for i, path in enumerate(sorted(options.files)):
        parts = path.split("/")
        if path.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in path:
            raise InvalidInput(f"Job {options.spec.name!r}: cannot ship {path!r}: not a plain relative path.")
        if path in taken:
            raise InvalidInput(
                f"Job {options.spec.name!r}: the file {path!r} next to the code has the name kfjupyter gives "
                "the job's own code; rename it."
            )
        keys[f"file-{i:04d}"] = path
    return keys


def code_files(options: K8sJobOptions) -> dict[str, str]:
    """The ConfigMap data: the launcher and payload of a function, or the script of a script job.

    With shipped files the launcher always comes along (it copies them into a writable working
    folder first), and ``files.json`` lists them.
    """
    entry = options.spec.entrypoint
    data: dict[str, str]
    if isinstance(entry, ScriptEntrypoint):
        if options.script_text is None:
            raise InvalidInput(f"Script job {options.spec.name!r} needs the script's text.")
        data = {_script_key(entry.path): options.script_text}
        if options.files:
            data[LAUNCHER] = _launcher()
    else:
        if options.payload is None:
            raise InvalidInput(f"Function job {options.spec.name!r} needs its payload.")
        data = {LAUNCHER: _launcher(), PAYLOAD_KEY: base64.b64encode(options.payload).decode("ascii")}
    if options.files:
        data[FILES_KEY] = json.dumps(sorted(options.files))
    return data


def shipped_data(options: K8sJobOptions) -> tuple[dict[str, str], dict[str, str]]:
    """The shipped files as ConfigMap ``data`` (UTF-8 text, readable with kubectl) and ``binaryData``."""
    text: dict[str, str] = {}
    binary: dict[str, str] = {}
    for key, path in _file_keys(options).items():
        content = options.files[path]
        try:
            text[key] = content.decode("utf-8")
        except UnicodeDecodeError:
            binary[key] = base64.b64encode(content).decode("ascii")
    return text, binary


def configmap(options: K8sJobOptions) -> dict[str, Any]:
    """The ConfigMap mounted at :data:`CODE_DIR` in every node; ``InvalidInput`` if too large."""
    text, binary = shipped_data(options)
    data = {**code_files(options), **text}
    size = sum(len(k) + len(v) for k, v in [*data.items(), *binary.items()])
    if size > MAX_CONFIGMAP_BYTES:
        biggest = sorted(options.files.items(), key=lambda item: (-len(item[1]), item[0]))[:3]
        named = ", ".join(f"{path} ({len(content)} bytes)" for path, content in biggest)
        files = f" The largest files shipped with it: {named}; put large data on a volume." if named else ""
        raise InvalidInput(
            f"The code of job {options.spec.name!r} is {size} bytes; a ConfigMap holds at most "
            f"{MAX_CONFIGMAP_BYTES}. Pass large data through storage, not through the function's arguments."
            + files
        )
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": code_configmap_name(options.spec.name),
            "namespace": options.namespace,
            "labels": labels(options),
        },
        "data": data,
    }
    if binary:
        body["binaryData"] = binary
    return body


def labels(options: K8sJobOptions) -> dict[str, str]:
    """Labels on every object of the job (the run id links it back to the run store)."""
    return {JOB_LABEL: options.run_id}


def literal(text: str) -> str:
    """Escape Kubernetes ``$(VAR)`` expansion, so a command argument or env value stays as written."""
    return text.replace("$(", "$$(")


def command(options: K8sJobOptions) -> list[str]:
    """The trainer container's command: ``torchrun`` with the layout, then the code file."""
    spec = options.spec
    entry = spec.entrypoint
    base = ["torchrun", f"--nnodes={spec.num_nodes}", f"--nproc-per-node={options.procs_per_node}"]
    if isinstance(entry, ScriptEntrypoint):
        script = _script_key(entry.path)
        if options.files:
            return [*base, f"{CODE_DIR}/{LAUNCHER}", "--script", script, *map(literal, entry.args)]
        return [*base, f"{CODE_DIR}/{script}", *map(literal, entry.args)]
    return [*base, f"{CODE_DIR}/{LAUNCHER}"]


def env(options: K8sJobOptions) -> list[EnvVar]:
    """Container environment: the spec's variables (sorted, literal) plus unbuffered Python output."""
    values = {"PYTHONUNBUFFERED": "1", **options.spec.env}
    return [EnvVar(name=k, value=literal(values[k])) for k in sorted(values)]


def resources(spec: TrainingSpec) -> Resources | None:
    """Per-node resources: CPU and memory as requests and limits, GPUs as limits."""
    requests = {k: v for k, v in (("cpu", spec.cpu), ("memory", spec.memory)) if v}
    limits = dict(requests)
    if spec.gpus_per_node:
        limits[GPU_RESOURCE] = str(spec.gpus_per_node)
    if not limits:
        return None
    return Resources(limits=limits, requests=requests or None)


def _volume(options: K8sJobOptions) -> Volume:
    """The code volume; with shipped files, each at its relative path next to the code."""
    items = None
    if options.files:
        own = [KeyToPath(key=key, path=key) for key in sorted(code_files(options))]
        items = own + [KeyToPath(key=key, path=path) for key, path in _file_keys(options).items()]
    source = ConfigMapSource(name=code_configmap_name(options.spec.name), items=items)
    return Volume(name=CODE_VOLUME, config_map=source)


def _mount() -> VolumeMount:
    return VolumeMount(name=CODE_VOLUME, mount_path=CODE_DIR, read_only=True)


def _pod_customisation(options: K8sJobOptions) -> dict[str, Any]:
    """The version's field that adds the code volume to the ``node`` container."""
    pod = PodPatch(
        volumes=[_volume(options)],
        containers=[ContainerPatch(name=TRAINER_CONTAINER, volume_mounts=[_mount()])],
    )
    target = [TargetJob(name=TRAINER_CONTAINER)]
    if options.trainer_version == "v2.0":
        return {"pod_spec_overrides": [PodSpecOverride(target_jobs=target, **dict(pod))]}
    if options.trainer_version == "v2.1":
        return {"pod_template_overrides": [PodTemplateOverride(target_jobs=target, spec=pod)]}
    job = ReplicatedJobPatch(
        name=TRAINER_CONTAINER,
        template=JobTemplatePatch(spec=JobSpecPatch(template=PodTemplatePatch(spec=pod))),
    )
    template = JobSetTemplatePatch(spec=JobSetSpecPatch(replicated_jobs=[job]))
    patch = RuntimePatch(manager=PATCH_MANAGER, training_runtime_spec=RuntimeSpecPatch(template=template))
    return {"runtime_patches": [patch]}


def _image(spec: TrainingSpec) -> str:
    if not spec.image:
        raise InvalidInput(
            f"Job {spec.name!r} needs an image to run on Kubernetes: pass image='...' (an image with "
            "Python, torch and cloudpickle, e.g. pytorch/pytorch plus your packages)."
        )
    return spec.image


def _meta(options: K8sJobOptions) -> ObjectMeta:
    return ObjectMeta(name=options.spec.name, namespace=options.namespace, labels=labels(options))


def trainjob(options: K8sJobOptions) -> dict[str, Any]:
    """A Kubeflow Trainer v2 ``TrainJob`` for ``options.trainer_version``."""
    spec = options.spec
    trainer = Trainer(
        image=_image(spec),
        command=command(options),
        env=env(options),
        num_nodes=spec.num_nodes,
        num_proc_per_node=options.procs_per_node,
        resources_per_node=resources(spec),
    )
    job_spec = TrainJobSpec(
        runtime_ref=RuntimeRef(name=options.runtime), trainer=trainer, **_pod_customisation(options)
    )
    return TrainJobObject(
        api_version=TRAINER_API, kind="TrainJob", metadata=_meta(options), spec=job_spec
    ).dump()


def _replica(options: K8sJobOptions, replicas: int) -> ReplicaSpec:
    container = Container(
        name=PYTORCH_CONTAINER,
        image=_image(options.spec),
        command=command(options),
        env=env(options),
        volume_mounts=[_mount()],
        resources=resources(options.spec),
    )
    pod = PodTemplate(
        metadata=ObjectMeta(labels=labels(options)),
        spec=PodSpec(containers=[container], volumes=[_volume(options)]),
    )
    return ReplicaSpec(replicas=replicas, restart_policy="Never", template=pod)


def pytorchjob(options: K8sJobOptions) -> dict[str, Any]:
    """A Training Operator v1 ``PyTorchJob``: one Master and ``num_nodes - 1`` Workers."""
    spec = options.spec
    replicas = {"Master": _replica(options, 1)}
    if spec.num_nodes > 1:
        replicas["Worker"] = _replica(options, spec.num_nodes - 1)
    job_spec = PyTorchJobSpec(
        nproc_per_node=str(options.procs_per_node),
        run_policy=RunPolicy(clean_pod_policy="None"),
        pytorch_replica_specs=replicas,
    )
    return PyTorchJobObject(
        api_version=PYTORCH_API, kind="PyTorchJob", metadata=_meta(options), spec=job_spec
    ).dump()
