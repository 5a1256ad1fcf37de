"""The %%step magic in a real IPython shell."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config


@pytest.fixture
def shell() -> Iterator[Any]:
    config = Config()
    config.HistoryManager.enabled = False
    sh = InteractiveShell(config=config)
    sh.run_line_magic("load_ext", "kfjupyter")
    yield sh
    sh.cleanup()


def test_step_magic_runs_the_cell(shell: Any) -> None:
    shell.run_cell("%%step train --after load --gpu 1\nresult = 6 * 7")
    assert shell.user_ns["result"] == 42


def test_bad_step_line_names_the_problem_and_does_not_run(
    shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_cell("%%step train --gpu many\nresult = 1")
    assert "result" not in shell.user_ns
    assert "--gpu" in capsys.readouterr().out
