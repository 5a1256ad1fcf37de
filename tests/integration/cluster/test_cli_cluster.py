"""``kfjupyter cluster`` end to end: up within 10 s when built, status, kubeconfig, down leaves nothing."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kfjupyter.cli import cluster_cmd
from kfjupyter.cluster import processes
from kfjupyter.cluster.build import build
from kfjupyter.cluster.config import ClusterState


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``kfjupyter`` (with the cluster command registered even before COMMANDS lists it)."""
    return subprocess.run(
        [sys.executable, "-c", _RUNNER, *args], capture_output=True, text=True, timeout=120, check=False
    )


_RUNNER = """
import sys
from kfjupyter.cli import main
if "cluster_cmd" not in main.COMMANDS:
    main.COMMANDS = (*main.COMMANDS, "cluster_cmd")
sys.exit(main.main(sys.argv[1:]))
"""


def test_parser_registers_every_action() -> None:
    parser = argparse.ArgumentParser()
    cluster_cmd.add_parser(parser.add_subparsers())
    for action in ("up", "down", "status", "kubeconfig"):
        assert callable(parser.parse_args(["cluster", action]).handler)


def test_up_status_down_on_a_built_machine(tmp_path: Path) -> None:
    build()  # the session may not have built yet; `up` below must then be fast
    state_dir = tmp_path / "c"
    started = time.monotonic()
    up = _cli("cluster", "--state-dir", str(state_dir), "up", "--nodes", "solo:cpu=4,memory=8Gi")
    took = time.monotonic() - started
    state = ClusterState.load(state_dir)
    assert state is not None
    pids = dict(state.pids)
    try:
        assert up.returncode == 0, up.stderr
        assert up.stdout.strip() == str(state_dir / "kubeconfig")
        assert took <= 10, f"up took {took:.1f}s"
        status = _cli("cluster", "--state-dir", str(state_dir), "status")
        assert status.returncode == 0, status.stderr
        assert "node solo" in status.stdout and "Ready" in status.stdout
        kubeconfig = _cli("cluster", "--state-dir", str(state_dir), "kubeconfig")
        assert kubeconfig.stdout.strip() == str(state_dir / "kubeconfig")
    finally:
        down = _cli("cluster", "--state-dir", str(state_dir), "down")
    assert down.returncode == 0, down.stderr
    assert set(pids) == {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet"}
    assert not [name for name, pid in pids.items() if processes.alive(pid)]
    after = _cli("cluster", "--state-dir", str(state_dir), "status")
    # 75: a service is away (the cluster), as for every command; see docs/users/pipelines.md.
    assert after.returncode == 75 and "no cluster is running" in after.stderr


@pytest.mark.parametrize("action", ["status", "kubeconfig"])
def test_actions_without_a_cluster_fail_with_one_line(tmp_path: Path, action: str) -> None:
    done = _cli("cluster", "--state-dir", str(tmp_path), action)
    assert done.returncode != 0
