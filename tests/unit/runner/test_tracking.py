"""Recording what a step reads, and checking it lazily (real files, a real child process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from kfjupyter.runner.job import TrackedRead
from kfjupyter.runner.tracking import RACY_NS, check_reads, file_sha256, installed_roots, listing_sha256


def settled(path: Path, ago_s: float = 60) -> None:
    """Give ``path`` an mtime old enough to be trusted without hashing."""
    t = path.stat().st_mtime - ago_s
    os.utime(path, (t, t))


def record(path: Path, kind: str = "file") -> TrackedRead:
    st = path.stat()
    digest = listing_sha256(str(path)) if kind == "dir" else file_sha256(str(path))
    return TrackedRead(
        kind=kind,
        path=str(path),
        size=0 if kind == "dir" else st.st_size,
        mtime_ns=st.st_mtime_ns,
        sha256=digest,
    )


def test_unchanged_touched_changed_and_deleted_files(tmp_path: Path) -> None:
    data = tmp_path / "data.txt"
    data.write_text("one")
    settled(data)
    read = record(data)
    assert check_reads([read]).changed == [] and check_reads([read]).restamped is None
    os.utime(data, None)  # touched: same content, new mtime
    touched = check_reads([read])
    assert touched.changed == [] and touched.restamped is not None
    data.write_text("two")  # same size, other content
    assert check_reads([read]).changed == [f"file {data} changed"]
    data.unlink()
    assert check_reads([read]).changed == [f"file {data} was deleted"]


def test_a_stat_that_looks_unchanged_is_not_trusted_when_recorded_too_recently(tmp_path: Path) -> None:
    data = tmp_path / "data.txt"
    data.write_text("one")
    read = record(data)
    racy = TrackedRead(**{**read.__dict__, "mtime_ns": 0})
    st = data.stat()
    data.write_text("two")
    os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns))  # rewritten within the same clock tick
    assert check_reads([read]).changed == []  # a trusted stat would miss it ...
    assert check_reads([racy]).changed == [f"file {data} changed"]  # ... so recent ones are hashed
    assert RACY_NS >= 1_000_000_000


def test_a_folder_is_compared_by_its_entry_names(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("1")
    read = record(tmp_path, "dir")
    (tmp_path / "a.csv").write_text("22")  # contents of entries are not the folder's business
    assert check_reads([read]).changed == []
    (tmp_path / "b.csv").write_text("3")
    assert check_reads([read]).changed == [f"folder {tmp_path} changed"]


def test_installed_packages_and_the_standard_library_are_not_local() -> None:
    roots = installed_roots()
    assert json.__file__.startswith(roots)
    import pydantic

    assert str(pydantic.__file__).startswith(roots)


def test_the_recorder_sees_modules_files_and_folders_but_not_private_or_installed_ones(
    tmp_path: Path,
) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("from pkg.inner import VALUE\n")
    (tmp_path / "pkg" / "inner.py").write_text("VALUE = 3\n")
    (tmp_path / "data.txt").write_text("x")
    (tmp_path / "written.txt").write_text("old")
    private = tmp_path / "private"
    private.mkdir()
    (private / "job.json").write_text("{}")
    script = textwrap.dedent(
        f"""
        import json, os, sys
        sys.path.insert(0, {str(tmp_path)!r})
        os.chdir({str(tmp_path)!r})
        from kfjupyter.runner.tracking import ReadRecorder
        recorder = ReadRecorder([{str(private)!r}])
        open('data.txt').read()  # before start: not recorded
        recorder.start()
        import pkg, email.mime.text
        open('data.txt').read()
        open({str(private / "job.json")!r}).read()
        open('written.txt', 'w').write('new')
        os.listdir('.')
        open(json.__file__).read()
        reads = recorder.finish()
        print(json.dumps([(r.kind, os.path.relpath(r.path), r.name) for r in reads]))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=os.environ
    ).stdout
    seen = sorted(tuple(x) for x in json.loads(out))
    assert seen == sorted(
        [
            ("module", "pkg/__init__.py", "pkg"),
            ("module", "pkg/inner.py", "pkg.inner"),
            ("file", "data.txt", ""),
            ("dir", ".", ""),
        ]
    )
