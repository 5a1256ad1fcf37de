"""``%kf load`` of a Kubeflow Pipelines run, in a real IPython shell, from artifacts a real KFP executor wrote.

The run is submitted through the real ``kfp.Client`` to the KFP API stand-in (which records it as
``kfjupyter submit`` does: the compiled pipeline kept in the run's folder) and tracked by sync, as
the stand-in's workflow runs its tasks. The artifacts come from executing that same compiled
pipeline with ``kfp.local``'s SubprocessRunner: KFP itself wires the artifacts between tasks and
our step program writes them. ``kfp.local`` names a run's folder ``<pipeline>-<timestamp>``; the
test names it ``<pipeline>/<KFP run id>``, the layout under which a KFP server writes a run's
artifacts into its pipeline root, so the files sit exactly where the cluster's would.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from kfp import components, local
from kfp.local import executor_input_utils, subprocess_task_handler

from kfjupyter.api import run_notebook
from kfjupyter.kfp.connection import KfpConnection
from kfjupyter.kfp.submit import submit_notebook
from kfjupyter.kfp.sync import sync_kfp_runs
from kfjupyter.store import RunStore
from tests.support.ipython import shell
from tests.support.kfp_context import checked_standin
from tests.support.notebooks import cell, write_notebook

__all__ = ["shell"]

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Task .* have no effect in the current local runner:UserWarning"),
]
IMAGE = "python:3.11-kfjupyter"  # a Python image: kfp.local runs its steps in this environment
MOUNTS = "KFJUPYTER_PIPELINE_ROOT_MOUNTS"


@pytest.fixture(autouse=True)
def no_pipeline_root(no_kfp_context: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Besides the KFP context, keep pipeline-root settings out of the tests; HOME exists."""
    (tmp_path / "user").mkdir()
    monkeypatch.delenv(MOUNTS, raising=False)
    monkeypatch.delenv("KFJUPYTER_PIPELINE_ROOT", raising=False)


@pytest.fixture
def notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    nb = write_notebook(
        tmp_path / "Debug Me.ipynb",
        [
            cell("import numpy as np", "imports"),
            cell("scale = 2", "pipeline-parameters"),
            cell("%%step load\ndata = np.arange(6.0)\nnames = ['a', 'b']"),
            cell("%%step prep\nx = data * scale"),
            cell("%%step train\nmodel = x.sum() + len(names)\nassert model < 0, 'not negative'"),
        ],
    )
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb))
    return nb


def run_on_kfp(store: RunStore, notebook: Path, bucket: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Submit with scale=3, execute the compiled pipeline into ``bucket``'s pipeline root, sync; the run id."""
    with checked_standin() as standin:
        done = submit_notebook(
            notebook, KfpConnection(host=standin.url), store=store, overrides=["scale=3"], image=IMAGE
        )
        monkeypatch.setattr(
            subprocess_task_handler.SubprocessTaskHandler, "validate_not_container_component", lambda *_: None
        )
        monkeypatch.setattr(
            executor_input_utils, "get_local_pipeline_resource_name", lambda name: f"{name}/{done.kfp_run_id}"
        )
        root = bucket / "v2" / "artifacts"  # KFP's default pipeline root, minio://mlpipeline/v2/artifacts
        local.init(
            runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root), raise_on_error=False
        )
        components.load_component_from_file(str(store.run_dir(done.record.id) / "pipeline.yaml"))(scale=3)

        standin.start_run(done.kfp_run_id)
        standin.run_task(done.kfp_run_id, "step-load")
        standin.run_task(done.kfp_run_id, "step-prep")
        standin.run_task(done.kfp_run_id, "step-train", exits=(1,))
        assert standin.finish_run(done.kfp_run_id) == "FAILED"
        assert sync_kfp_runs(store).errors == []
    assert [(s.name, s.status) for s in store.get_steps(done.record.id)] == [
        ("load", "succeeded"),
        ("prep", "succeeded"),
        ("train", "failed"),
    ]
    assert (root / "debug-me" / done.kfp_run_id / "step-prep" / "out_x" / "kfjupyter-value.json").is_file()
    return done.record.id


def load(shell: Any, capsys: pytest.CaptureFixture[str], line: str) -> tuple[list[str], dict[str, Any]]:
    """Run ``%kf load LINE`` in a clean namespace; its printed lines and the names it defined."""
    before = set(shell.user_ns)
    shell.run_line_magic("kf", f"load {line}")
    defined = {k: v for k, v in shell.user_ns.items() if k not in before}
    for name in defined:
        del shell.user_ns[name]
    return capsys.readouterr().out.splitlines(), defined


