"""``%kf`` and ``%load_ext kfjupyter`` lines drive kfjupyter from a notebook; they are never step code."""

from __future__ import annotations

from kfjupyter.notebook.shell_lines import extract_kf_lines
from tests.unit.kale.conformance import build, cells_per_step, codes
from tests.unit.notebook.nbfactory import code, markdown


def test_a_kf_run_cell_below_the_last_step_is_not_part_of_that_step() -> None:
    pipeline, diags = build(
        code("%load_ext kfjupyter"),
        code("lr = 0.1\nepochs = 2", "pipeline-parameters"),
        code("%%step load\nx = [1, 2, 3]"),
        code("%%step train\ny = sum(x) * lr"),
        markdown("Run it:"),
        code("%kf run --widget"),
    )
    assert cells_per_step(pipeline) == {"load": [2], "train": [3]}
    left_out = [d for d in diags if d.code == "KF014"]
    assert [(d.severity, d.cell) for d in left_out] == [("info", 5)]
    # following the users' guide gives no warning: no "Kale would drop it" for %load_ext
    assert codes(diags, "warning") == [] and codes(diags, "error") == []
    assert "KF011" not in codes(diags) and "KF004" not in codes(diags)


def test_several_kf_cells_give_one_finding_naming_them_all() -> None:
    pipeline, diags = build(
        code("import json", "imports"),
        code("%kf runs"),
        code("a = json.dumps(1)", "step:load"),
        code("%kf logs RUN load\nb = len(a)"),
        code("%kf metrics RUN"),
    )
    left_out = [d for d in diags if d.code == "KF014"]
    assert len(left_out) == 1
    assert left_out[0].cell == 1 and "(also in cell 3, cell 4)" in left_out[0].message
    assert cells_per_step(pipeline) == {"load": [2, 3]}
    second = pipeline.step("load").blocks[1].source
    assert second.splitlines() == ["# %kf logs RUN load  (kfjupyter: not step code)", "b = len(a)"]
    assert [b.source for b in pipeline.setup] == ["import json"]


def test_kf_lines_in_a_scratch_notebook_without_steps_add_only_the_no_steps_hint() -> None:
    _, diags = build(code("%load_ext kfjupyter"), code("%kf runs"), code("%kf logs RUN"))
    assert codes(diags) == ["KF001"]


def test_a_kf_line_inside_a_block_stays_valid_python_and_parameters_stay_literal() -> None:
    pipeline, diags = build(
        code("n = 3\n%kf runs", "pipeline-parameters"),
        code("if n:\n    %kf run\n    m = n", "step:use"),
    )
    assert codes(diags, "error") == []
    assert [p.name for p in pipeline.parameters] == ["n"]
    assert pipeline.step("use").blocks[0].source.splitlines()[1].startswith("    pass  # %kf run")


def test_extract_kf_lines() -> None:
    assert extract_kf_lines("x = 1") == ("x = 1", [])
    assert extract_kf_lines("%load_ext kfjupyter\n# why\n%reload_ext  kfjupyter") == ("", [1, 3])
    assert extract_kf_lines("%kfoo 1\n%load_ext kfjupyterlab\n%kf") == (
        "%kfoo 1\n%load_ext kfjupyterlab\n# %kf  (kfjupyter: not step code)",
        [3],
    )
    assert extract_kf_lines("% kf runs")[1] == []  # IPython reads that as the magic named ""
