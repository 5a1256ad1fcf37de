"""Notebook -> Pipeline: data edges, explicit edges, parameters, set-up and order."""

from __future__ import annotations

from typing import Any

from kfjupyter.compiler.ir import Pipeline
from kfjupyter.compiler.lint import compile_notebook
from kfjupyter.notebook.diagnostics import Diagnostic
from tests.unit.notebook.nbfactory import code, notebook


def build(*cells: Any, **metadata: Any) -> tuple[Pipeline, list[Diagnostic]]:
    return compile_notebook(notebook(*cells, **metadata), target="cluster")


def edges(p: Pipeline) -> dict[str, list[str]]:
    return {s.name: s.upstream for s in p.steps}


def test_diamond() -> None:
    p, diags = build(
        code("import pandas as pd", "imports"),
        code("df = pd.DataFrame({'a': [1, 2]})", "step:load"),
        code("left = df.a * 2", "step:left"),
        code("right = df.a + 1", "step:right"),
        code("both = left + right", "step:join"),
    )
    assert diags == []
    assert [s.name for s in p.steps] == ["load", "left", "right", "join"]
    assert edges(p) == {"load": [], "left": ["load"], "right": ["load"], "join": ["left", "right"]}
    assert p.step("join").inputs == {"left": "left", "right": "right"}
    assert p.step("load").outputs == ["df"]
    assert p.step("left").outputs == ["left"]
    assert p.step("join").outputs == []


def test_independent_steps_stay_independent() -> None:
    p, diags = build(code("a = 1", "step:a"), code("b = 2", "step:b"), code("c = 3", "step:c"))
    assert diags == []
    assert edges(p) == {"a": [], "b": [], "c": []}


def test_nearest_preceding_producer_wins() -> None:
    p, _ = build(
        code("x = 1", "step:first"),
        code("x = 2", "step:second"),
        code("y = x", "step:reader"),
        code("x = 3", "step:after_reader"),
    )
    assert p.step("reader").inputs == {"x": "second"}
    assert p.step("first").outputs == []
    assert p.step("second").outputs == ["x"]


def test_step_reading_its_own_earlier_assignment_has_no_input() -> None:
    p, _ = build(code("x = 1", "step:a"), code("x = 5\ny = x", "step:b"))
    assert p.step("b").inputs == {}


def test_reassigned_name_is_read_first() -> None:
    p, _ = build(code("x = 1", "step:a"), code("x = x + 1", "step:b"), code("print(x)", "step:c"))
    assert p.step("b").inputs == {"x": "a"}
    assert p.step("c").inputs == {"x": "b"}


def test_explicit_prev_is_kept_without_data_flow_and_fan_out_is_not_chained() -> None:
    p, diags = build(
        code("a = 1", "step:a"),
        code("b = 1", "step:b", "prev:a"),
        code("c = 1", "step:c", "prev:a"),
    )
    assert diags == []
    assert edges(p) == {"a": [], "b": ["a"], "c": ["a"]}
    assert p.step("b").after == ["a"]


def test_explicit_edge_to_a_later_step_reorders() -> None:
    p, diags = build(code("a = 1", "step:a", "prev:b"), code("b = 1", "step:b"))
    assert diags == []
    assert [s.name for s in p.steps] == ["b", "a"]


def test_topological_order_uses_notebook_order_for_ties() -> None:
    p, _ = build(
        code("z = 1", "step:z"),
        code("y = 1", "step:y", "prev:w"),
        code("x = z", "step:x"),
        code("w = 1", "step:w"),
    )
    assert [s.name for s in p.steps] == ["z", "x", "w", "y"]


def test_parameters_reach_only_readers_including_through_setup_functions() -> None:
    p, diags = build(
        code("def scaled(v):\n    return v * scale", "functions"),
        code("n_rows = 10\nscale = 2.0\nunused = 'x'", "pipeline-parameters"),
        code("data = list(range(n_rows))", "step:load"),
        code("doubled = [scaled(v) for v in data]", "step:transform"),
        code("total = sum(data)", "step:report"),
    )
    assert diags == []
    assert [(q.name, q.type, q.default) for q in p.parameters] == [
        ("n_rows", "int", 10),
        ("scale", "float", 2.0),
        ("unused", "str", "x"),
    ]
    assert p.step("load").parameters == ["n_rows"]
    assert p.step("transform").parameters == ["scale"]
    assert p.step("report").parameters == []


