"""Lint: one test per diagnostic code, ordering, and the compile contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kfjupyter.compiler.lint import compile_notebook, lint_notebook, raise_on_errors
from kfjupyter.errors import InvalidInput
from kfjupyter.notebook.diagnostics import Diagnostic
from tests.unit.notebook.nbfactory import code, markdown, notebook


def lint(*cells: Any, target: Any = "cluster", **metadata: Any) -> list[Diagnostic]:
    return lint_notebook(notebook(*cells, **metadata), target=target)


def only(diags: list[Diagnostic], code_: str) -> Diagnostic:
    found = [d for d in diags if d.code == code_]
    assert len(found) == 1, diags
    return found[0]


def test_clean_notebook_has_no_diagnostics() -> None:
    assert lint(code("import math", "imports"), code("a = math.pi", "step:a"), code("b = a", "step:b")) == []


def test_kf101_undefined_name_names_cell_line_and_name() -> None:
    diags = lint(code("a = 1", "step:a"), markdown("x"), code("b = a\nc = undefined_thing + a", "step:b"))
    d = only(diags, "KF101")
    assert (d.severity, d.cell, d.line, d.step) == ("error", 2, 2, "b")
    assert "'undefined_thing'" in d.message
    assert "cell 2, line 2" in d.message


def test_kf101_suggests_close_names_and_later_definitions() -> None:
    typo = only(lint(code("dataframe = 1", "step:a"), code("x = datafram", "step:b")), "KF101")
    assert "Did you mean 'dataframe'?" in typo.hint
    later = only(lint(code("x = late", "step:a"), code("late = 1", "step:b")), "KF101")
    assert "assigned in step 'b' (cell 1), which comes later" in later.hint


def test_kf101_line_accounts_for_the_step_magic_line() -> None:
    d = only(lint(code("%%step a\nx = 1\ny = nope")), "KF101")
    assert (d.cell, d.line) == (0, 3)


def test_kf101_in_setup_code() -> None:
    d = only(lint(code("x = from_a_step", "imports"), code("from_a_step = 1", "step:a")), "KF101")
    assert (d.cell, d.step) == (0, None)
    assert "set-up" in d.message


def test_star_import_in_setup_silences_undefined_names() -> None:
    assert lint(code("from math import *", "imports"), code("x = sqrt(2)", "step:a")) == []


def test_in_place_changes_of_upstream_objects_travel_without_a_warning() -> None:
    p, diags = compile_notebook(
        notebook(
            code("import pandas as pd", "imports"),
            code("df = pd.DataFrame({'a': [1]})\nrows = []", "step:load"),
            code("df.drop(columns=['a'], inplace=True)\nrows.append(1)", "step:clean"),
            code("print(df, rows)", "step:report"),
        ),
        target="cluster",
    )
    assert diags == []
    assert p.step("report").inputs == {"df": "clean", "rows": "clean"}
    assert p.step("clean").changes == ["df", "rows"]


def test_kf102_module_state_changed_by_a_step_and_used_later() -> None:
    diags = lint(
        code("import os\nimport numpy as np\nCONFIG = {}", "imports"),
        code("os.environ['A'] = '1'\nnp.random.seed(0)\nCONFIG['k'] = 1", "step:a"),
        code("x = np.random.rand()\nk = CONFIG['k']", "step:b"),
    )
    (d,) = diags
    assert (d.code, d.severity, d.cell, d.line, d.step) == ("KF102", "warning", 1, 2, "a")
    assert "module 'np'" in d.message and "step 'b' uses 'np' later" in d.message


def test_kf102_not_raised_when_no_later_step_reads_the_changed_module() -> None:
    assert (
        lint(code("import os", "imports"), code("os.environ['A'] = '1'", "step:a"), code("b = 1", "step:b"))
        == []
    )


def test_kf102_not_raised_when_the_step_rebinds_the_name() -> None:
    assert lint(code("xs = []", "step:a"), code("xs = list(xs)\nxs.append(1)", "step:b")) == []


def test_kf104_unsure_change_names_step_variable_and_why_only_when_read_later() -> None:
    cells = [
        code("model = object()\nX = [1]", "step:load"),
        code("model.fit(X)", "step:train"),
    ]
    assert lint(*cells) == []
    diags = lint(*cells, code("p = model.predict(X)", "step:use"))
    assert [(d.code, d.severity, d.cell, d.line, d.step) for d in diags] == [
        ("KF104", "info", 1, 1, "train"),
        ("KF104", "info", 1, 1, "train"),
    ]
    messages = sorted(d.message for d in diags)
    assert "step 'train' may change 'X' ('X' is passed to .fit(), cell 1, line 1)" in messages[0]
    assert (
        "step 'train' may change 'model' ('model' has .fit() called on it, whose effects are unknown"
        in messages[1]
    )
    assert "step 'use' and later readers take 'model' from 'train'" in messages[1]
    assert "--pure" in diags[0].hint


def test_kf101_hint_names_a_reused_step_name_not_a_cell_order() -> None:
    d = only(
        lint(
            code("df = 1", "step:load"),
            code("model = df + 1", "step:train"),
            code("score = model * 2", "step:load"),
        ),
        "KF101",
    )
    assert (d.cell, d.step) == (2, "load")
    assert "reuses that step's name" in d.hint and "comes later" not in d.hint
    assert "Give cell 2 a step name of its own" in d.hint


def test_kf103_syntax_error() -> None:
    d = only(lint(code("a = 1", "step:a"), code("\nb = (", "step:b")), "KF103")
    assert (d.severity, d.cell, d.line) == ("error", 1, 2)


def test_kf201_kf202_step_names() -> None:
    diags = lint(code("a = 1", "step:Bad-Name"), code("b = 1", "step:b"), code("c = 1", "step:b"))
    assert [d.code for d in diags] == ["KF201", "KF202"]


def test_kf203_missing_prev() -> None:
    d = only(lint(code("a = 1", "step:load"), code("b = 1", "step:b", "prev:laod")), "KF203")
    assert (d.cell, d.step) == (1, "b")
    assert "'laod'" in d.message
    assert "Did you mean 'load'?" in d.hint


def test_kf204_cycle_names_the_steps() -> None:
    pipeline, diags = compile_notebook(
        notebook(code("a = 1", "step:a", "prev:c"), code("b = a", "step:b"), code("c = b", "step:c")),
        target="cluster",
    )
    d = only(diags, "KF204")
    assert "a -> b -> c -> a" in d.message
    assert sorted(s.name for s in pipeline.steps) == ["a", "b", "c"]


def test_kf204_step_after_itself() -> None:
    d = only(lint(code("a = 1", "step:a", "prev:a")), "KF204")
    assert "a -> a" in d.message


def test_kf3xx_parameters() -> None:
    diags = lint(
        code("n = 1\nm = n * 2\nimport os\nt = (1, 2)\nnone = None\nn = 3", "pipeline-parameters"),
        code("x = n + m", "step:a"),
    )
    assert [(d.code, d.line) for d in diags] == [
        ("KF301", 2),
        ("KF301", 3),
        ("KF302", 4),
        ("KF302", 5),
        ("KF303", 6),
    ]


def test_kf001_kf004() -> None:
    assert [(d.code, d.severity) for d in lint(code("x = 1"))] == [("KF001", "error")]
    assert [d.code for d in lint(code("x = 1"), code("y = x", "step:a"))] == ["KF004"]


def test_kf4xx_only_when_running_locally() -> None:
    cells = (
        code(
            "a = 1",
            "step:a",
            "limit:nvidia.com/gpu:1",
            "limit:cpu:1",
            "image:img:1",
            "secret:s:k:TOKEN",
        ),
    )
    local = lint(*cells, target="local", kubeflow_notebook={"volumes": [{"name": "v", "mount_point": "/d"}]})
    assert [(d.code, d.severity) for d in local] == [
        ("KF401", "info"),
        ("KF402", "info"),
        ("KF403", "warning"),
        ("KF404", "warning"),
        ("KF406", "info"),
    ]
    assert "TOKEN" in local[3].message
    assert lint(*cells, target="cluster") == []


def test_diagnostics_are_sorted_by_cell_then_line() -> None:
    diags = lint(
        code("x = nope1\ny = nope2", "step:a"),
        code("a = 1", "step:Bad"),
        code("z = nope3", "step:c"),
    )
    keys = [(d.cell, d.line or 0) for d in diags]
    assert keys == sorted(keys)
    assert [d.code for d in diags] == ["KF101", "KF101", "KF201", "KF101"]


def test_compile_never_raises_for_cell_problems() -> None:
    pipeline, diags = compile_notebook(
        notebook(code("a = (", "step:a", "limit:cpu"), code("%%step --gpu x"), code("b", kf={"bogus": 1}))
    )
    assert {d.code for d in diags} >= {"KF003", "KF103"}
    assert [s.name for s in pipeline.steps] == ["a", "unnamed"]


def test_compile_raises_for_an_unreadable_notebook(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_text("not json", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"bad\.ipynb"):
        compile_notebook(bad)


def test_raise_on_errors() -> None:
    raise_on_errors(lint(code("a = 1", "step:a")))
    with pytest.raises(InvalidInput, match=r"2 error\(s\); first: KF101 cell 0, line 1: name 'q'"):
        raise_on_errors(lint(code("a = q", "step:a"), code("b = r", "step:b")))


def test_two_hundred_cells_lint_and_graph() -> None:
    # The time this takes is measured by bench/mutation.py, not asserted here.
    cells = [code("import math\nimport os", "imports"), code("n = 10\nscale = 1.5", "pipeline-parameters")]
    for i in range(66):
        prev = f"v{i - 1}" if i else "n"
        cells.append(
            code(f"v{i} = [x * scale for x in range({prev} if isinstance({prev}, int) else 3)]", f"step:s{i}")
        )
        cells.append(code(f"def helper_{i}(a):\n    return math.sqrt(len(a)) + {i}\nw{i} = helper_{i}(v{i})"))
        cells.append(code(f"%time u{i} = sorted(v{i})\nprint(u{i}, w{i})"))
    nb = notebook(*cells)
    pipeline, diags = compile_notebook(nb)
    assert len(cells) == 200
    assert len(pipeline.steps) == 66
    assert [d for d in diags if d.severity == "error"] == []


def test_kf105_a_pure_step_that_surely_changes_what_a_later_step_reads() -> None:
    diags = lint(
        code("rows = []", "step:load"),
        code("%%step add --pure\nrows.append(1)"),
        code("n = len(rows)", "step:count"),
    )
    d = only(diags, "KF105")
    assert (d.severity, d.cell, d.line, d.step) == ("warning", 1, 2, "add")
    assert (
        "declared pure but changes 'rows'" in d.message
        and "step 'count' takes 'rows' from 'add'" in d.message
    )
    assert lint(code("rows = []", "step:load"), code("%%step add --pure\nrows.append(1)")) == []
