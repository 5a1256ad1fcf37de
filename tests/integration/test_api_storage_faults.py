"""Faults of the server's own storage are server statuses (503, 507), never a 400 blaming the caller.

A real jupyter server per case, with its own run store: one damaged artifact row (the others are
still listed), a corrupt store file (503 on every endpoint that reads it, saying what to do), and a
store on a small tmpfs that is full when a run is re-run (507).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kfjupyter.store import ArtifactRecord, RunRecord, StepRecord, open_store
from tests.support.jupyter import LabServer, running_lab
from tests.support.notebooks import cell, write_notebook

API = "/kfjupyter/api"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    with running_lab(tmp_path_factory.mktemp("faults")) as server:
        yield server


def _seed(lab: LabServer, run_id: str) -> Path:
    notebook = write_notebook(lab.root / f"{run_id}.ipynb", [cell("x = 1", "step:a")])
    with open_store(lab.root.parent / "kfjupyter") as store:
        store.create_run(
            RunRecord(
                id=run_id,
                kind="pipeline",
                name="p",
                notebook=str(notebook),
                backend="local",
                status="succeeded",
                started_at=1.0,
                finished_at=2.0,
            )
        )
        store.upsert_steps([StepRecord(run_id=run_id, name="a", status="succeeded")])
        for name in ("one", "two", "three"):
            store.add_artifact(
                ArtifactRecord(run_id=run_id, step="a", name=name, kind="value", path=f"runs/{run_id}/{name}")
            )
        return store.db_path


def test_one_damaged_artifact_row_hides_only_itself(lab: LabServer) -> None:
    db = _seed(lab, "r-rows")
    raw = sqlite3.connect(db)
    raw.execute("UPDATE artifacts SET size=-5 WHERE name='two'")
    raw.commit()
    raw.close()
    status, body = lab.request(f"{API}/runs/r-rows/artifacts", token=lab.token)
    assert status == 200, body
    assert sorted(a["name"] for a in body["artifacts"]) == ["one", "three"]
    status, body = lab.request(f"{API}/runs/r-rows/artifacts/a/two/download", token=lab.token)
    assert status == 503 and body["reason"] == "store_damaged_row", body
    assert "damaged" in body["message"]


def test_a_corrupt_store_is_503_on_every_endpoint(tmp_path_factory: pytest.TempPathFactory) -> None:
    with running_lab(tmp_path_factory.mktemp("corrupt")) as lab:
        db = _seed(lab, "r-corrupt")
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{db}{suffix}")
        db.write_bytes(b"this is not a database" * 200)
        for method, path, body in (
            ("GET", "/runs", None),
            ("GET", "/runs/r-corrupt", None),
            ("GET", "/runs/r-corrupt/artifacts", None),
            ("GET", "/runs/r-corrupt/logs/a", None),
            ("POST", "/runs/r-corrupt/rerun", {}),
            ("POST", "/notebooks/run", {"path": "r-corrupt.ipynb"}),
            ("GET", "/training", None),
        ):
            status, reply = lab.request(f"{API}{path}", token=lab.token, method=method, body=body)
            assert status == 503, (path, status, reply)
            assert reply["reason"] == "store_corrupt" and "move it aside" in reply["message"], reply


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs (needs the right to mount, as in the project's test containers)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_rerun_on_a_full_disk_is_507(small_disk: Path) -> None:
    with running_lab(small_disk) as lab:
        _seed(lab, "r-full")
        filler = small_disk / "filler"
        with contextlib.suppress(OSError), filler.open("wb") as fh:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        status, reply = lab.request(f"{API}/runs/r-full/rerun", token=lab.token, method="POST", body={})
        assert status == 507, (status, reply)
        assert reply["reason"] == "store_full" and "disk is full" in reply["message"], reply
