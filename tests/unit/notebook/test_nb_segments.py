"""Grouping cells into set-up, parameters, steps and metrics."""

from __future__ import annotations

from kfjupyter.notebook.reader import read_notebook
from kfjupyter.notebook.segments import Layout, segment_notebook
from tests.unit.notebook.nbfactory import code, markdown, notebook


def layout_of(*cells: object, **metadata: object) -> Layout:
    return segment_notebook(read_notebook(notebook(*cells, **metadata)))


def codes(layout: Layout) -> list[str]:
    return [d.code for d in layout.diagnostics]


def test_unmarked_cells_join_the_group_above_skip_and_markdown_are_left_out() -> None:
    layout = layout_of(
        code("import os", "imports"),
        code("import sys"),
        code("n = 1", "pipeline-parameters"),
        code("m = 2"),
        code("a = n", "step:first"),
        markdown("# notes"),
        code("b = a"),
        code("junk()", "skip"),
        code("more_junk()"),
        code("c = b", "step:second"),
    )
    assert [(s.kind, s.code.cell) for s in layout.setup] == [("imports", 0), ("imports", 1)]
    assert [p.cell for p in layout.parameters] == [2, 3]
    assert [(s.name, [b.cell for b in s.blocks]) for s in layout.steps] == [
        ("first", [4, 6, 8]),
        ("second", [9]),
    ]
    assert layout.diagnostics == []


def test_code_before_first_marker_is_kept_as_setup_with_a_warning() -> None:
    layout = layout_of(code("import pandas as pd"), code("   \n"), code("df = pd.DataFrame()", "step:load"))
    assert [(s.kind, s.code.cell) for s in layout.setup] == [("prelude", 0)]
    assert codes(layout) == ["KF004"]
    assert layout.diagnostics[0].cell == 0
    assert layout.diagnostics[0].severity == "warning"


def test_step_magic_line_is_removed_and_code_starts_on_line_two() -> None:
    layout = layout_of(code("%%step load --after x\ndf = 1\n"), code("df2 = df", kf={"step": "x"}))
    load = layout.steps[0]
    assert load.blocks[0].source == "df = 1\n"
    assert load.blocks[0].first_line == 2
    assert load.after == ["x"]
    assert layout.steps[1].name == "x"


def test_metrics_cells_form_one_metrics_step() -> None:
    layout = layout_of(
        code("a = 1", "step:a"),
        code("print(a)", "pipeline-metrics"),
        code("print(a)", kf={"role": "metrics"}),
    )
    assert [(s.name, s.kind, len(s.blocks)) for s in layout.steps] == [
        ("a", "step", 1),
        ("pipeline_metrics", "metrics", 2),
    ]
    assert layout.diagnostics == []


def test_duplicate_step_is_reported_and_merged() -> None:
    layout = layout_of(code("a = 1", "step:a"), code("b = 1", "step:b"), code("a2 = 1", "step:a", "prev:b"))
    assert [s.name for s in layout.steps] == ["a", "b"]
    assert [b.cell for b in layout.steps[0].blocks] == [0, 2]
    assert layout.steps[0].after == ["b"]
    (diag,) = layout.diagnostics
    assert (diag.code, diag.severity, diag.cell) == ("KF202", "warning", 2)
    assert "first in cell 0" in diag.message


def test_invalid_step_name_suggests_a_valid_one() -> None:
    layout = layout_of(code("a = 1", kf={"step": "Load-Data"}))
    (diag,) = layout.diagnostics
    assert diag.code == "KF201"
    assert "'load_data'" in diag.hint
    assert layout.steps[0].name == "Load-Data"


def test_bad_marker_is_a_diagnostic_and_the_step_survives() -> None:
    layout = layout_of(
        code("a = 1", "step:a", "limit:cpu"),
        code("%%step b --gpu lots\nb = a"),
        code("c = b", kf={"step": "c", "gpus": 2}),
    )
    assert [s.name for s in layout.steps] == ["a", "b", "c"]
    assert [(d.code, d.cell) for d in layout.diagnostics] == [("KF003", 0), ("KF003", 1), ("KF003", 2)]
    assert "metadata.kfjupyter.gpus" in layout.diagnostics[2].message


def test_markers_that_disagree_warn_and_the_strongest_wins() -> None:
    layout = layout_of(code("%%step a\nx = 1", "step:b"), code("y = 1", "step:c", kf={"step": "c"}))
    assert [s.name for s in layout.steps] == ["a", "c"]
    assert codes(layout) == ["KF002"]


def test_no_steps_warns() -> None:
    layout = layout_of(code("x = 1", "imports"))
    assert codes(layout) == ["KF001"]


def test_notebook_level_image_and_volumes() -> None:
    layout = layout_of(
        code("a = 1", "step:a"),
        kubeflow_notebook={
            "docker_image": "python:3.12",
            "volumes": [{"name": "data", "mount_point": "/data", "type": "pvc"}, {"name": "no-mount"}],
        },
    )
    assert layout.default_image == "python:3.12"
    assert [(v.pvc, v.mount_path) for v in layout.volumes] == [("data", "/data")]
    assert codes(layout) == ["KF009", "KF005"]
