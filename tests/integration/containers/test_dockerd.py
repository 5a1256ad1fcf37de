"""The project's docker daemon: idempotent start, no host networking, restricted containers run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kfjupyter.cluster import dockerd, node_images
from kfjupyter.cluster.docker_api import Docker
from tests.integration.containers.conftest import docker

pytestmark = pytest.mark.integration


def pause_image() -> str:
    """A tiny busybox image (the real node's pause image), imported when missing."""
    node_images.ensure_pause_image(Docker())
    return node_images.PAUSE_IMAGE


def test_start_is_idempotent_and_fast_when_running(docker_env: dict[str, str]) -> None:
    started = time.monotonic()
    assert dockerd.start() == docker_env["DOCKER_HOST"] == f"unix://{dockerd.socket_path()}"
    assert time.monotonic() - started < 2
    assert dockerd.is_running()


def test_daemon_settings(docker_env: dict[str, str]) -> None:
    info = dockerd.info()
    assert info["DefaultRuntime"] == dockerd.RUNTIME_NAME
    assert info["CgroupDriver"] == "cgroupfs"
    assert info["DockerRootDir"] == str(dockerd.home() / "data")
    # No bridge network: containers get only what a test gives them (none, or a namespace it made).
    networks = docker(docker_env, "network", "ls", "--format", "{{.Name}}").stdout.split()
    assert "bridge" not in networks
    assert "none" in networks


def test_a_restricted_container_runs_with_a_negative_oom_score(docker_env: dict[str, str]) -> None:
    image = pause_image()
    args = ["--network", "none", "--user", "1000:100", "--cap-drop", "ALL"]
    args += ["--security-opt", "no-new-privileges", "--oom-score-adj", "-998"]
    script = "id -u; grep -E 'CapEff|Seccomp:' /proc/self/status; cat /proc/self/oom_score_adj"
    done = docker(docker_env, "run", "--rm", *args, image, "sh", "-c", script)
    assert done.returncode == 0, done.stderr
    lines = [line.split() for line in done.stdout.splitlines()]
    assert lines == [["1000"], ["CapEff:", "0000000000000000"], ["Seccomp:", "2"], ["0"]]


def test_plain_runc_cannot_set_a_negative_oom_score_here(docker_env: dict[str, str]) -> None:
    # Why the wrapper exists: where root lacks CAP_SYS_RESOURCE, runc fails on what kubelets ask.
    # On a machine where root has it, plain runc succeeds and the wrapper is merely harmless.
    image = pause_image()
    done = docker(
        docker_env,
        "run",
        "--rm",
        "--runtime",
        "runc",
        "--network",
        "none",
        "--oom-score-adj",
        "-998",
        image,
        "true",
    )
    status = Path("/proc/self/status").read_text(encoding="utf-8")
    capeff = int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("CapEff:")), 16)
    has_sys_resource = bool(capeff & (1 << 24))
    assert (done.returncode == 0) == has_sys_resource, done.stderr
