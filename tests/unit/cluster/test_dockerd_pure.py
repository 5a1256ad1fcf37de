"""The project's docker daemon without a daemon: its command line and the runc wrapper's edit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kfjupyter.cluster import dockerd


def wrapper(tmp_path: Path) -> tuple[Path, Path]:
    """The wrapper, pointed at a stand-in runc that records its arguments."""
    calls = tmp_path / "calls.json"
    fake = tmp_path / "runc"
    fake.write_text(
        f"#!{sys.executable}\nimport json, sys\njson.dump(sys.argv[1:], open({str(calls)!r}, 'w'))\n"
    )
    fake.chmod(0o755)
    script = tmp_path / "kfjupyter-runc"
    script.write_text(dockerd._RUNC_WRAPPER.format(runc=str(fake)))
    script.chmod(0o755)
    return script, calls


def bundle(tmp_path: Path, oom: int | None) -> Path:
    path = tmp_path / "bundle"
    path.mkdir()
    process: dict[str, object] = {"args": ["sh"]}
    if oom is not None:
        process["oomScoreAdj"] = oom
    (path / "config.json").write_text(json.dumps({"ociVersion": "1.0.2", "process": process}))
    return path


def oom_of(path: Path) -> object:
    return json.loads((path / "config.json").read_text())["process"].get("oomScoreAdj")


@pytest.mark.parametrize(
    ("args", "before", "after"),
    [
        (["--root", "/r", "--log", "/l", "--log-format", "json", "create", "--bundle", "{b}", "id"], -998, 0),
        (["create", "--bundle={b}", "--pid-file", "p", "id"], -999, 0),
        (["--debug", "run", "-b", "{b}", "id"], -1, 0),
        (["create", "--bundle", "{b}", "id"], 500, 500),  # only negative scores change
        (["create", "--bundle", "{b}", "id"], None, None),
    ],
)
def test_negative_oom_scores_are_raised_to_zero(
    tmp_path: Path, args: list[str], before: int | None, after: int | None
) -> None:
    script, calls = wrapper(tmp_path)
    path = bundle(tmp_path, before)
    argv = [a.replace("{b}", str(path)) for a in args]
    subprocess.run([sys.executable, str(script), *argv], check=True)
    assert oom_of(path) == after
    assert json.loads(calls.read_text()) == argv  # runc gets the arguments unchanged


def test_other_commands_pass_through_without_reading_a_bundle(tmp_path: Path) -> None:
    script, calls = wrapper(tmp_path)
    path = bundle(tmp_path, -998)
    # `create` as a container id of another command is not the create command
    argv = ["--root", "/r", "state", "create"]
    subprocess.run([sys.executable, str(script), *argv], cwd=path, check=True)
    assert json.loads(calls.read_text()) == argv
    assert oom_of(path) == -998


def test_the_bundle_defaults_to_the_working_directory(tmp_path: Path) -> None:
    script, _ = wrapper(tmp_path)
    path = bundle(tmp_path, -998)
    subprocess.run([sys.executable, str(script), "create", "id"], cwd=path, check=True)
    assert oom_of(path) == 0


def test_daemon_command_keeps_off_the_host_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFJUPYTER_DOCKER_RUN", str(tmp_path / "run"))
    cmd = dockerd.daemon_command(tmp_path / "home", tmp_path / "wrapper")
    for flag in (
        "--iptables=false",
        "--ip6tables=false",
        "--bridge=none",
        "--ip-forward=false",
        "--ip-masq=false",
    ):
        assert flag in cmd
    assert f"--host=unix://{tmp_path}/run/docker.sock" in cmd
    assert f"--data-root={tmp_path}/home/data" in cmd
    assert f"--config-file={tmp_path}/home/daemon.json" in cmd  # never the host's /etc/docker/daemon.json
    assert f"--default-runtime={dockerd.RUNTIME_NAME}" in cmd
    assert dockerd.client_env({})["DOCKER_HOST"] == f"unix://{tmp_path}/run/docker.sock"


def test_a_missing_daemon_answers_no(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFJUPYTER_DOCKER_RUN", str(tmp_path))
    assert dockerd.ping(timeout_s=0.5) is False
    assert dockerd.stop() is False  # no pid file: nothing to stop
