"""Steps that tamper with their own run files: the step fails, the run carries on to its end.

A step runs user code with the user's rights, so it can replace anything in its run's folder
(its log, its metrics file, its step folder). Whatever it does, the driving process must survive:
that step fails with a message saying what it did, independent steps still run, and the run ends
with a final status.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kfjupyter.api import run_notebook
from kfjupyter.store import RunStore
from tests.support.notebooks import cell, write_notebook

LOG = "import os, pathlib\nlog = pathlib.Path(os.environ['KFJUPYTER_STEP_DIR']).parents[1] / 'logs' / 'bad.log'\n"
METRICS = "import os, pathlib\nmetrics = pathlib.Path(os.environ['KFJUPYTER_STEP_DIR']) / 'metrics.jsonl'\n"

# (id, the code of step 'bad', a piece of its error)
TAMPERING = [
    ("log-symlink-out", LOG + "log.unlink()\nlog.symlink_to('/etc/hostname')", "log"),
    ("log-symlink-loop", LOG + "log.unlink()\nlog.symlink_to(log)", "log"),
    ("log-a-folder", LOG + "log.unlink()\nlog.mkdir()", "log"),
    ("metrics-garbage", METRICS + "metrics.write_text('{not json\\n')", "metrics"),
    ("metrics-a-folder", METRICS + "metrics.mkdir()", "metrics"),
    ("metrics-symlink", METRICS + "metrics.symlink_to('/etc/passwd')", "metrics"),
    (
        "metrics-not-numbers",
        METRICS + 'metrics.write_text(\'{"name": "x", "value": "high", "index": 0, "ts": 0}\\n\')',
        "metrics",
    ),
]


@pytest.mark.parametrize(("code", "words"), [t[1:] for t in TAMPERING], ids=[t[0] for t in TAMPERING])
def test_a_step_that_tampers_with_its_files_fails_and_the_run_carries_on(
    tmp_path: Path, store: RunStore, code: str, words: str
) -> None:
    nb = write_notebook(
        tmp_path / "hostile.ipynb",
        [
            cell("print('working', flush=True)\n" + code + "\nx = 1", "step:bad"),
            cell("y = 2\nprint('fine')", "step:good"),
        ],
    )
    run = run_notebook(nb, store=store, cache=False)
    steps = {s.name: s for s in run.steps}
    assert run.status == "failed", run.to_json()
    assert steps["good"].status == "succeeded"
    assert steps["bad"].status == "failed"
    assert words in (steps["bad"].error or ""), steps["bad"].error
    assert "bad" in (run.record.error or "")
    # Nothing recorded for the step points out of its run's folder.
    run_dir = store.run_dir(run.id).resolve()
    for artifact in store.list_artifacts(run.id):
        assert store.resolve(artifact.path).resolve().is_relative_to(run_dir), artifact


def test_a_driver_that_fails_mid_run_leaves_the_run_interrupted_not_running(
    tmp_path: Path, store: RunStore
) -> None:
    # The driver lives on in this process (as in a notebook kernel), so no liveness check can
    # tell that it stopped driving: the run must say so itself, and its steps must not linger.
    nb = write_notebook(
        tmp_path / "slow.ipynb",
        [cell("import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(300)", "step:slow")],
    )
    pids: list[int] = []

    def broken_display(step: str, status: str, detail: str) -> None:
        if status != "running":
            return
        deadline = time.monotonic() + 30
        while not (text := store.read_log("driver-fails", "slow").text.split()):
            assert time.monotonic() < deadline, "the step never started"
            time.sleep(0.05)
        pids.append(int(text[-1]))
        raise RuntimeError("the display went away")

    with pytest.raises(RuntimeError, match="the display went away"):
        run_notebook(nb, store=store, cache=False, on_event=broken_display, run_id="driver-fails")
    record = store.get_run("driver-fails")
    assert record.status == "interrupted", record
    assert "RuntimeError: the display went away" in (record.error or "")
    step = store.get_steps("driver-fails")[0]
    assert step.status == "interrupted", step
    pid = pids[0]
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists(), "the step process outlived its driver"
