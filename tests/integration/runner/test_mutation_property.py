"""Property: generated notebooks give the same values under the local runner as top to bottom."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kfjupyter.api import run_notebook
from kfjupyter.store import open_store
from tests.support.mutation_programs import Program, notebook_cells, parse_printed, programs, top_to_bottom
from tests.support.notebooks import cell, write_notebook


@settings(max_examples=4)
@given(st.lists(programs(), min_size=3, max_size=5))
def test_pipeline_values_equal_a_top_to_bottom_run(progs: list[Program]) -> None:
    cells = notebook_cells(progs)
    expected = top_to_bottom(cells)
    with tempfile.TemporaryDirectory() as tmp:
        nb = write_notebook(
            Path(tmp) / "generated.ipynb",
            [cell(source, tag) for source, tag in cells],
        )
        with open_store(Path(tmp) / "home") as store:
            run = run_notebook(nb, store=store, cache=False)
            assert run.status == "succeeded", run.to_json()
            printed: dict[str, object] = {}
            for step in run.steps:
                if step.name.endswith("_show"):
                    printed.update(parse_printed(_stdout(store.read_log(run.id, step.name).text)))
    assert printed == expected, "\n\n".join(source for source, _ in cells)


def _stdout(log: str) -> str:
    return "\n".join(line.split(" stdout ", 1)[1] for line in log.splitlines() if " stdout " in line)
