"""Golden and unit tests of the TrainJob / PyTorchJob / ConfigMap builders (no cluster needed).

Golden files live in ``k8s_golden/<case>.yaml``; run with ``KFJUPYTER_UPDATE_GOLDEN=1`` to rewrite
them after an intended change (and review the diff).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import cloudpickle
import pytest
import yaml

from kfjupyter.errors import InvalidInput
from kfjupyter.training.k8s_builders import (
    TRAINER_VERSIONS,
    K8sJobOptions,
    TrainerVersion,
    code_files,
    configmap,
    pytorchjob,
    trainjob,
)
from kfjupyter.training.spec import FunctionEntrypoint, ScriptEntrypoint, TrainingSpec

GOLDEN = Path(__file__).with_name("k8s_golden")
PATCH_FIELDS = {"v2.0": "podSpecOverrides", "v2.1": "podTemplateOverrides", "v2.2": "runtimePatches"}


def _spec(**changes: Any) -> TrainingSpec:
    values: dict[str, Any] = {
        "name": "fit-mnist",
        "entrypoint": ScriptEntrypoint(path="/home/jovyan/train.py", args=["--lr", "0.1", "$(HOME)"]),
        "num_nodes": 2,
        "gpus_per_node": 1,
        "cpu": "4",
        "memory": "16Gi",
        "image": "pytorch/pytorch:2.13.0-cuda13.0-cudnn9-runtime",
        "env": {"WANDB_MODE": "offline", "A_FIRST": "$(not-expanded) `x` 'q'"},
        "backend": "kubernetes",
    }
    values.update(changes)
    return TrainingSpec(**values)


def _options(version: TrainerVersion = "v2.3", **changes: Any) -> K8sJobOptions:
    return K8sJobOptions(
        spec=_spec(**changes),
        namespace="team-a",
        procs_per_node=1,
        run_id="r-123",
        trainer_version=version,
        script_text="print('loss=1')\n",
    )


def _golden(case: str, value: dict[str, Any]) -> None:
    text = yaml.safe_dump(value, sort_keys=False, width=120)
    path = GOLDEN / f"{case}.yaml"
    if os.environ.get("KFJUPYTER_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"missing golden file {path}; run with KFJUPYTER_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{case} differs from {path}"


@pytest.mark.parametrize("version", TRAINER_VERSIONS)
def test_trainjob_golden_per_trainer_version(version: TrainerVersion) -> None:
    job = trainjob(_options(version))
    _golden(f"trainjob-{version}", job)
    assert trainjob(_options(version)) == job  # deterministic
    field = PATCH_FIELDS.get(version, "runtimePatches")
    others = set(PATCH_FIELDS.values()) - {field}
    assert field in job["spec"] and not others & set(job["spec"])


def test_trainjob_fields() -> None:
    job = trainjob(_options())
    trainer = job["spec"]["trainer"]
    assert trainer["command"] == [
        "torchrun", "--nnodes=2", "--nproc-per-node=1", "/opt/kfjupyter/code/train.py", "--lr", "0.1", "$$(HOME)",
    ]  # fmt: skip
    assert trainer["resourcesPerNode"] == {
        "limits": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"},
        "requests": {"cpu": "4", "memory": "16Gi"},
    }
    assert [e["name"] for e in trainer["env"]] == ["A_FIRST", "PYTHONUNBUFFERED", "WANDB_MODE"]
    assert job["spec"]["runtimeRef"]["name"] == "torch-distributed"
    assert job["metadata"]["labels"] == {"kfjupyter.io/training-job": "r-123"}


def test_pytorchjob_golden() -> None:
    job = pytorchjob(_options())
    _golden("pytorchjob", job)
    assert list(job["spec"]["pytorchReplicaSpecs"]) == ["Master", "Worker"]
    assert job["spec"]["pytorchReplicaSpecs"]["Worker"]["replicas"] == 1
    container = job["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"][0]
    assert container["name"] == "pytorch" and container["resources"]["limits"]["nvidia.com/gpu"] == "1"


def test_single_node_pytorchjob_has_only_a_master() -> None:
    job = pytorchjob(_options(num_nodes=1, gpus_per_node=0, cpu=None, memory=None))
    assert list(job["spec"]["pytorchReplicaSpecs"]) == ["Master"]
    assert (
        "resources" not in job["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"][0]
    )


def test_function_code_travels_as_a_payload_file_not_through_a_shell() -> None:
    def train_fn(x: int) -> None:
        print(f"loss={x}")

    payload = cloudpickle.dumps((train_fn, (3,), {}, None))
    options = K8sJobOptions(
        spec=_spec(entrypoint=FunctionEntrypoint(function="train_fn")),
        namespace="team-a",
        procs_per_node=2,
        run_id="r-1",
        payload=payload,
    )
    files = code_files(options)
    assert base64.b64decode(files["payload.b64"]) == payload
    assert (
        "cloudpickle.loads" in files["launch.py"] and "kfjupyter" not in files["launch.py"].split('"""')[-1]
    )
    command = trainjob(options)["spec"]["trainer"]["command"]
    assert command == ["torchrun", "--nnodes=2", "--nproc-per-node=2", "/opt/kfjupyter/code/launch.py"]
    assert not {"bash", "sh", "-c"} & set(command)
    cm = configmap(options)
    assert cm["metadata"]["name"] == "fit-mnist-code" and set(cm["data"]) == {"launch.py", "payload.b64"}


def test_clear_errors_for_a_missing_image_and_oversized_code() -> None:
    with pytest.raises(InvalidInput, match="needs an image"):
        trainjob(_options(image=None))
    with pytest.raises(InvalidInput, match="needs an image"):
        pytorchjob(_options(image=None))
    big = _options().model_copy(update={"script_text": "x" * 1_100_000})
    with pytest.raises(InvalidInput, match="ConfigMap holds at most"):
        configmap(big)


def test_odd_script_names_get_a_safe_key() -> None:
    options = _options(entrypoint=ScriptEntrypoint(path="/tmp/my script!.py"))
    assert list(code_files(options)) == ["script.py"]
    assert trainjob(options)["spec"]["trainer"]["command"][-1] == "/opt/kfjupyter/code/script.py"


def test_typed_models_refuse_unknown_fields() -> None:
    from pydantic import ValidationError

    from kfjupyter.training.k8s_models import RuntimeRef, TrainJobSpec

    job = trainjob(_options())
    spec = TrainJobSpec.model_validate(job["spec"])
    assert spec.runtime_ref == RuntimeRef(name="torch-distributed")
    with pytest.raises(ValidationError, match="podTemplateOverride"):
        TrainJobSpec.model_validate({**job["spec"], "podTemplateOverride": []})
