"""Run files that a step swapped for links or FIFOs: deleting never follows, reading never blocks."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from kfjupyter.errors import Forbidden
from kfjupyter.store import RunStore, RunUpdate
from kfjupyter.store.files import read_log, remove_run_dir, tail_log

from .helpers import make_run


def _finished_run(store: RunStore, run_id: str) -> None:
    store.create_run(make_run(id=run_id))
    store.update_run(run_id, RunUpdate(status="succeeded"))


def test_deleting_a_run_whose_directory_is_a_symlink_unlinks_only_the_link(
    store: RunStore, tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "keep.txt").write_text("precious")
    _finished_run(store, "r-link")
    store.run_dir("r-link").parent.mkdir(parents=True, exist_ok=True)
    store.run_dir("r-link").symlink_to(target, target_is_directory=True)
    store.delete_run("r-link")
    assert not store.run_dir("r-link").is_symlink() and not store.run_dir("r-link").exists()
    assert (target / "keep.txt").read_text() == "precious"
    assert store.list_runs() == []


def test_remove_run_dir_unlinks_a_dangling_link_and_a_plain_file(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "dangling").symlink_to(tmp_path / "nothing-here")
    (runs / "a-file").write_text("x")
    remove_run_dir(tmp_path, "dangling")
    remove_run_dir(tmp_path, "a-file")
    remove_run_dir(tmp_path, "never-existed")
    assert list(runs.iterdir()) == []


def test_links_inside_a_run_directory_are_removed_not_followed(store: RunStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("precious")
    _finished_run(store, "r-inner")
    run_dir = store.run_dir("r-inner", create=True)
    (run_dir / "linkdir").symlink_to(outside, target_is_directory=True)
    (run_dir / "linkfile").symlink_to(outside / "keep.txt")
    store.delete_run("r-inner")
    assert not run_dir.exists()
    assert (outside / "keep.txt").read_text() == "precious"


def test_a_log_that_is_a_symlink_is_forbidden(store: RunStore, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not show\n")
    _finished_run(store, "r-log")
    store.log_path("r-log", "a", create_dir=True).symlink_to(secret)
    with pytest.raises(Forbidden, match="symbolic link"):
        store.read_log("r-log", "a")
    with pytest.raises(Forbidden, match="symbolic link"):
        store.tail_log("r-log", "a")


def test_a_log_that_is_a_fifo_or_folder_is_forbidden_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.log"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.log"
    folder.mkdir()
    outcome: list[BaseException | None] = []

    def read_all() -> None:
        for path in (fifo, folder):
            for read in (read_log, tail_log):
                try:
                    read(path)
                except Exception as exc:  # anything else is checked (and fails) below
                    outcome.append(exc)
                else:
                    outcome.append(None)

    reader = threading.Thread(target=read_all, daemon=True)
    reader.start()
    reader.join(timeout=5)
    if reader.is_alive():  # unblock the reader before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("reading a FIFO log blocked")
    assert len(outcome) == 4
    assert all(isinstance(exc, Forbidden) and "not a regular file" in str(exc) for exc in outcome)


def test_regular_and_missing_logs_read_as_before(store: RunStore) -> None:
    _finished_run(store, "r-ok")
    store.log_path("r-ok", "a", create_dir=True).write_bytes(b"one\ntwo\npart")
    chunk = store.read_log("r-ok", "a")
    assert (chunk.text, chunk.next_offset, chunk.exists) == ("one\ntwo\n", 8, True)
    assert store.tail_log("r-ok", "a", lines=1).text == "two\n"
    missing = store.read_log("r-ok", "b")
    assert (missing.text, missing.exists) == ("", False)
