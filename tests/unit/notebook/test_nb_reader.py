from __future__ import annotations

import json
from pathlib import Path

import pytest

from kfjupyter.errors import InvalidInput
from kfjupyter.notebook.reader import read_notebook
from tests.unit.notebook.nbfactory import code, markdown, notebook, write


def test_reads_path_and_dict(tmp_path: Path) -> None:
    nb = notebook(code("x = 1", "step:a"), markdown("# title"))
    path = tmp_path / "My Notebook.ipynb"
    write(nb, path)
    from_path = read_notebook(path)
    from_dict = read_notebook(nb)
    assert [c.cell_type for c in from_path.cells] == ["code", "markdown"]
    assert from_path.cells[0].tags == ["step:a"]
    assert from_path.name == "my-notebook"
    assert from_path.path == path
    assert from_dict.name == "pipeline"
    assert from_dict.cells[0].source == "x = 1"
    assert read_notebook(from_dict) is from_dict


def test_source_given_as_list_of_lines_is_joined() -> None:
    raw = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [{"cell_type": "code", "source": ["a = 1\n", "b = 2"], "metadata": {}, "outputs": []}],
    }
    assert read_notebook(raw).cells[0].source == "a = 1\nb = 2"


def test_pipeline_name_from_metadata() -> None:
    nb = notebook(kubeflow_notebook={"pipeline_name": "churn-model"})
    assert read_notebook(nb).name == "churn-model"


def test_invalid_json_names_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"broken\.ipynb.*not valid JSON.*line 1"):
        read_notebook(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"nope\.ipynb.*does not exist"):
        read_notebook(tmp_path / "nope.ipynb")


def test_unreadable_path_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read notebook"):
        read_notebook(tmp_path)


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "x.ipynb"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InvalidInput, match="not UTF-8"):
        read_notebook(path)


def test_old_nbformat_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": []}), encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"old\.ipynb.*format v3.*upgrade"):
        read_notebook(path)


def test_missing_nbformat_version() -> None:
    with pytest.raises(InvalidInput, match="no 'nbformat' version"):
        read_notebook({"cells": []})


@pytest.mark.parametrize(
    "metadata",
    [
        {"kernelspec": {"name": "ir", "display_name": "R", "language": "R"}},
        {"language_info": {"name": "julia"}},
    ],
)
def test_non_python_kernel_is_rejected(metadata: dict[str, object]) -> None:
    nb = notebook(code("1"))
    nb.metadata = metadata
    with pytest.raises(InvalidInput, match="kernel; kfjupyter pipelines need Python"):
        read_notebook(nb)


def test_malformed_cells() -> None:
    with pytest.raises(InvalidInput, match="no list of cells"):
        read_notebook({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": {}})
    with pytest.raises(InvalidInput, match="cell 0 is malformed"):
        read_notebook({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"source": ""}]})
