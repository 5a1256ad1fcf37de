"""Kale's tag grammar, one fixture notebook per construct, checked against Kale's processor rules.

Each test states the cells Kale's notebook processor puts in each step (its ``parse_notebook``: a
role tag other than ``step:`` wins and the cell's other tags are ignored; untagged cells join the
group above; ``skip`` leaves only its own cell out; ``block:`` is the older ``step:``) and what
kfjupyter does with the same notebook.
"""

from __future__ import annotations

import yaml

from kfjupyter.kfp.pipeline import compile_to_yaml
from kfjupyter.notebook.kale_tags import ignored_tags, parse_kale_tags
from tests.unit.kale.conformance import build, cells_per_step, codes
from tests.unit.notebook.nbfactory import code, markdown


def test_older_block_grammar_builds_the_same_steps_as_step() -> None:
    pipeline, diags = build(
        code("import math", "block:imports"),
        code("def half(v):\n    return v / 2", "block:functions"),
        code("a = half(4)", "block:load"),
        code("b = math.sqrt(a)", "block:train", "prev:load"),
    )
    assert cells_per_step(pipeline) == {"load": [2], "train": [3]}
    assert [b.cell for b in pipeline.setup] == [0, 1]
    assert pipeline.step("train").inputs == {"a": "load"}
    assert codes(diags, "error") == codes(diags, "warning") == []


def test_bare_block_or_step_tag_is_an_untagged_continuation() -> None:
    pipeline, diags = build(
        code("a = 1", "step:load"),
        code("a2 = a + 1", "block:"),
        code("a3 = a2 + 1", "step:", "prev:load"),
        code("b = a3", "step:train"),
    )
    assert cells_per_step(pipeline) == {"load": [0, 1, 2], "train": [3]}
    assert codes(diags, "error") == []
    assert [(d.code, d.cell) for d in diags if d.code == "KF006"] == [("KF006", 2)]


def test_tags_next_to_a_role_tag_are_ignored_with_an_info() -> None:
    pipeline, diags = build(
        code("import os", "imports", "step:not_a_step"),
        code("a = 1", "step:load"),
        code("print('debug')", "step:debug", "skip", "prev:load", "limit:cpu:2"),
        code("b = a", "step:train"),
    )
    assert cells_per_step(pipeline) == {"load": [1], "train": [3]}
    assert [b.cell for b in pipeline.setup] == [0]
    infos = [d for d in diags if d.code == "KF006"]
    assert [(d.severity, d.cell) for d in infos] == [("info", 0), ("info", 2)]
    assert "'step:debug'" in infos[1].message and "'limit:cpu:2'" in infos[1].message
    assert codes(diags, "error") == []


def test_skip_leaves_out_only_its_own_cell() -> None:
    pipeline, _ = build(
        code("a = 1", "step:load"),
        code("a.bit_length?", "skip"),
        code("a2 = a * 2"),
        markdown("## training"),
        code("b = a2", "step:train"),
    )
    assert cells_per_step(pipeline) == {"load": [0, 2], "train": [4]}
    assert pipeline.step("train").inputs == {"a2": "load"}


def test_block_imports_and_functions_are_set_up_groups_not_steps() -> None:
    pipeline, diags = build(
        code("import json", "step:imports"),
        code("import re"),
        code("def clean(s):\n    return re.sub('x', '', s)", "block:functions"),
        code("t = clean(json.dumps(1))", "step:load"),
    )
    assert cells_per_step(pipeline) == {"load": [3]}
    assert [b.cell for b in pipeline.setup] == [0, 1, 2]
    assert codes(diags, "error") == []


def test_several_prev_tags_all_become_edges() -> None:
    pipeline, diags = build(
        code("a = 1", "step:one"),
        code("b = 2", "step:two"),
        code("print('both done')", "step:three", "prev:one", "prev:two"),
    )
    assert sorted(pipeline.step("three").after) == ["one", "two"]
    assert codes(diags, "error") == []


def test_limit_annotation_label_reach_the_ir_and_the_kfp_yaml() -> None:
    pipeline, diags = build(
        code(
            "a = 1",
            "step:train",
            "limit:nvidia.com/gpu:1",
            "limit:memory:2Gi",
            "annotation:team:ml",
            "label:tier:gold",
        ),
        target="cluster",
    )
    settings = pipeline.step("train").settings
    assert (settings.resources.gpu, settings.resources.memory) == (1, "2Gi")
    assert (settings.annotations, settings.labels) == ({"team": "ml"}, {"tier": "gold"})
    docs = list(yaml.safe_load_all(compile_to_yaml(pipeline, image="img:1")))
    container = next(iter(docs[0]["deploymentSpec"]["executors"].values()))["container"]
    assert container["resources"]["accelerator"]["resourceCount"] == "1"
    assert container["resources"]["resourceMemoryLimit"] == "2Gi"
    k8s = next(iter(docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"].values()))
    assert k8s["podMetadata"] == {"annotations": {"team": "ml"}, "labels": {"tier": "gold"}}
    assert codes(diags, "error") == []


def test_a_reused_step_name_joins_that_step_as_in_kale() -> None:
    pipeline, diags = build(
        code("a = 1", "step:load"),
        code("b = a + 1", "step:train"),
        code("a2 = 5", "step:load"),
    )
    assert cells_per_step(pipeline) == {"load": [0, 2], "train": [1]}
    assert [(d.code, d.severity, d.cell) for d in diags if d.code == "KF202"] == [("KF202", "warning", 2)]


def test_code_before_the_first_tag_is_kept_as_set_up_where_kale_drops_it() -> None:
    pipeline, diags = build(code("import os\nroot = os.sep"), code("p = root", "step:load"))
    assert cells_per_step(pipeline) == {"load": [1]}
    assert [b.cell for b in pipeline.setup] == [0]
    assert codes(diags, "warning") == ["KF004"]


def test_report_tag_is_accepted_and_named_as_ignored() -> None:
    pipeline, diags = build(code("a = 1", "step:load", "report:enabled"))
    assert cells_per_step(pipeline) == {"load": [0]}
    assert [(d.code, d.severity, d.cell) for d in diags] == [("KF006", "info", 0)]


def test_tag_parser_reports_what_kale_ignores() -> None:
    assert ignored_tags(["prev:a", "imports", "limit:cpu:1", "hide-input"]) == ["prev:a", "limit:cpu:1"]
    assert ignored_tags(["step:", "prev:a"]) == ["prev:a"]
    assert ignored_tags(["step:a", "prev:b"]) == []
    assert parse_kale_tags(["step:", "prev:a"], 0) is None
    mark = parse_kale_tags(["block:skip"], 0)
    assert mark is not None and mark.role == "skip"
    mark = parse_kale_tags(["step:a", "pipeline-metrics"], 0)
    assert mark is not None and mark.role == "metrics"


def test_a_limit_kfp_cannot_set_is_named_on_a_cluster() -> None:
    _, diags = build(code("a = 1", "step:load", "limit:ephemeral-storage:10Gi"), target="cluster")
    (kf408,) = [d for d in diags if d.code == "KF408"]
    assert kf408.severity == "warning" and "ephemeral-storage=10Gi" in kf408.message
