"""Steps that run another notebook: how they compile and what lint says about them."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfjupyter.compiler.lint import compile_notebook
from kfjupyter.errors import InvalidInput
from kfjupyter.notebook.cell_metadata import parse_cell_metadata
from kfjupyter.notebook.step_magic import parse_step_line
from tests.support.notebooks import cell
from tests.support.subnotebooks import code, host_notebook, prep_notebook

MAGIC = "%%step prep --notebook prep.ipynb --outputs rows summary\n# runs prep.ipynb"


def codes(nb: Path) -> list[tuple[str, str]]:
    return [(d.code, d.message) for d in compile_notebook(nb)[1] if d.severity == "error"]


@pytest.mark.parametrize(
    "step_cell",
    [
        code("", step="prep", notebook="prep.ipynb", outputs=["rows", "summary"]),
        code(MAGIC),
    ],
    ids=["metadata", "magic"],
)
def test_a_notebook_step_runs_the_other_notebook_with_the_pipelines_parameters(
    tmp_path: Path, step_cell: object
) -> None:
    prep_notebook(tmp_path)
    nb = host_notebook(tmp_path, step_cell)  # type: ignore[arg-type]
    pipeline, diags = compile_notebook(nb)
    assert [d for d in diags if d.severity == "error"] == []
    prep, report = pipeline.steps[0], pipeline.steps[1]
    assert prep.name == "prep" and prep.parameters == ["n", "scale"]  # label stays the notebook's own
    assert prep.outputs == ["rows", "summary"] and prep.setup == []
    assert report.inputs == {"rows": "prep", "summary": "prep"}
    sources = [b.source for b in prep.blocks]
    # the passed parameters are blanked in its parameters cell, line numbers kept; label keeps its default
    assert sources == [
        "\n\nlabel = 'sub'",
        "rows = [i * scale for i in range(n)]",
        "summary = f'{label}:{sum(rows)}'",
    ]
    assert {b.cell for b in prep.blocks} == {1}


def test_only_the_listed_parameters_are_passed_and_kales_tag_marks_its_parameters_cell(
    tmp_path: Path,
) -> None:
    prep_notebook(tmp_path, tag="pipeline-parameters")
    nb = host_notebook(
        tmp_path, code("", step="prep", notebook="prep.ipynb", outputs=["rows", "summary"], parameters=["n"])
    )
    pipeline, _ = compile_notebook(nb)
    assert pipeline.steps[0].parameters == ["n"]
    assert pipeline.steps[0].blocks[0].source == "\nscale = 10\nlabel = 'sub'"


def test_a_parameter_the_notebook_lacks_is_a_lint_error_naming_both(tmp_path: Path) -> None:
    prep_notebook(tmp_path)
    nb = host_notebook(
        tmp_path,
        code(
            "",
            step="prep",
            notebook="prep.ipynb",
            outputs=["rows", "summary"],
            parameters=["n", "scale", "lr"],
        ),
    )
    assert codes(nb) == [
        (
            "KF603",
            "step 'prep' passes 'lr' to 'prep.ipynb', but 'lr' is not a parameter of this pipeline.",
        )
    ]
    nb2 = host_notebook(
        tmp_path,
        code("%%step prep --notebook prep.ipynb --outputs rows summary --parameters n epochs\n#"),
        name="host2.ipynb",
    )
    text = nb2.read_text().replace('"n = 5\\n', '"epochs = 4\\nn = 5\\n')
    nb2.write_text(text)
    assert codes(nb2) == [
        (
            "KF602",
            "step 'prep' passes parameter 'epochs' to notebook 'prep.ipynb', which has no parameter 'epochs' "
            "(its parameters: label, n, scale).",
        )
    ]


def test_an_output_the_notebook_never_assigns_and_code_in_the_step_cell_are_lint_errors(
    tmp_path: Path,
) -> None:
    prep_notebook(tmp_path)
    nb = host_notebook(
        tmp_path, code("%%step prep --notebook prep.ipynb --outputs rows summary model\nx = 1")
    )
    assert codes(nb) == [
        ("KF604", "step 'prep' declares output 'model', which notebook 'prep.ipynb' never assigns."),
        ("KF605", "step 'prep' runs notebook 'prep.ipynb', so the code in cell(s) 1 would not run."),
    ]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("missing.ipynb", "does not exist"),
        ("../prep.ipynb", "outside this notebook's folder"),
        ("host.ipynb", "this notebook itself"),
    ],
)
def test_a_notebook_that_cannot_be_run_is_named(tmp_path: Path, path: str, message: str) -> None:
    prep_notebook(tmp_path)
    folder = tmp_path / "sub"
    folder.mkdir()
    nb = host_notebook(folder, code("", step="prep", notebook=path, outputs=["rows", "summary"]))
    found = [m for c, m in codes(nb) if c == "KF601"]
    assert len(found) == 1 and message in found[0], codes(nb)


def test_both_syntaxes_refuse_outputs_without_a_notebook() -> None:
    with pytest.raises(InvalidInput, match="--outputs and --parameters go with --notebook"):
        parse_step_line("%%step prep --outputs rows")
    with pytest.raises(InvalidInput, match="'outputs' and 'parameters' go with 'notebook'"):
        parse_cell_metadata({"kfjupyter": {"step": "prep", "outputs": ["rows"]}}, 3)
    with pytest.raises(InvalidInput, match="'notebook' is only allowed on a step"):
        parse_cell_metadata({"kfjupyter": {"role": "imports", "notebook": "a.ipynb"}}, 3)
    mark = parse_step_line("%%step prep --notebook 'my prep.ipynb' --outputs a b --parameters")
    assert mark.notebook is not None
    assert (mark.notebook.path, mark.notebook.outputs, mark.notebook.parameters) == (
        "my prep.ipynb",
        ("a", "b"),
        (),
    )


def test_a_plain_step_is_unchanged_by_the_notebook_fields(tmp_path: Path) -> None:
    nb = host_notebook(tmp_path, cell("rows = [1]\nsummary = 's'", "step:prep"))
    pipeline, _ = compile_notebook(nb)
    assert pipeline.steps[0].blocks[0].source == "rows = [1]\nsummary = 's'"