def test_load_of_a_kfp_run_gives_what_a_local_run_gives(
    shell: Any,
    notebook: Path,
    store: RunStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    local_run = run_notebook(notebook, overrides=["scale=3"], store=store)
    assert local_run.status == "failed"
    bucket = tmp_path / "mnt" / "mlpipeline"
    kfp_run = run_on_kfp(store, notebook, bucket, monkeypatch)
    capsys.readouterr()

    # Nothing maps the cluster's pipeline root here: the error says what to set, and defines nothing.
    lines, defined = load(shell, capsys, f"{kfp_run} train")
    assert defined == {}
    assert lines == [
        f"kfjupyter: cannot load input 'names' of step 'train' (run {kfp_run}, from step 'load'): its value "
        f"is the Kubeflow Pipelines artifact minio://mlpipeline/v2/artifacts/debug-me/{_kfp_id(store, kfp_run)}"
        "/step-load/out_names, and no directory here is mapped to minio://mlpipeline. Mount the pipeline "
        f"root's storage on this machine and set {MOUNTS}='minio://mlpipeline=/path/to/the/mount' "
        "(comma-separated URI-PREFIX=DIRECTORY pairs); if the cluster's pipeline root is not "
        "minio://mlpipeline/v2/artifacts, set KFJUPYTER_PIPELINE_ROOT to it"
    ]

    monkeypatch.setenv(MOUNTS, f"s3://other=/nowhere, minio://mlpipeline={bucket}")
    kfp_lines, from_kfp = load(shell, capsys, f"{kfp_run} train")
    local_lines, from_local = load(shell, capsys, f"{local_run.id} train")
    assert kfp_lines[0] == f"loaded the inputs and parameters of step 'train' (run {kfp_run}): names, x"
    assert (
        kfp_lines[1:]
        == sorted(local_lines[1:])
        == [
            "  names: list ['a', 'b'] (from step 'load')",
            "  x: memmap 6 (from step 'prep')",
        ]
    )
    assert isinstance(from_kfp["x"], np.memmap)  # mapped from the mounted artifact, not read
    assert Path(str(from_kfp["x"].filename)).is_relative_to(bucket)
    assert {k: _plain(v) for k, v in from_kfp.items()} == {k: _plain(v) for k, v in from_local.items()}
    assert from_kfp["x"].tolist() == [0.0, 3.0, 6.0, 9.0, 12.0, 15.0]

    # The failure, by hand, on the values the cluster's step had.
    shell.user_ns.update(from_kfp)
    result = shell.run_cell("model = x.sum() + len(names)\nassert model < 0, 'not negative'")
    assert isinstance(result.error_in_exec, AssertionError)
    capsys.readouterr()
    for name in [*from_kfp, "model"]:
        del shell.user_ns[name]

    lines, prep = load(shell, capsys, f"{kfp_run} prep")
    assert lines[0].endswith("): scale, data") and prep["scale"] == 3 and isinstance(prep["scale"], int)
    lines, outputs = load(shell, capsys, f"{kfp_run} prep --outputs")
    assert lines[0] == f"loaded the outputs of step 'prep' (run {kfp_run}): x"
    assert outputs["x"].tolist() == from_local["x"].tolist()
    lines, _ = load(shell, capsys, f"{kfp_run} train --outputs")
    assert lines == [
        f"kfjupyter: step 'train' of run {kfp_run} has no outputs to load: it failed; "
        f"load its inputs instead (`%kf load {kfp_run} train`)"
    ]

    # A pipeline root that is a path here (file://) needs no mount.
    monkeypatch.delenv(MOUNTS)
    monkeypatch.setenv("KFJUPYTER_PIPELINE_ROOT", (bucket / "v2" / "artifacts").as_uri())
    lines, defined = load(shell, capsys, f"{kfp_run} train")
    assert lines[0].endswith(": names, x") and defined["names"] == ["a", "b"]


def test_a_mount_without_the_artifacts_says_where_it_looked(
    shell: Any,
    notebook: Path,
    store: RunStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bucket = tmp_path / "mnt" / "mlpipeline"
    kfp_run = run_on_kfp(store, notebook, bucket, monkeypatch)
    kfp_id = _kfp_id(store, kfp_run)
    capsys.readouterr()
    wrong = tmp_path / "mnt" / "empty"
    wrong.mkdir()
    monkeypatch.setenv(MOUNTS, f"minio://mlpipeline={wrong}")
    lines, defined = load(shell, capsys, f"{kfp_run} prep")
    assert defined == {}
    assert lines == [
        f"kfjupyter: cannot load input 'data' of step 'prep' (run {kfp_run}, from step 'load'): its artifact "
        f"minio://mlpipeline/v2/artifacts/debug-me/{kfp_id}/step-load/out_data is not at "
        f"{wrong}/v2/artifacts/debug-me/{kfp_id}/step-load/out_data. Check that the pipeline root "
        f"minio://mlpipeline/v2/artifacts is mounted at the directory {MOUNTS} maps it to and is the "
        "cluster's pipeline root (KFJUPYTER_PIPELINE_ROOT), and that step 'load' produced it"
    ]

    # Newer servers put each execution under a random folder, older ones name the task's folder by
    # the step's display name; a retried task leaves one folder per attempt and the newest counts.
    monkeypatch.setenv(MOUNTS, f"minio://mlpipeline={bucket}")
    run_folder = bucket / "v2" / "artifacts" / "debug-me" / kfp_id
    (run_folder / "step-load" / "3f2a").mkdir()
    (run_folder / "step-load" / "out_data").rename(run_folder / "step-load" / "3f2a" / "out_data")
    (run_folder / "step-load").rename(run_folder / "load")
    older = run_folder / "load" / "0a1b" / "out_data"
    shutil.copytree(run_folder / "load" / "3f2a" / "out_data", older)
    np.save(older / "data.npy", np.zeros(2))
    os.utime(older / "kfjupyter-value.json", ns=(1, 1))
    lines, defined = load(shell, capsys, f"{kfp_run} prep")
    assert lines[0] == f"loaded the inputs and parameters of step 'prep' (run {kfp_run}): scale, data"
    assert defined["data"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0] and defined["scale"] == 3

    (store.run_dir(kfp_run) / "pipeline.yaml").unlink()
    lines, _ = load(shell, capsys, f"{kfp_run} prep")
    assert lines == [
        f"kfjupyter: run {kfp_run} ran on Kubeflow Pipelines but its compiled pipeline "
        f"({store.run_dir(kfp_run) / 'pipeline.yaml'}) is gone, so which artifacts its steps read is not "
        "known here; submit the notebook again (`kfjupyter submit NB`)"
    ]


def _kfp_id(store: RunStore, run_id: str) -> str:
    return str(store.get_run(run_id).external_id)


def _plain(value: Any) -> Any:
    return value.tolist() if isinstance(value, np.ndarray) else value
