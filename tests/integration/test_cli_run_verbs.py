"""``kfjupyter runs cancel | rerun | delete | compare`` as users and tools call them: real subprocesses.

Every verb with ``--json`` prints exactly one JSON object on stdout, an error too.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kfjupyter.errors import NotFound
from kfjupyter.store import open_store
from tests.support.cli import kf
from tests.support.notebooks import cell, write_notebook

pytestmark = pytest.mark.integration

STEP = "import time, kfjupyter\ntime.sleep(pause)\nkfjupyter.log_metric('loss', n / 10)\nprint(f'value={n}')"


def one_object(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    body = json.loads(done.stdout)  # the whole of stdout is one object
    assert isinstance(body, dict), done.stdout
    return body


def printed(home: Path, run_id: str) -> str:
    with open_store(home) as store:
        return store.read_log(run_id, "show").text.rsplit("value=", 1)[1].split()[0]


def wait_step_running(home: Path, run_id: str, timeout: float = 60) -> None:
    """Until a step of ``run_id`` runs (the run appears only once its process has compiled the notebook)."""
    deadline = time.monotonic() + timeout
    with open_store(home) as store:
        while True:
            with contextlib.suppress(NotFound):
                if any(s.status == "running" for s in store.get_steps(run_id)):
                    return
            assert time.monotonic() < deadline, f"no step of {run_id} started in {timeout} s"
            time.sleep(0.1)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    return write_notebook(
        tmp_path / "values.ipynb", [cell("n = 1\npause = 0", "pipeline-parameters"), cell(STEP, "step:show")]
    )


def test_rerun_compare_and_delete(home: Path, notebook: Path) -> None:
    first = one_object(kf(home, "run", str(notebook), "-p", "n=3", "--json"))
    assert first["status"] == "succeeded"

    done = kf(home, "runs", "rerun", first["run_id"], "-p", "n=5", "--wait", "--json")
    assert done.returncode == 0, done.stderr
    again = one_object(done)
    assert again["run_id"] != first["run_id"] and again["rerun_of"] == first["run_id"]
    assert (again["status"], again["backend"]) == ("succeeded", "local")
    with open_store(home) as store:
        assert store.get_run(again["run_id"]).parameters == {"n": 5, "pause": 0}
    assert printed(home, again["run_id"]) == "5"

    compared = one_object(kf(home, "runs", "compare", first["run_id"], again["run_id"], "--json"))
    assert [r["run_id"] for r in compared["runs"]] == [first["run_id"], again["run_id"]]
    assert compared["differing"] == ["n"] and compared["parameters"] == ["n", "pause"]
    assert compared["best"] == {"loss": first["run_id"]}  # lower is better for a loss
    assert compared["runs"][1]["metrics"] == {"loss": 0.5}
    table = kf(home, "runs", "compare", first["run_id"], again["run_id"]).stdout.splitlines()
    assert table[0].split() == [first["run_id"], again["run_id"]]
    assert "*n" in table[2] and table[-1].split() == ["metric", "loss", "0.3*", "0.5"]

    only = one_object(kf(home, "runs", "rerun", again["run_id"], "--only", "show", "--wait", "--json"))
    assert only["status"] == "succeeded" and printed(home, only["run_id"]) == "5"

    deleted = one_object(kf(home, "runs", "delete", first["run_id"], "--json"))
    assert deleted == {"run_id": first["run_id"], "deleted": True}
    gone = kf(home, "runs", "show", first["run_id"])
    assert gone.returncode == 2 and "does not exist" in gone.stderr


def test_cancel_stops_a_running_run(home: Path, notebook: Path) -> None:
    env = {**os.environ, "KFJUPYTER_HOME": str(home)}
    driver = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kfjupyter.cli.main",
            "run",
            str(notebook),
            "-p",
            "pause=300",
            "--run-id=slow-1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not (home / "runs.db").exists():
            assert time.monotonic() < deadline and driver.poll() is None
            time.sleep(0.1)
        wait_step_running(home, "slow-1")
        assert driver.poll() is None
        still = kf(home, "runs", "rerun", "slow-1", "--json")
        assert still.returncode == 2 and one_object(still)["error"] == {
            "message": "run slow-1 is still running; wait for it to end or cancel it first",
            "reason": "conflict",
        }
        busy = kf(home, "runs", "delete", "slow-1", "--json")
        assert busy.returncode == 2 and one_object(busy)["error"] == {
            "message": "Run slow-1 is running; cancel it before deleting.",
            "reason": "run_active",
        }

        cancelled = one_object(kf(home, "runs", "cancel", "slow-1", "--json"))
        assert cancelled["run_id"] == "slow-1" and cancelled["pid"] == driver.pid
        driver.wait(timeout=30)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    with open_store(home) as store:
        assert store.get_run("slow-1").status == "cancelled"
    again = kf(home, "runs", "cancel", "slow-1", "--json")
    assert again.returncode == 2
    assert one_object(again)["error"]["message"] == (
        "run slow-1 is cancelled; only a pending or running run can be cancelled"
    )


@pytest.mark.parametrize(
    ("args", "reason", "message"),
    [
        (["runs", "rerun", "nope"], "run_not_found", "Run nope does not exist."),
        (["runs", "cancel", "nope"], "run_not_found", "Run nope does not exist."),
        (["runs", "delete", "nope"], "run_not_found", "Run nope does not exist."),
        (["runs", "compare", "only-one"], "invalid", "run ids: compare 2 to 50 runs, got 1"),
        (["runs", "compare", "a", "a"], "invalid", "run ids: compare distinct runs; an id is given twice"),
        (["runs", "rerun", "nope", "-p", "n"], "invalid", "-p: 'n' is not NAME=VALUE"),
    ],
)
def test_refusals_are_one_json_object(home: Path, args: list[str], reason: str, message: str) -> None:
    done = kf(home, *args, "--json")
    assert done.returncode == 2, done.stderr
    assert one_object(done)["error"] == {"message": message, "reason": reason}
    assert done.stderr.strip() == f"kfjupyter: error: {message}"


def test_rerun_of_a_notebook_that_is_gone_says_so(home: Path, notebook: Path) -> None:
    first = one_object(kf(home, "run", str(notebook), "--json"))
    notebook.unlink()
    done = kf(home, "runs", "rerun", first["run_id"], "--json")
    assert done.returncode == 2
    assert one_object(done)["error"] == {
        "message": f"the notebook of run {first['run_id']}, {str(notebook)!r}, no longer exists",
        "reason": "not_found",
    }
