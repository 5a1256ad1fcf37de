"""Which steps ``--from`` / ``--only`` run, need and leave out; what the plan says changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfjupyter.compiler.ir import Pipeline
from kfjupyter.compiler.lint import compile_notebook
from kfjupyter.errors import InvalidInput
from kfjupyter.runner.selection import select
from kfjupyter.runner.stepinputs import CellHash, KeyParts, explain
from tests.support.notebooks import cell, write_notebook


@pytest.fixture
def diamond(tmp_path: Path) -> Pipeline:
    """a -> b, a -> c, (b, c) -> d; e stands alone."""
    nb = write_notebook(
        tmp_path / "nb.ipynb",
        [
            cell("%%step a\nx = 1"),
            cell("%%step b\ny = x + 1"),
            cell("%%step c\nz = x + 2"),
            cell("%%step d\nw = y + z"),
            cell("%%step e\nq = 5"),
        ],
    )
    pipeline, _ = compile_notebook(nb)
    return pipeline


def test_from_runs_the_step_and_everything_below_and_needs_what_is_above(diamond: Pipeline) -> None:
    chosen = select(diamond, from_step="b")
    assert chosen.forced == {"b", "d"}
    assert chosen.needed == {"a", "c"}  # c feeds d, which runs again
    assert chosen.skipped == {"e"}
    assert chosen.option == "--from b"


def test_only_runs_one_step_and_needs_its_ancestors(diamond: Pipeline) -> None:
    chosen = select(diamond, only="d")
    assert (chosen.forced, chosen.needed, chosen.skipped) == ({"d"}, {"a", "b", "c"}, {"e"})
    top = select(diamond, only="a")
    assert (top.forced, top.needed, top.skipped) == ({"a"}, set(), {"b", "c", "d", "e"})


def test_no_option_selects_everything(diamond: Pipeline) -> None:
    chosen = select(diamond)
    assert not chosen.partial and not chosen.forced and not chosen.skipped


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"from_step": "b", "only": "c"}, "give --from STEP or --only STEP, not both"),
        ({"from_step": "nope"}, "--from: the notebook has no step 'nope'; its steps are: a, b, c, d, e"),
        ({"only": "nope"}, "--only: the notebook has no step 'nope'"),
        ({"reuse": "260101-000000-abcd"}, "--reuse RUN goes with --from STEP or --only STEP"),
    ],
)
def test_bad_options_are_named(diamond: Pipeline, kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput) as error:
        select(diamond, **kwargs)  # type: ignore[arg-type]
    assert message in error.value.message


def _parts(**fields: object) -> KeyParts:
    base: dict[str, object] = {
        "code": [CellHash(cell=3, sha256="a"), CellHash(cell=4, sha256="b")],
        "setup": [CellHash(cell=0, sha256="s")],
        "parameters": {"lr": 0.1},
        "inputs": {"df": "h1"},
        "producers": {"df": "load"},
        "env": "e1",
    }
    base.update(fields)
    return KeyParts.model_validate(base)


def test_explain_names_the_cell_input_parameter_and_environment() -> None:
    before = _parts()
    assert explain(before, _parts()) == []
    assert explain(before, _parts(code=[CellHash(cell=3, sha256="a"), CellHash(cell=4, sha256="B")])) == [
        "cell 4 changed"
    ]
    assert explain(before, _parts(setup=[CellHash(cell=0, sha256="S")])) == ["set-up cell 0 changed"]
    assert explain(before, _parts(parameters={"lr": 0.01})) == ["parameter 'lr' changed (0.1 -> 0.01)"]
    assert explain(before, _parts(inputs={"df": "h2"})) == ["input 'df' from step 'load' changed"]
    assert explain(before, _parts(env="e2")) == [
        "the environment changed (Python, kfjupyter or installed packages)"
    ]
    assert explain(before, _parts(code=[CellHash(cell=3, sha256="a")])) == ["cells were removed or reordered"]


def test_the_environment_is_the_same_whichever_name_started_the_interpreter() -> None:
    """``python`` and ``python3`` of one environment (a kernel, the CLI) share the cache."""
    import os
    import subprocess
    import sys

    code = "from kfjupyter.runner.cache import environment_fingerprint as f; print(f())"
    names = [Path(sys.executable).parent / n for n in ("python", "python3")]
    assert all(n.exists() for n in names), names
    seen = set()
    for exe in names:
        done = subprocess.run(
            [str(exe), "-c", code],
            capture_output=True,
            text=True,
            env=os.environ.copy(),
            timeout=60,
            check=True,
        )
        seen.add(done.stdout.strip())
    assert len(seen) == 1
