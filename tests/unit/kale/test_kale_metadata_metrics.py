"""Kale's notebook metadata (``metadata.kubeflow_notebook``) and its metrics cell.

Kale's rules: ``steps_defaults`` (annotation:/label:/limit: strings) apply to every step, a step's
own value winning; volumes are ``pvc``/``new_pvc``/``pv``/``clone``; the metrics cell holds only
``print(name)`` lines, each a metric (``parse_metrics_print_statements``).
"""

from __future__ import annotations

import yaml

from kfjupyter.kfp.pipeline import compile_to_yaml
from tests.unit.kale.conformance import build, cells_per_step, codes
from tests.unit.notebook.nbfactory import code


def test_steps_defaults_reach_every_step_in_the_yaml_and_a_step_keeps_its_own_value() -> None:
    pipeline, diags = build(
        code("a = 1", "step:load"),
        code("b = a", "step:train", "label:team:vision", "limit:memory:8Gi"),
        target="cluster",
        kubeflow_notebook={"steps_defaults": ["label:team:ml", "annotation:owner:ada", "limit:memory:2Gi"]},
    )
    load, train = pipeline.step("load").settings, pipeline.step("train").settings
    assert (load.labels, load.annotations, load.resources.memory) == ({"team": "ml"}, {"owner": "ada"}, "2Gi")
    assert (train.labels, train.annotations, train.resources.memory) == (
        {"team": "vision"},
        {"owner": "ada"},
        "8Gi",
    )
    docs = list(yaml.safe_load_all(compile_to_yaml(pipeline, image="img:1")))
    k8s = docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert k8s["exec-step-load"]["podMetadata"]["labels"] == {"team": "ml"}
    assert k8s["exec-step-train"]["podMetadata"]["annotations"] == {"owner": "ada"}
    assert codes(diags, "error") == []


def test_steps_defaults_in_the_newer_dict_form() -> None:
    pipeline, _ = build(
        code("a = 1", "step:load"),
        kubeflow_notebook={"steps_defaults": {"labels": {"a": "b"}, "limits": {"cpu": "1"}}},
    )
    settings = pipeline.step("load").settings
    assert (settings.labels, settings.resources.cpu) == ({"a": "b"}, "1")


def test_enable_caching_is_every_step_default_and_a_cache_tag_wins() -> None:
    pipeline, diags = build(
        code("a = 1", "step:load"),
        code("b = a", "step:train", "cache:enabled"),
        kubeflow_notebook={"enable_caching": False},
    )
    assert (pipeline.step("load").settings.cache, pipeline.step("train").settings.cache) == (False, True)
    assert "KF007" not in codes(diags)


def test_docker_image_is_the_default_image_with_a_warning() -> None:
    pipeline, diags = build(code("a = 1", "step:load"), kubeflow_notebook={"docker_image": "reg/nb:1"})
    assert pipeline.step("load").settings.image == "reg/nb:1"
    (warning,) = [d for d in diags if d.code == "KF009"]
    assert warning.severity == "warning" and "kfjupyter installed" in warning.message


def test_pvc_and_new_pvc_volumes_are_mounted_and_a_new_one_is_created_first() -> None:
    pipeline, diags = build(
        code("a = 1", "step:load"),
        target="cluster",
        kubeflow_notebook={
            "volumes": [
                {"name": "data", "mount_point": "/data", "type": "pvc"},
                {
                    "name": "scratch",
                    "mount_point": "/scratch",
                    "type": "new_pvc",
                    "size": 5,
                    "size_type": "Gi",
                },
            ]
        },
    )
    docs = list(yaml.safe_load_all(compile_to_yaml(pipeline, image="img:1")))
    assert set(docs[0]["root"]["dag"]["tasks"]) == {"createpvc", "step-load"}
    mounts = docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-step-load"]["pvcMount"]
    assert [m["mountPath"] for m in mounts] == ["/data", "/scratch"]
    create = docs[0]["root"]["dag"]["tasks"]["createpvc"]["inputs"]["parameters"]
    assert create["size"]["runtimeValue"]["constant"] == "5Gi"
    assert codes(diags, "error") == []


def test_clone_and_snapshot_volumes_are_refused_with_the_reason() -> None:
    metadata = {
        "volumes": [
            {"name": "ws", "mount_point": "/home/jovyan", "type": "clone"},
            {"name": "d", "mount_point": "/d", "type": "pvc", "snapshot": True},
        ]
    }
    _, local = build(code("a = 1", "step:load"), kubeflow_notebook=metadata)
    assert [d.severity for d in local if d.code == "KF010"] == ["warning", "warning"]  # not mounted locally
    _, diags = build(
        code("a = 1", "step:load"),
        target="cluster",
        kubeflow_notebook={
            "volumes": [
                {"name": "ws", "mount_point": "/home/jovyan", "type": "clone"},
                {"name": "d", "mount_point": "/d", "type": "pvc", "snapshot": True},
            ]
        },
    )
    refused = [d for d in diags if d.code == "KF010"]
    assert [d.severity for d in refused] == ["error", "error"]
    assert "volumes[0]" in refused[0].message and "snapshot" in refused[0].message


def test_every_other_kale_field_is_named() -> None:
    _, diags = build(
        code("a = 1", "step:load"),
        kubeflow_notebook={
            "experiment_name": "exp",
            "katib_run": True,
            "katib_metadata": {"parameters": []},
            "autosnapshot": True,
            "snapshot_volumes": False,
            "made_up": 1,
        },
    )
    warned = sorted(d.message.split(" ")[0] for d in diags if d.code == "KF007")
    assert warned == [
        "metadata.kubeflow_notebook.autosnapshot",
        "metadata.kubeflow_notebook.katib_metadata",
        "metadata.kubeflow_notebook.katib_run",
        "metadata.kubeflow_notebook.made_up",
    ]
    (info,) = [d for d in diags if d.code == "KF008"]
    assert "experiment_name" in info.message and "snapshot_volumes" in info.message


def test_every_print_line_of_the_metrics_cell_is_a_metric_parameters_included() -> None:
    pipeline, diags = build(
        code("lr = 0.1", "pipeline-parameters"),
        code("acc = 0.9", "step:train"),
        code("print(acc)\n\n# the learning rate too\nprint(lr)", "pipeline-metrics"),
    )
    assert cells_per_step(pipeline) == {"train": [1], "pipeline_metrics": [2]}
    metrics = pipeline.step("pipeline_metrics")
    assert metrics.metrics == ["acc", "lr"]
    assert metrics.parameters == ["lr"] and metrics.inputs == {"acc": "train"}
    assert codes(diags, "error") == []


def test_anything_else_in_the_metrics_cell_is_an_error_naming_the_line() -> None:
    _, diags = build(
        code("acc = 0.9", "step:train"),
        code("print(acc)\nscore = acc * 100\nprint(acc, 2)", "pipeline-metrics"),
    )
    errors = [(d.code, d.cell, d.line) for d in diags if d.severity == "error"]
    assert errors == [("KF304", 1, 2), ("KF304", 1, 3)]


def test_a_bare_name_line_is_a_metric_too_but_keywords_are_not() -> None:
    pipeline, diags = build(code("acc = 0.9", "step:train"), code("acc\nprint(if)", "pipeline-metrics"))
    assert pipeline.step("pipeline_metrics").metrics == ["acc"]
    assert ("KF304", 2) in [(d.code, d.line) for d in diags if d.severity == "error"]
