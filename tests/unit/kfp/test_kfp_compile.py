"""The KFP compiler: IR -> kfp SDK objects -> deterministic v2 YAML with settings and parameters."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
import yaml
from kfp import components

from kfjupyter.compiler.ir import CodeBlock, Parameter, Pipeline, Resources, Step, StepSettings
from kfjupyter.errors import InvalidInput
from kfjupyter.kfp.entry import coerce
from kfjupyter.kfp.payload import KfpStep
from kfjupyter.kfp.pipeline import compile_to_yaml, pipeline_name
from tests.support.notebooks import cell, write_notebook

IMAGE = "registry.example/kfjupyter:1"
NASTY = 'it\'s "quoted"\nnew line {{$.inputs}} {{x}} ünï©ødé ✓ \\ $HOME `id`'


def two_steps(settings: StepSettings | None = None, default: Any = 3) -> Pipeline:
    return Pipeline(
        name="My Notebook ✓",
        setup=[CodeBlock(cell=0, source="import math")],
        parameters=[
            Parameter(name="n", type="int", default=default, cell=1),
            Parameter(name="msg", type="str", default=NASTY, cell=1),
        ],
        steps=[
            Step(
                name="load",
                blocks=[CodeBlock(cell=2, source=f"data = list(range(n))\nnote = {NASTY!r}")],
                outputs=["data"],
                parameters=["n"],
                setup=[0],
            ),
            Step(
                name="train",
                blocks=[CodeBlock(cell=3, source="total = sum(data)\nprint(msg)")],
                inputs={"data": "load"},
                parameters=["msg"],
                settings=settings or StepSettings(),
            ),
        ],
    )


def docs(text: str) -> list[dict[str, Any]]:
    return list(yaml.safe_load_all(text))


def payload(spec: dict[str, Any], component: str) -> KfpStep:
    default = spec["components"][component]["inputDefinitions"]["parameters"]["step_job"]["defaultValue"]
    return KfpStep.model_validate_json(default)


def test_compiling_twice_gives_identical_bytes() -> None:
    assert compile_to_yaml(two_steps(), image=IMAGE) == compile_to_yaml(two_steps(), image=IMAGE)


def test_adversarial_strings_round_trip_through_the_yaml_and_kfp_loader() -> None:
    text = compile_to_yaml(two_steps(), image=IMAGE)
    spec = docs(text)[0]
    assert spec["root"]["inputDefinitions"]["parameters"]["msg"]["defaultValue"] == NASTY
    assert f"note = {NASTY!r}" in payload(spec, "comp-step-load").code[0].code
    loaded = components.load_component_from_text(text)
    assert loaded.component_spec.inputs["msg"].default == NASTY


def test_parameters_reach_only_the_steps_that_read_them() -> None:
    tasks = docs(compile_to_yaml(two_steps(), image=IMAGE))[0]["root"]["dag"]["tasks"]
    assert tasks["step-load"]["inputs"]["parameters"] == {"param_n": {"componentInputParameter": "n"}}
    assert tasks["step-train"]["inputs"]["parameters"] == {"param_msg": {"componentInputParameter": "msg"}}
    assert tasks["step-train"]["inputs"]["artifacts"]["in_data"]["taskOutputArtifact"] == {
        "outputArtifactKey": "out_data",
        "producerTask": "step-load",
    }
    assert tasks["step-train"]["taskInfo"]["name"] == "train"


def test_parameter_types_and_override_defaults() -> None:
    spec = docs(compile_to_yaml(two_steps(), values={"n": 7}, image=IMAGE))[0]
    params = spec["root"]["inputDefinitions"]["parameters"]
    assert params["n"]["parameterType"] == "NUMBER_INTEGER" and params["n"]["defaultValue"] == 7
    assert params["msg"]["parameterType"] == "STRING"
    assert payload(spec, "comp-step-load").parameters == {"n": "int"}


def test_image_comes_from_the_argument_then_env_then_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KFJUPYTER_IMAGE", raising=False)
    with pytest.raises(InvalidInput, match="no container image"):
        compile_to_yaml(two_steps())
    own = two_steps(StepSettings(image="own:2"))
    with pytest.raises(InvalidInput, match="'load' has no container image"):
        compile_to_yaml(own)
    monkeypatch.setenv("KFJUPYTER_IMAGE", "env:1")
    executors = docs(compile_to_yaml(own))[0]["deploymentSpec"]["executors"]
    assert executors["exec-step-load"]["container"]["image"] == "env:1"
    executors = docs(compile_to_yaml(own, image=IMAGE))[0]["deploymentSpec"]["executors"]
    assert {e["container"]["image"] for e in executors.values()} == {IMAGE}
    assert executors["exec-step-train"]["container"]["command"] == ["python3", "-m", "kfjupyter.kfp.entry"]


def test_step_settings_reach_the_pipeline_and_platform_specs() -> None:
    settings = StepSettings(
        resources=Resources(cpu="2", memory="4Gi", gpu=1, gpu_type="nvidia.com/gpu"),
        retries=3,
        timeout_s=90,
        cache=False,
        node_selector={"pool": "gpu"},
        tolerations=[{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
        volumes=[{"pvc": "data", "mount_path": "/data"}],
        secrets=[{"secret": "creds", "key": "token", "env": "TOKEN"}],
        labels={"team": "ml"},
        annotations={"note": NASTY},
    )
    spec, platform = docs(compile_to_yaml(two_steps(settings), image=IMAGE))
    task = spec["root"]["dag"]["tasks"]["step-train"]
    assert task["cachingOptions"] == {}
    assert task["retryPolicy"]["maxRetryCount"] == 3
    assert spec["root"]["dag"]["tasks"]["step-load"]["cachingOptions"] == {"enableCache": True}
    resources = spec["deploymentSpec"]["executors"]["exec-step-train"]["container"]["resources"]
    assert resources["cpuRequest"] == 2 and resources["cpuLimit"] == 2
    assert resources["memoryLimit"] == 4.294967296 and resources["memoryRequest"] == 4.294967296
    assert resources["accelerator"]["resourceCount"] == "1"
    assert resources["accelerator"]["resourceType"] == "nvidia.com/gpu"
    k8s = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-step-train"]
    assert k8s["activeDeadlineSeconds"] == "90"
    assert k8s["nodeSelector"] == {"labels": {"pool": "gpu"}}
    assert k8s["tolerations"] == [{"effect": "NoSchedule", "key": "gpu", "operator": "Exists"}]
    assert k8s["pvcMount"][0]["mountPath"] == "/data"
    assert k8s["secretAsEnv"][0]["keyToEnv"] == [{"envVar": "TOKEN", "secretKey": "token"}]
    assert k8s["podMetadata"] == {"annotations": {"note": NASTY}, "labels": {"team": "ml"}}


def test_a_volume_without_a_path_is_refused() -> None:
    with pytest.raises(InvalidInput, match="needs 'pvc' and 'mount_path'"):
        compile_to_yaml(two_steps(StepSettings(volumes=[{"pvc": "x"}])), image=IMAGE)


def test_entry_coerces_kfp_numbers_to_declared_types() -> None:
    assert coerce(3.0, "int") == 3 and isinstance(coerce(3.0, "int"), int)
    assert isinstance(coerce(2, "float"), float)
    assert coerce(True, "bool") is True and coerce(NASTY, "str") == NASTY


def test_pipeline_names_are_kfp_safe() -> None:
    assert pipeline_name("My Notebook ✓") == "my-notebook"
    assert pipeline_name("✓✓") == "notebook"


def test_compile_command_writes_yaml_with_overrides(tmp_path: Path) -> None:
    from kfjupyter.cli import compile_cmd

    nb = write_notebook(
        tmp_path / "nb.ipynb",
        [cell("n = 3", "pipeline-parameters"), cell("x = n * 2", "step:double")],
    )
    parser = argparse.ArgumentParser()
    compile_cmd.add_parser(parser.add_subparsers())
    out = tmp_path / "p.yaml"
    args = parser.parse_args(["compile", str(nb), "-o", str(out), "-p", "n=9", "--image", IMAGE])
    assert args.handler(args) == 0
    spec = docs(out.read_text(encoding="utf-8"))[0]
    assert spec["root"]["inputDefinitions"]["parameters"]["n"]["defaultValue"] == 9


def named_steps(*names: str) -> Pipeline:
    return Pipeline(
        name="names",
        steps=[Step(name=n, blocks=[CodeBlock(cell=i, source=f"x{i} = {i}")]) for i, n in enumerate(names)],
    )


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (
            ("Load Data", "load-data"),
            "steps 'Load Data' and 'load-data' both become the Kubeflow Pipelines task 'step-load-data'",
        ),
        (("a.b", "a_b"), "steps 'a.b' and 'a_b' both become the Kubeflow Pipelines task 'step-a-b'"),
        (
            ("load__data", "load_data_"),
            "steps 'load__data' and 'load_data_' both become the Kubeflow Pipelines",
        ),
        (("!!", "??"), "steps '!!' and '??' both become the Kubeflow Pipelines task 'step-unnamed'"),
        (
            ("train driver", "train"),
            "step 'train driver' becomes the Kubeflow Pipelines task 'step-train-driver', the name of the driver of step 'train'",
        ),
    ],
)
def test_steps_whose_kfp_task_names_collide_are_refused(names: tuple[str, ...], message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        compile_to_yaml(named_steps(*names), image=IMAGE)
    assert raised.value.message.startswith(message)


def test_steps_named_like_workflow_nodes_keep_their_own_task_names() -> None:
    spec = docs(compile_to_yaml(named_steps("root", "executor", "driver", "train-driver"), image=IMAGE))[0]
    assert sorted(spec["root"]["dag"]["tasks"]) == [
        "step-driver",
        "step-executor",
        "step-root",
        "step-train-driver",
    ]


def test_the_step_payload_carries_container_links_only_where_there_are_some(tmp_path: Path) -> None:
    from kfjupyter.compiler.lint import compile_notebook

    nb = write_notebook(
        tmp_path / "combine.ipynb",
        [
            cell("train = {}\ntest = {}\ncombine = [train, test]", "step:load"),
            cell("for d in combine:\n    d['x'] = 1", "step:encode"),
            cell("out = train", "step:read"),
        ],
    )
    pipeline, _ = compile_notebook(nb, target="cluster")
    spec = docs(compile_to_yaml(pipeline, image=IMAGE))[0]
    assert payload(spec, "comp-step-encode").relink == {"combine": ["train", "test"]}
    load = spec["components"]["comp-step-load"]["inputDefinitions"]["parameters"]["step_job"]["defaultValue"]
    assert "relink" not in load
