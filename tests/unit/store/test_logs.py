"""Step log files: paths, reading from an offset (``--follow``) and tailing, on every store."""

from __future__ import annotations

import pytest

from kfjupyter.errors import InvalidInput
from kfjupyter.store import RunStore


def test_paths(store: RunStore) -> None:
    assert store.run_dir("r1") == store.home / "runs" / "r1"
    assert store.log_path("r1", "train model") == store.home / "runs" / "r1" / "logs" / "train model.log"
    assert not store.run_dir("r1").exists()
    assert store.run_dir("r1", create=True).is_dir()
    assert store.resolve("runs/r1/a.pkl") == store.home / "runs" / "r1" / "a.pkl"


@pytest.mark.parametrize("step", ["", ".", "..", "a/b", "a\\b", "a\x00"])
def test_bad_step_names(store: RunStore, step: str) -> None:
    with pytest.raises(InvalidInput):
        store.log_path("r1", step)


@pytest.mark.parametrize("path", ["/etc/passwd", "../x", "runs/../../x", "a//b", "a\\b"])
def test_resolve_stays_inside_home(store: RunStore, path: str) -> None:
    with pytest.raises(InvalidInput):
        store.resolve(path)


def test_bad_run_id(store: RunStore) -> None:
    with pytest.raises(InvalidInput, match="not a valid run id"):
        store.run_dir("../x")


def test_follow_reads_whole_lines(store: RunStore) -> None:
    missing = store.read_log("r1", "s")
    assert (missing.text, missing.next_offset, missing.exists) == ("", 0, False)
    path = store.log_path("r1", "s", create_dir=True)
    path.write_bytes("1 héllo\n2 wor".encode())
    first = store.read_log("r1", "s")
    assert (first.text, first.exists) == ("1 héllo\n", True)
    with path.open("ab") as fh:
        fh.write(b"ld\n3 ")
    second = store.read_log("r1", "s", first.next_offset)
    assert second.text == "2 world\n"
    assert store.read_log("r1", "s", second.next_offset).text == ""
    assert store.read_log("r1", "s", second.next_offset).next_offset == second.next_offset


def test_read_log_limits_bytes(store: RunStore) -> None:
    path = store.log_path("r1", "s", create_dir=True)
    path.write_bytes(b"aaaa\nbbbb\n" + b"c" * 20)
    chunk = store.read_log("r1", "s", max_bytes=7)
    assert (chunk.text, chunk.next_offset) == ("aaaa\n", 5)
    long = store.read_log("r1", "s", offset=10, max_bytes=8)
    assert (long.text, long.next_offset) == ("c" * 8, 18)
    with pytest.raises(InvalidInput):
        store.read_log("r1", "s", offset=-1)


def test_tail(store: RunStore) -> None:
    assert store.tail_log("r1", "s").exists is False
    path = store.log_path("r1", "s", create_dir=True)
    lines = [f"line {i}\n" for i in range(5000)]
    path.write_text("".join(lines) + "partial")
    tail = store.tail_log("r1", "s", lines=3)
    assert tail.text == "".join(lines[-3:])
    assert tail.next_offset == path.stat().st_size - len("partial")
    assert store.tail_log("r1", "s", lines=0).text == ""
    assert store.tail_log("r1", "s", lines=10_000).text == "".join(lines)
    path.write_text("only partial")
    assert (store.tail_log("r1", "s").text, store.tail_log("r1", "s").next_offset) == ("", 0)
