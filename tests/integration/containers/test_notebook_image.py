"""The notebook image runs as the spawner runs it: uid 1000, no capabilities, seccomp, its own home.

Each test starts a real container from the image the project builds, in the project's docker
daemon, without network. One run mirrors a Kubernetes pod of the spawner: read-only root
filesystem, the home a volume owned by the pod's fsGroup (100), everything dropped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kfjupyter._version import __version__
from tests.integration.containers.conftest import docker
from tests.support.notebooks import cell, write_notebook

pytestmark = [pytest.mark.integration, pytest.mark.timeout(3600)]  # a cold image build is minutes

RESTRICTED = ["--network", "none", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]

PROBE = r"""
set -e
echo "uid=$(id -u) gid=$(id -g) groups=$(id -G) home=$HOME"
grep -E '^(CapEff|CapPrm|Seccomp|NoNewPrivs):' /proc/self/status
echo written > "$HOME/probe.txt" && cat "$HOME/probe.txt"
kfjupyter --version
jupyterhub-singleuser --help >/dev/null && echo singleuser-ok
"""


def _fields(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        for part in line.replace(":\t", "=").replace(": ", "=").split():
            if "=" in part:
                key, value = part.split("=", 1)
                out.setdefault(key, value)
    return out


def test_runs_restricted_as_jovyan_with_a_writable_home(
    docker_env: dict[str, str], notebook_image: str
) -> None:
    done = docker(docker_env, "run", "--rm", *RESTRICTED, notebook_image, "bash", "-c", PROBE)
    assert done.returncode == 0, done.stdout + done.stderr
    got = _fields(done.stdout)
    assert (got["uid"], got["gid"], got["home"]) == ("1000", "100", "/home/jovyan")
    assert got["CapEff"] == got["CapPrm"] == "0000000000000000"
    assert got["Seccomp"] == "2"  # the daemon's default seccomp filter is in force
    assert got["NoNewPrivs"] == "1"
    assert "written" in done.stdout.splitlines()
    assert f"kfjupyter {__version__}" in done.stdout
    assert "singleuser-ok" in done.stdout


def test_a_pipeline_runs_in_a_read_only_container_on_a_volume_home(
    docker_env: dict[str, str], notebook_image: str, tmp_path: Path
) -> None:
    # As a spawner pod: numeric uid 1000 as the kubelet passes it, fsGroup 100 owning the volume,
    # and nothing writable but the home volume and /tmp.
    home = tmp_path / "volume"
    home.mkdir()
    os.chown(home, 0, 100)
    home.chmod(0o2775)
    write_notebook(
        home / "flow.ipynb",
        [
            cell("import numpy as np\nimport pandas as pd\nimport kfjupyter", "imports"),
            cell("n = 3", "pipeline-parameters"),
            cell("frame = pd.DataFrame({'x': np.arange(n)})", "step:make"),
            cell("total = int(frame['x'].sum())\nkfjupyter.log_metric('total', total)", "step:sum"),
        ],
    )
    args = [*RESTRICTED, "--user", "1000", "--group-add", "100", "--read-only", "--tmpfs", "/tmp"]
    args += ["--volume", f"{home}:/home/jovyan"]
    script = "cd /home/jovyan && kfjupyter run flow.ipynb -p n=5 --json"
    done = docker(docker_env, "run", "--rm", *args, notebook_image, "bash", "-c", script, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "succeeded", result
    assert result["metrics"] == {"total": 10.0}, result
    # The run's files are on the volume, owned by the pod's user and group.
    store = home / ".local" / "share" / "kfjupyter"
    assert store.is_dir()
    assert {(p.stat().st_uid, p.stat().st_gid) for p in store.rglob("*")} == {(1000, 100)}
