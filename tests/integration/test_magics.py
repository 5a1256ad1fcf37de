"""The %%step and %kf magics in a real IPython shell, running real pipelines."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.ipython import shell
from tests.support.notebooks import cell, write_notebook

__all__ = ["shell"]


def test_step_magic_runs_the_cell(shell: Any) -> None:
    shell.run_cell("%%step train --after load --gpu 1\nresult = 6 * 7")
    assert shell.user_ns["result"] == 42


def test_bad_step_line_names_the_problem_and_does_not_run(
    shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_cell("%%step train --gpu many\nresult = 1")
    assert "result" not in shell.user_ns
    assert "--gpu" in capsys.readouterr().out


def test_kf_run_runs_the_notebook_and_kf_logs_reads_it(
    shell: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KFJUPYTER_HOME", str(tmp_path / "home"))
    nb = write_notebook(
        tmp_path / "nb.ipynb",
        [cell("n = 2", "pipeline-parameters"), cell("x = n * 21\nprint('x is', x)", "step:calc")],
    )
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb))
    shell.run_line_magic("kf", "run -p n=3")
    out = capsys.readouterr().out
    assert "calc: succeeded" in out
    run_id = out.split("run ", 1)[1].split(":", 1)[0]
    shell.run_line_magic("kf", "runs")
    assert run_id in capsys.readouterr().out
    shell.run_line_magic("kf", f"logs {run_id} calc")
    assert "x is 63" in capsys.readouterr().out


def test_kf_errors_are_one_line(
    shell: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    shell.run_line_magic("kf", "run")
    assert capsys.readouterr().out.strip() == (
        "kfjupyter: %kf run: cannot tell which notebook this kernel belongs to; pass --notebook PATH"
    )
    shell.run_line_magic("kf", "frobnicate")
    assert capsys.readouterr().out.startswith("kfjupyter: %kf: argument verb: invalid choice")


def test_kf_run_widget_returns_at_once_and_follows_the_run(
    shell: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kfjupyter.ipython.widgets import RunWidget

    monkeypatch.setenv("KFJUPYTER_HOME", str(tmp_path / "home"))
    nb = write_notebook(
        tmp_path / "nb.ipynb", [cell("import time\ntime.sleep(1)\nx = 1\nprint('slept')", "step:slow")]
    )
    shown: list[RunWidget] = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    started = time.monotonic()
    shell.run_line_magic("kf", f"run --widget --notebook {nb}")
    assert time.monotonic() - started < 1.0  # the kernel is not blocked
    (widget,) = shown
    widget.wait(timeout=60)
    assert 'data-status="succeeded"' in widget.header.value
    assert "slow" in widget.steps.value and "slept" in widget.log.value


def test_run_widget_shows_a_run_that_cannot_start(
    shell: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kfjupyter.ipython.widgets import RunWidget

    monkeypatch.setenv("KFJUPYTER_HOME", str(tmp_path / "home"))
    nb = write_notebook(tmp_path / "bad.ipynb", [cell("y = nowhere", "step:s")])
    shown: list[RunWidget] = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    shell.run_line_magic("kf", f"run --widget --notebook {nb}")
    (widget,) = shown
    widget.wait(timeout=30)
    assert "nowhere" in widget.header.value and 'data-status="failed"' in widget.header.value


def test_kf_train_runs_a_script_and_follows_its_logs(
    shell: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KFJUPYTER_HOME", str(tmp_path / "home"))
    script = tmp_path / "fit.py"
    script.write_text(
        "import os, sys\nprint('rank', os.environ['RANK'], 'of', os.environ['WORLD_SIZE'], sys.argv[1:])\n"
    )
    shell.run_line_magic("kf", f"train {script} --procs 2 --backend local --follow -- --lr 0.1")
    out = capsys.readouterr().out
    assert "rank 0 of 2 ['--lr', '0.1']" in out and "rank 1 of 2 ['--lr', '0.1']" in out
    assert out.rstrip().endswith("Complete")


def test_kf_run_without_a_front_end_names_the_step_cells_that_differ_from_the_saved_file(
    shell: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KFJUPYTER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    nb = write_notebook(
        tmp_path / "edited.ipynb",
        [
            cell("%%step calc\nx = 1\nprint('x is', x)"),
            cell("total = 10", "step:tagged"),
            cell("%%step other\ny = 5"),
        ],
    )
    shell.run_cell("%%step calc\nx = 1\nprint('x is', x)", store_history=True)  # as saved
    shell.run_cell("total = 10", store_history=True)
    shell.run_line_magic("kf", f"run --notebook {nb}")
    assert "differ from the saved" not in capsys.readouterr().out
    shell.run_cell("%%step calc\nx = 2\nprint('x is', x)", store_history=True)  # edited, not saved
    shell.run_cell("total = 10 + 1", store_history=True)
    shell.run_line_magic("kf", f"run --notebook {nb}")
    out = capsys.readouterr().out
    assert "warning: step(s) 'calc', 'tagged' differ from the saved edited.ipynb" in out
    assert "'other'" not in out.split("warning:", 1)[1].split("\n", 1)[0]
    assert out.index("warning:") < out.index("calc: ")  # said before the run starts
