"""The hub image starts JupyterHub with the deployment guide's zero-to-jupyterhub hub configuration.

The values file's profiles are mounted where the chart mounts ``hub.extraFiles`` and its
``hub.extraConfig`` runs after the chart's own choice of KubeSpawner, as in the chart; the hub
runs as uid 1000 with everything dropped and a read-only root, its state on a volume at
``/srv/jupyterhub`` (where the chart mounts the hub's database volume).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.containers.conftest import docker

pytestmark = [pytest.mark.integration, pytest.mark.timeout(3600)]  # a cold image build is minutes
VALUES = Path(__file__).resolve().parents[3] / "docs" / "admins" / "z2jh-values.yaml"
CONFIG_DIR = "/usr/local/etc/jupyterhub"


def hub_files(tmp_path: Path, values: dict[str, Any]) -> list[str]:
    """Write the chart's config file and the extraFiles; returns the docker volume arguments."""
    hub = values["hub"]
    config = tmp_path / "jupyterhub_config.py"
    chart_part = 'c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"\n'  # the chart's default
    config.write_text(chart_part + "\n".join(hub["extraConfig"][k] for k in sorted(hub["extraConfig"])))
    mounts = ["--volume", f"{config}:{CONFIG_DIR}/jupyterhub_config.py:ro"]
    for name, spec in hub["extraFiles"].items():
        local = tmp_path / name
        local.write_text(yaml.safe_dump(spec["data"]), encoding="utf-8")
        mounts += ["--volume", f"{local}:{spec['mountPath']}:ro"]
    for path in tmp_path.iterdir():
        path.chmod(0o644)
    return mounts


def run_hub(env: dict[str, str], image: str, mounts: list[str], *command: str) -> tuple[int, str]:
    args = ["--network", "none", "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--read-only"]
    args += [
        "--tmpfs",
        "/tmp",
        "--tmpfs",
        "/srv/jupyterhub:uid=1000,gid=100",
        "--env",
        "POD_NAMESPACE=jupyter",
    ]
    done = docker(env, "run", "--rm", *args, *mounts, image, *command, timeout=300)
    return done.returncode, done.stdout + done.stderr


def test_the_hub_loads_the_values_hub_configuration(
    docker_env: dict[str, str], hub_image: str, tmp_path: Path
) -> None:
    values = yaml.safe_load(VALUES.read_text(encoding="utf-8"))
    mounts = hub_files(tmp_path, values)
    command = ["jupyterhub", "--config", f"{CONFIG_DIR}/jupyterhub_config.py", "--show-config"]
    code, out = run_hub(docker_env, hub_image, mounts, *command)
    assert code == 0, out
    assert "Using Spawner: kfjupyter_spawner.spawner.KfJupyterSpawner" in out
    assert ".spawner_class = 'kfjupyter'" in out
    assert "--KfJupyterApp.kfp_host=http://ml-pipeline.kubeflow.svc.cluster.local:8888" in out


def test_a_broken_profile_stops_the_hub_naming_it(
    docker_env: dict[str, str], hub_image: str, tmp_path: Path
) -> None:
    values = yaml.safe_load(VALUES.read_text(encoding="utf-8"))
    values["hub"]["extraFiles"]["kfjupyter-profiles"]["data"]["profiles"][1]["resources"]["cpu"] = {
        "limit": "-1"
    }
    mounts = hub_files(tmp_path, values)
    command = ["jupyterhub", "--config", f"{CONFIG_DIR}/jupyterhub_config.py", "--show-config"]
    code, out = run_hub(docker_env, hub_image, mounts, *command)
    assert code != 0
    assert "profiles[1].resources.cpu" in out, out


def test_what_the_charts_hub_configuration_imports_is_installed(
    docker_env: dict[str, str], hub_image: str
) -> None:
    script = "import kubernetes_asyncio, kubespawner, pycurl, tornado.curl_httpclient, jupyterhub_idle_culler"
    code, out = run_hub(docker_env, hub_image, [], "python3", "-c", script + "; print('ok')")
    assert (code, out.strip().splitlines()[-1]) == (0, "ok"), out
