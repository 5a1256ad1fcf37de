"""The `kfjupyter` command line as users and other tools call it: real subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli import kf
from tests.support.notebooks import cell, write_notebook


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_run_json_is_one_object_with_the_documented_shape(tmp_path: Path, home: Path) -> None:
    nb = write_notebook(
        tmp_path / "nb.ipynb",
        [
            cell("msg = 'plain'", "pipeline-parameters"),
            cell(
                "import kfjupyter\nout = msg\nkfjupyter.log_metric('acc', 0.5)\nkfjupyter.log_metric('acc', 0.75)",
                "step:echo",
            ),
        ],
    )
    tricky = 'it\'s "quoted" {braces} {{x}}\nsecond line'
    done = kf(home, "run", str(nb), "-p", f"msg={tricky}", "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert set(body) == {"run_id", "status", "steps", "metrics", "diagnostics"}
    assert body["status"] == "succeeded" and body["metrics"] == {"acc": 0.75}
    (step,) = body["steps"]
    assert set(step) == {"name", "status", "cached", "started_at", "finished_at", "duration_s", "error"}
    assert step["finished_at"] >= step["started_at"] > 0
    shown = json.loads(kf(home, "runs", "show", body["run_id"], "--json").stdout)
    assert shown["parameters"]["msg"] == tricky
    arts = json.loads(kf(home, "runs", "artifacts", body["run_id"], "--json").stdout)["artifacts"]
    log = next(a for a in arts if a["kind"] == "log")
    assert Path(log["path"]).exists() and log["step"] == "echo"


def test_failed_run_exits_1_and_logs_are_readable(tmp_path: Path, home: Path) -> None:
    nb = write_notebook(
        tmp_path / "nb.ipynb", [cell("print('before')\nraise ValueError('bad value')", "step:boom")]
    )
    done = kf(home, "run", str(nb), "--json")
    assert done.returncode == 1
    body = json.loads(done.stdout)
    assert body["status"] == "failed" and "ValueError: bad value" in body["steps"][0]["error"]
    logs = kf(home, "runs", "logs", body["run_id"], "boom")
    assert "before" in logs.stdout and "ValueError" in logs.stdout
    listed = kf(home, "runs", "list")
    assert body["run_id"] in listed.stdout


def test_lint_json_and_exit_status(tmp_path: Path, home: Path) -> None:
    nb = write_notebook(tmp_path / "nb.ipynb", [cell("a = 1", "step:one"), cell("b = missing", "step:two")])
    done = kf(home, "lint", str(nb), "--json")
    assert done.returncode == 1
    body = json.loads(done.stdout)
    assert set(body) == {"notebook", "errors", "diagnostics"} and body["errors"] >= 1
    undefined = [d for d in body["diagnostics"] if "missing" in d["message"]]
    assert undefined and undefined[0]["severity"] == "error" and undefined[0]["cell"] == 1
    assert set(undefined[0]) == {"severity", "code", "cell", "line", "message", "hint"}
    clean = write_notebook(tmp_path / "ok.ipynb", [cell("a = 1", "step:one"), cell("b = a", "step:two")])
    assert kf(home, "lint", str(clean)).returncode == 0


def test_graph_formats(tmp_path: Path, home: Path) -> None:
    nb = write_notebook(
        tmp_path / "nb.ipynb",
        [cell("a = 1", "step:one"), cell("b = a", "step:two"), cell("c = 3", "step:three")],
    )
    graph = json.loads(kf(home, "graph", str(nb), "--json").stdout)
    assert [(e["from"], e["to"], e["variables"]) for e in graph["edges"]] == [("one", "two", ["a"])]
    dot = kf(home, "graph", str(nb), "--dot").stdout
    assert dot.startswith("digraph") and '"one" -> "two"' in dot


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}), "format v3"),
        (
            json.dumps(
                {
                    "nbformat": 4,
                    "nbformat_minor": 5,
                    "metadata": {"kernelspec": {"name": "ir", "language": "R", "display_name": "R"}},
                    "cells": [],
                }
            ),
            "R",
        ),
    ],
)
def test_bad_notebooks_get_one_clear_line(tmp_path: Path, home: Path, content: str, expected: str) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_text(content)
    for verb in ("run", "lint", "graph"):
        done = kf(home, verb, str(bad))
        assert done.returncode == 2, (verb, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("kfjupyter: error:") and expected in lines[0], lines


def test_missing_notebook_and_unknown_run(tmp_path: Path, home: Path) -> None:
    done = kf(home, "run", str(tmp_path / "nope.ipynb"))
    assert done.returncode == 2 and "nope.ipynb" in done.stderr and "Traceback" not in done.stderr
    shown = kf(home, "runs", "show", "no-such-run")
    assert shown.returncode == 2 and "no-such-run" in shown.stderr and "Traceback" not in shown.stderr


def test_unreadable_store_is_one_clear_line(tmp_path: Path, home: Path) -> None:
    home.mkdir(parents=True)
    (home / "runs.db").write_bytes(b"this is not a database" * 100)
    done = kf(home, "runs", "list")
    assert done.returncode == 74 and "Traceback" not in done.stderr and "runs.db" in done.stderr


def test_kill_9_then_resume_finishes_with_the_cache(tmp_path: Path, home: Path) -> None:
    flag = tmp_path / "go"
    nb = write_notebook(
        tmp_path / "nb.ipynb",
        [
            cell("a = 1\nprint('first done')", "step:first"),
            cell(
                f"import os, time\nwhile not os.path.exists({str(flag)!r}):\n    time.sleep(0.05)\nb = a + 1",
                "step:second",
            ),
        ],
    )
    env = {**os.environ, "KFJUPYTER_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kfjupyter.cli.main", "run", str(nb), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    run_id = None
    while time.monotonic() < deadline:
        listed = json.loads(kf(home, "runs", "list", "--json").stdout or '{"runs": []}')["runs"]
        if listed:
            run_id = listed[0]["id"]
            steps = {
                s["name"]: s["status"]
                for s in json.loads(kf(home, "runs", "show", run_id, "--json").stdout)["steps"]
            }
            if steps.get("second") == "running":
                break
        time.sleep(0.2)
    assert run_id is not None
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()  # type: ignore[union-attr]
    proc.stderr.close()  # type: ignore[union-attr]
    shown = json.loads(kf(home, "runs", "show", run_id, "--json").stdout)
    assert shown["status"] == "interrupted"
    assert "first done" in kf(home, "runs", "logs", run_id, "first").stdout
    flag.write_text("go")
    resumed = kf(home, "run", "--resume", run_id, "--json")
    assert resumed.returncode == 0, resumed.stderr
    body = json.loads(resumed.stdout)
    assert body["run_id"] == run_id and body["status"] == "succeeded"
    assert {s["name"]: s["cached"] for s in body["steps"]} == {"first": True, "second": False}


def test_ctrl_c_cancels_the_run_and_kills_the_step_process_group(tmp_path: Path, home: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    nb = write_notebook(
        tmp_path / "nb.ipynb",
        [
            cell(
                "import subprocess, time\n"
                "child = subprocess.Popen(['sleep', '60'])\n"
                f"open({str(pidfile)!r}, 'w').write(str(child.pid))\n"
                "time.sleep(60)\n"
                "a = 1",
                "step:long",
            ),
            cell("b = a + 1", "step:after_long"),
        ],
    )
    env = {**os.environ, "KFJUPYTER_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kfjupyter.cli.main", "run", str(nb), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not pidfile.exists() or not pidfile.read_text():
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.1)
    grandchild = int(pidfile.read_text())
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1
    body = json.loads(out)
    assert body["status"] == "cancelled"
    assert {s["name"]: s["status"] for s in body["steps"]} == {"long": "cancelled", "after_long": "cancelled"}
    deadline = time.monotonic() + 10
    while Path(f"/proc/{grandchild}").exists() and time.monotonic() < deadline:
        state = (
            Path(f"/proc/{grandchild}/stat").read_text().split()[2]
            if Path(f"/proc/{grandchild}/stat").exists()
            else "X"
        )
        if state == "Z":
            break
        time.sleep(0.1)
    alive = (
        Path(f"/proc/{grandchild}/stat").exists()
        and Path(f"/proc/{grandchild}/stat").read_text().split()[2] != "Z"
    )
    assert not alive, "the step's child process survived the cancellation"


def test_logs_follow_prints_until_the_run_ends(tmp_path: Path, home: Path) -> None:
    nb = write_notebook(
        tmp_path / "nb.ipynb",
        [
            cell(
                "import time\nfor i in range(3):\n    print('tick', i, flush=True)\n    time.sleep(0.4)\ndone = True",
                "step:slow",
            )
        ],
    )
    env = {**os.environ, "KFJUPYTER_HOME": str(home)}
    runner = subprocess.Popen(
        [sys.executable, "-m", "kfjupyter.cli.main", "run", str(nb), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 30
    listed: list[dict[str, object]] = []
    while not listed and time.monotonic() < deadline:
        listed = json.loads(kf(home, "runs", "list", "--json").stdout or '{"runs": []}')["runs"]
        time.sleep(0.1)
    follow = kf(home, "runs", "logs", str(listed[0]["id"]), "slow", "--follow")
    out, _ = runner.communicate(timeout=60)
    assert json.loads(out)["status"] == "succeeded"
    assert follow.returncode == 0
    assert [line.split(" ", 2)[2] for line in follow.stdout.splitlines()] == ["tick 0", "tick 1", "tick 2"]