def test_setup_top_level_read_of_a_parameter_reaches_every_step() -> None:
    p, _ = build(
        code("seed = 1", "pipeline-parameters"),
        code("import random\nrandom.seed(seed)", "imports"),
        code("a = random.random()", "step:a"),
        code("b = 1", "step:b"),
    )
    assert p.step("a").parameters == ["seed"]
    assert p.step("b").parameters == ["seed"]


def test_setup_function_free_variables_are_read_where_the_function_is_used() -> None:
    p, diags = build(
        code(
            "def summary():\n    return describe(df)\n\ndef describe(frame):\n    return frame.shape",
            "functions",
        ),
        code("df = [1, 2]", "step:load"),
        code("s = summary()", "step:report"),
        code("t = 1", "step:other"),
    )
    assert diags == []
    assert p.step("report").inputs == {"df": "load"}
    assert p.step("other").inputs == {}
    assert p.step("load").outputs == ["df"]


def test_setup_function_reading_an_unknown_name_is_reported_at_the_call_site() -> None:
    _, diags = build(code("def f():\n    return ghost", "functions"), code("\n\nx = f()", "step:a"))
    (diag,) = diags
    assert (diag.code, diag.cell, diag.line, diag.step) == ("KF101", 1, 3, "a")
    assert "'ghost' (used by f()" in diag.message


def test_functions_defined_in_a_step_read_upstream_names() -> None:
    p, _ = build(code("df = 1", "step:a"), code("def g():\n    return df\nout = g()", "step:b"))
    assert p.step("b").inputs == {"df": "a"}


def test_setup_cells_are_recorded_on_every_step() -> None:
    p, _ = build(
        code("import os"),
        code("import sys", "imports"),
        code("def f():\n    pass", "functions"),
        code("a = 1", "step:a"),
    )
    assert [b.cell for b in p.setup] == [0, 1, 2]
    assert p.step("a").setup == [0, 1, 2]


def test_metrics_step_reads_what_it_prints() -> None:
    p, diags = build(
        code("acc = 0.9", "step:train"),
        code("loss = 0.1", "step:evaluate"),
        code("print(acc)\nprint(loss)", "pipeline-metrics"),
    )
    assert diags == []
    metrics = p.step("pipeline_metrics")
    assert metrics.kind == "metrics"
    assert metrics.inputs == {"acc": "train", "loss": "evaluate"}


def test_settings_from_all_three_syntaxes_land_in_step_settings() -> None:
    p, _ = build(
        code("a = 1", "step:a", "limit:cpu:2", "limit:nvidia.com/gpu:1", "secret:s:k:ENV", "cache:disabled"),
        code("%%step b --memory 4Gi --retries 2 --timeout 30 --image img:1\nb = 1"),
        code("c = 1", kf={"step": "c", "resources": {"gpu": 2, "gpu_type": "a100"}}),
        kubeflow_notebook={"volumes": [{"name": "pvc1", "mount_point": "/data"}], "docker_image": "base:1"},
    )
    a, b, c = (p.step(n).settings for n in "abc")
    assert (a.resources.cpu, a.resources.gpu, a.resources.gpu_type, a.cache) == (
        "2",
        1,
        "nvidia.com/gpu",
        False,
    )
    assert a.secrets == [{"secret": "s", "key": "k", "env": "ENV"}]
    assert a.image == "base:1"
    assert (b.resources.memory, b.retries, b.timeout_s, b.image) == ("4Gi", 2, 30.0, "img:1")
    assert (c.resources.gpu, c.resources.gpu_type) == (2, "a100")
    assert c.volumes == [{"pvc": "pvc1", "mount_path": "/data"}]


def test_step_code_blocks_keep_cell_and_first_line() -> None:
    p, _ = build(code("%%step a\nx = 1"), code("y = x"))
    assert [(b.cell, b.first_line, b.source) for b in p.step("a").blocks] == [
        (0, 2, "x = 1"),
        (1, 1, "y = x"),
    ]


def test_compiling_twice_gives_equal_pipelines() -> None:
    cells = [code("a = 1", "step:a"), code("b = a", "step:b"), code("c = a", "step:c")]
    assert build(*cells) == build(*cells)
