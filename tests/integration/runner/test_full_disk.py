"""A full disk, for real: the run store and run folder on a small tmpfs mounted for the test.

A step whose output does not fit fails with "disk full" naming the file, whether it wrote the
output to disk itself or the runner copied it there from RAM-backed scratch afterwards; no output
cut short is ever recorded as a succeeded step, an artifact or a cache entry; and ``runs list`` /
``runs show`` still work on the full disk.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kfjupyter.api import run_notebook
from kfjupyter.store import RunRecord, RunStore, open_store
from tests.support.cli import kf
from tests.support.notebooks import cell, write_notebook

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")

#: 24 MB of float64: more than the small disk holds, once.
BIG = "import numpy as np\nbig = np.arange(3_000_000, dtype=np.float64)"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs at ``tmp_path/disk``, unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


@pytest.fixture
def disk_store(small_disk: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunStore]:
    home = small_disk / "home"
    monkeypatch.setenv("KFJUPYTER_HOME", str(home))
    with open_store(home) as store:
        yield store


def pipeline(tmp_path: Path) -> Path:
    return write_notebook(
        tmp_path / "big.ipynb",
        [cell(BIG, "step:make"), cell("total = float(big.sum())\nprint(total)", "step:use")],
    )


def assert_nothing_cut_short_was_recorded(store: RunStore, run_id: str) -> None:
    for artifact in store.list_artifacts(run_id):
        if artifact.kind == "value":
            path = store.resolve(artifact.path)
            assert path.stat().st_size == artifact.size, artifact


def test_an_output_written_to_a_full_disk_fails_its_step(
    tmp_path: Path, disk_store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KFJUPYTER_SCRATCH", "off")
    run = run_notebook(pipeline(tmp_path), store=disk_store, cache=False)
    steps = {s.name: s for s in run.steps}
    assert run.status == "failed", run.to_json()
    assert steps["make"].status == "failed"
    error = steps["make"].error or ""
    assert "disk full" in error and "could not save 'big'" in error, error
    assert str(disk_store.run_dir(run.id)) in error
    assert steps["use"].status == "upstream_failed"
    assert_nothing_cut_short_was_recorded(disk_store, run.id)
    assert not list((disk_store.run_dir(run.id) / "steps" / "make").rglob("*.npy"))


def test_an_output_kept_from_scratch_on_a_full_disk_fails_its_step(
    tmp_path: Path, disk_store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir(mode=0o700)
    monkeypatch.setenv("KFJUPYTER_SCRATCH", str(scratch))
    monkeypatch.setattr("kfjupyter.runner.scratch.MIN_FREE_BYTES", 0)
    run = run_notebook(pipeline(tmp_path), store=disk_store, cache=False)
    steps = {s.name: s for s in run.steps}
    assert run.status == "failed", run.to_json()
    assert steps["make"].status == "failed", steps["make"]
    error = steps["make"].error or ""
    assert "disk full" in error and "big.npy" in error, error
    assert "make" in (run.record.error or "")
    assert_nothing_cut_short_was_recorded(disk_store, run.id)
    assert disk_store.get_cache(steps["make"].cache_key or "") is None
    assert not list((disk_store.run_dir(run.id) / "steps" / "make").rglob("*.npy"))


def test_runs_list_and_show_work_on_a_full_disk(
    tmp_path: Path, small_disk: Path, disk_store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KFJUPYTER_SCRATCH", "off")
    nb = write_notebook(tmp_path / "small.ipynb", [cell("x = 1", "step:a")])
    run = run_notebook(nb, store=disk_store)
    assert run.status == "succeeded"
    # A run whose process died: listing it would mark it interrupted, which a full disk refuses.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    orphan = disk_store.create_run(
        RunRecord(
            kind="pipeline", name="orphan", backend="local", status="running", owner_pid=int(dead.stdout)
        )
    )
    with (small_disk / "filler").open("wb") as filler:  # fill the disk to the last byte
        chunk = b"\0" * (1 << 20)
        with pytest.raises(OSError, match="No space left"):
            while True:
                filler.write(chunk)
                filler.flush()
    home = small_disk / "home"
    listed = kf(home, "runs", "list", timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert run.id in listed.stdout and orphan.id in listed.stdout
    shown = kf(home, "runs", "show", run.id, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "succeeded" in shown.stdout
