"""Steps that tamper with their own run files: the step fails, the run carries on to its end.

A step runs user code with the user's rights, so it can replace anything in its run's folder
(its log, its metrics file, its step folder). Whatever it does, the driving process must survive:
that step fails with a message saying what it did, independent steps still run, and the run ends
with a final status.
"""

from __future__ import annotations

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
