"""The training spec: validation, defaults, and job names that work on every backend."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kfjupyter.training.spec import FunctionEntrypoint, ScriptEntrypoint, TrainingSpec, default_name

FN = FunctionEntrypoint(function="train")


def test_defaults_and_round_trip() -> None:
    spec = TrainingSpec(name="mnist", entrypoint=FN)
    assert (spec.num_nodes, spec.procs_per_node, spec.gpus_per_node, spec.backend) == (1, None, 0, "auto")
    again = TrainingSpec.model_validate_json(spec.model_dump_json())
    assert again == spec


def test_script_entrypoint_is_discriminated() -> None:
    spec = TrainingSpec.model_validate(
        {"name": "s", "entrypoint": {"kind": "script", "path": "/x/fit.py", "args": ["--lr", "0.1"]}}
    )
    assert isinstance(spec.entrypoint, ScriptEntrypoint)
    assert spec.entrypoint.args == ["--lr", "0.1"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Has_Upper"),
        ("name", "9starts-with-digit"),
        ("name", "a" * 64),
        ("num_nodes", 0),
        ("procs_per_node", 0),
        ("gpus_per_node", -1),
        ("cpu", "two"),
        ("memory", "16 GB"),
        ("env", {"1BAD": "x"}),
        ("backend", "slurm"),
        ("surprise", 1),
    ],
)
def test_bad_values_are_rejected(field: str, value: object) -> None:
    data: dict[str, object] = {"name": "ok", "entrypoint": FN, field: value}
    with pytest.raises(ValidationError):
        TrainingSpec.model_validate(data)


def test_quantities() -> None:
    spec = TrainingSpec(name="q", entrypoint=FN, cpu=2, memory="16Gi")  # type: ignore[arg-type]
    assert (spec.cpu, spec.memory) == ("2", "16Gi")
    assert TrainingSpec(name="q", entrypoint=FN, cpu="500m").cpu == "500m"
    assert TrainingSpec(name="q", entrypoint=FN, cpu=0.5).cpu == "0.5"  # type: ignore[arg-type]


def test_spec_is_frozen() -> None:
    spec = TrainingSpec(name="f", entrypoint=FN)
    with pytest.raises(ValidationError):
        spec.num_nodes = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("train_mnist", "train-mnist"),
        ("Fit", "fit"),
        ("_private__fn", "private-fn"),
        ("3d_model", "train-3d-model"),
        ("λ", "train"),
        ("x" * 80, "x" * 63),
    ],
)
def test_default_name(label: str, expected: str) -> None:
    assert default_name(label) == expected
    TrainingSpec(name=default_name(label), entrypoint=FN)


@pytest.mark.parametrize("name", ["PET_NNODES", "PET_MASTER_PORT", "PET_RDZV_BACKEND"])
def test_torchrun_option_variables_are_refused_naming_them(name: str) -> None:
    with pytest.raises(ValidationError) as raised:
        TrainingSpec(name="mnist", entrypoint=FN, env={"LR": "0.1", name: "2"})
    message = str(raised.value)
    assert f"environment variables ['{name}'] are reserved" in message and "num_nodes" in message
    assert (
        TrainingSpec(name="mnist", entrypoint=FN, env={"PETS": "2", "MY_PET_NAME": "rex"}).env["PETS"] == "2"
    )
