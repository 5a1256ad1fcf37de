"""Which step cells a kernel ran differently from the saved notebook (no front end to save it)."""

from __future__ import annotations

from kfjupyter.ipython.save_first import differing_steps

CELLS = [
    ("load", "%%step load\ndata = list(range(10))"),
    ("train", "model = sum(data) * 2\nprint('trained', model)"),
    ("report", "print('report')"),
]


def test_cells_run_as_saved_are_fine() -> None:
    assert differing_steps(CELLS, ["%%step load\ndata = list(range(10))  ", "print('report')"]) == []


def test_the_newest_version_decides() -> None:
    history = ["%%step load\ndata = list(range(5))", "%%step load\ndata = list(range(10))"]
    assert differing_steps(CELLS, history) == []  # edited, then put back as saved
    assert differing_steps(CELLS, list(reversed(history))) == ["load"]


def test_an_edited_cell_is_recognised_by_its_step_line_or_by_resemblance() -> None:
    history = [
        "%%step load --retries 2\ndata = list(range(3))",
        "model = sum(data) * 3\nprint('trained', model)",
        "x = 1",  # unrelated input
    ]
    assert differing_steps(CELLS, history) == ["load", "train"]
