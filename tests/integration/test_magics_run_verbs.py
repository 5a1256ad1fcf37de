"""``%kf rerun`` and ``%kf cancel`` in a real IPython shell, on real runs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kfjupyter.store import RunRecord, open_store
from tests.support.ipython import kf_shell
from tests.support.notebooks import cell, write_notebook

pytestmark = pytest.mark.integration


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("KFJUPYTER_HOME", str(tmp_path / "home"))
    with kf_shell() as sh:
        yield sh


@pytest.fixture
def notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    nb = write_notebook(
        tmp_path / "nb.ipynb",
        [
            cell("n = 2\npause = 0", "pipeline-parameters"),
            cell(
                "import time\nprint('started', flush=True)\ntime.sleep(pause)\nprint('n is', n)", "step:calc"
            ),
        ],
    )
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb))
    return nb


def wait(home: Path, run_id: str, done: Any, timeout: float = 60) -> RunRecord:
    deadline = time.monotonic() + timeout
    with open_store(home) as store:
        while True:
            store.mark_interrupted()
            run = store.get_run(run_id)
            if done(run, store.get_steps(run_id)):
                return run
            assert time.monotonic() < deadline, run
            time.sleep(0.1)


def new_run_id(out: str) -> str:
    """The id in ``run NEW started again from run OLD: STATUS``."""
    assert " started again from run " in out, out
    return out.split("run ", 1)[1].split(" ", 1)[0]


def test_kf_rerun_starts_the_run_again_with_changed_parameters(
    shell: Any, tmp_path: Path, notebook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_line_magic("kf", "run -p n=3")
    first = capsys.readouterr().out.split("run ", 1)[1].split(":", 1)[0]
    shell.run_line_magic("kf", f"rerun {first} -p n=7 --no-cache")
    again = new_run_id(capsys.readouterr().out)
    assert again != first
    home = tmp_path / "home"
    ended = wait(home, again, lambda run, _: run.status not in ("pending", "running"))
    assert ended.status == "succeeded" and ended.parameters["n"] == 7
    shell.run_line_magic("kf", f"logs {again} calc")
    assert "n is 7" in capsys.readouterr().out


def test_kf_cancel_stops_a_running_run(
    shell: Any, tmp_path: Path, notebook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_line_magic("kf", "run")
    first = capsys.readouterr().out.split("run ", 1)[1].split(":", 1)[0]
    shell.run_line_magic("kf", f"rerun {first} -p pause=300")
    slow = new_run_id(capsys.readouterr().out)
    home = tmp_path / "home"
    wait(home, slow, lambda _, steps: any(s.status == "running" for s in steps))
    shell.run_line_magic("kf", f"rerun {slow}")
    assert capsys.readouterr().out.strip() == (
        f"kfjupyter: run {slow} is still running; wait for it to end or cancel it first"
    )
    shell.run_line_magic("kf", f"cancel {slow}")
    out = capsys.readouterr().out
    assert out.startswith(f"run {slow}: asked to stop (process "), out
    ended = wait(home, slow, lambda run, _: run.status not in ("pending", "running"), timeout=30)
    assert ended.status == "cancelled"
    shell.run_line_magic("kf", f"cancel {slow}")
    assert capsys.readouterr().out.strip() == (
        f"kfjupyter: run {slow} is cancelled; only a pending or running run can be cancelled"
    )


def test_kf_rerun_errors_are_one_line(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    shell.run_line_magic("kf", "rerun nope")
    assert capsys.readouterr().out.strip() == "kfjupyter: Run nope does not exist."
    shell.run_line_magic("kf", "rerun nope -p n")
    assert capsys.readouterr().out.strip() == "kfjupyter: %kf rerun -p: 'n' is not NAME=VALUE"
    shell.run_line_magic("kf", "cancel")
    assert capsys.readouterr().out.startswith("kfjupyter: %kf: the following arguments are required: RUN")
