"""Kale-tagged notebooks through the real ``kfjupyter`` command: metrics, refusals and JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_cli_pipeline import kf
from tests.support.notebooks import cell, write_notebook


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_every_print_line_of_the_metrics_cell_is_recorded_parameters_included(
    tmp_path: Path, home: Path
) -> None:
    nb = write_notebook(
        tmp_path / "nb.ipynb",
        [
            cell("lr = 0.5", "pipeline-parameters"),
            cell("acc = lr * 2", "step:train"),
            cell("print(acc)\nprint(lr)", "pipeline-metrics"),
        ],
    )
    done = kf(home, "run", str(nb), "-p", "lr=0.25", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["metrics"] == {"acc": 0.5, "lr": 0.25}
