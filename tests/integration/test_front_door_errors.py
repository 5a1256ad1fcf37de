"""Odd input at the command line and in %kf / %%step lines: one clear line, never a traceback.

Real ``kfjupyter`` subprocesses (argv bytes that are not UTF-8, a reader that stops early, a
notebook path that is a symlink loop) and a real IPython shell with the extension loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.ipython import kf_shell
from tests.support.notebooks import cell, write_notebook


def kf(home: Path, *args: str | bytes, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KFJUPYTER_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "kfjupyter.cli.main", *args],
        capture_output=True,
        text=True,
        errors="replace",
        env=env,
        cwd=cwd,
        timeout=120,
    )


def one_clear_line(done: subprocess.CompletedProcess[str], *pieces: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kfjupyter: error: "), done.stderr
    for piece in pieces:
        assert piece in lines[0], lines[0]


@pytest.fixture
def loop(tmp_path: Path) -> Path:
    """``loop.ipynb`` -> ``other.ipynb`` -> ``loop.ipynb``."""
    (tmp_path / "loop.ipynb").symlink_to(tmp_path / "other.ipynb")
    (tmp_path / "other.ipynb").symlink_to(tmp_path / "loop.ipynb")
    return tmp_path / "loop.ipynb"


def test_run_on_a_symlink_loop(tmp_path: Path, loop: Path) -> None:
    one_clear_line(kf(tmp_path / "home", "run", str(loop)), "loop of symbolic links", "loop.ipynb")


def test_undecodable_arguments_are_named(tmp_path: Path) -> None:
    nb = write_notebook(
        tmp_path / "nb.ipynb", [cell("s = 'a'", "pipeline-parameters"), cell("x = s", "step:a")]
    )
    one_clear_line(kf(tmp_path / "home", "run", str(nb), "-p", b"s=\xff"), "not valid UTF-8", "s=\\udcff")
    one_clear_line(kf(tmp_path / "home", "runs", "show", b"\xff"), "not valid UTF-8")
    one_clear_line(kf(tmp_path / "home", "runs", "logs", "x", b"\xff\xfe"), "not valid UTF-8")


def test_huge_limit_lists_every_run(tmp_path: Path) -> None:
    done = kf(tmp_path / "home", "runs", "list", "--limit", str(10**23), "--json")
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout)["runs"], list)


def test_a_reader_that_stops_early_is_not_an_error(tmp_path: Path) -> None:
    env = {**os.environ, "KFJUPYTER_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kfjupyter.cli.main", "runs", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # as `| head -0` does: gone before the first line is written
    with proc.stderr:
        err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert proc.returncode == 141


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("KFJUPYTER_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    with kf_shell() as sh:
        yield sh


def kf_line(shell: Any, capsys: pytest.CaptureFixture[str], line: str) -> str:
    """Run ``%kf line``; it must print one ``kfjupyter:`` line and raise nothing."""
    shell.run_line_magic("kf", line)
    out = capsys.readouterr().out.strip()
    assert out.startswith("kfjupyter: ") and "\n" not in out, out
    return out


def test_kf_runs_with_a_huge_limit(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    shell.run_line_magic("kf", f"runs --limit {10**23}")
    assert "Traceback" not in capsys.readouterr().out


def test_kf_lines_with_lone_surrogates(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert "not valid" in kf_line(shell, capsys, "logs '\udcff'")
    assert "not valid" in kf_line(shell, capsys, "metrics '\udcff'")


def test_kf_run_notebook_on_a_symlink_loop(
    shell: Any, capsys: pytest.CaptureFixture[str], loop: Path
) -> None:
    assert "loop of symbolic links" in kf_line(shell, capsys, f"run --notebook {loop}")


def test_kf_train_refuses_what_rest_refuses(
    shell: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write_notebook(tmp_path / "x.ipynb", [cell("x = 1", "step:a")])
    out = kf_line(shell, capsys, "train x.ipynb")
    assert "not a Python script (.py)" in out
    (tmp_path / "t.py").write_text("print('hi')\n")
    out = kf_line(shell, capsys, "train t.py -- 'a\x00b'")
    assert "NUL" in out


@pytest.mark.parametrize("name", ["../x", "A-B", "x" * 101])
def test_step_magic_refuses_a_malformed_name(
    shell: Any, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    shell.run_cell(f"%%step {name}\nran = True")
    assert "ran" not in shell.user_ns
    out = capsys.readouterr().out
    assert out.startswith("%%step: step name") and "Traceback" not in out, out


def test_a_deeply_nested_parameter_is_one_clear_line(tmp_path: Path) -> None:
    nb = write_notebook(
        tmp_path / "nb.ipynb", [cell("n = [1]", "pipeline-parameters"), cell("x = n", "step:a")]
    )
    deep = "[" * 5000 + "]" * 5000
    one_clear_line(
        kf(tmp_path / "home", "run", str(nb), "-p", f"n={deep}"), "'n'", "nested more than 32 levels"
    )
