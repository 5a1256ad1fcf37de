"""The deployment guide's zero-to-jupyterhub values and RBAC work with the spawner as written.

The values' ``hub.extraFiles`` are written where the chart would mount them, the
``hub.extraConfig`` snippets run as the chart runs them (in key order, on the hub's config object
``c``), and the spawner built from that config loads the profiles; ``kfjupyter-spawner check``
accepts the same file. The profiles' home is where the notebook image keeps HOME.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from kfjupyter_spawner.namespaces import hub_cluster_role
from kfjupyter_spawner.profiles import UserVolume
from kfjupyter_spawner.spawner import KfJupyterSpawner
from kubernetes.client import ApiClient
from traitlets.config import Config

from kfjupyter._version import __version__
from kfjupyter.errors import KfJupyterError

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "admins"


def values() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DOCS / "z2jh-values.yaml").read_text(encoding="utf-8"))
    return loaded


def hub_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Config, dict[str, Path]]:
    """Mount the extraFiles under tmp_path and run the extraConfig snippets as the chart does."""
    hub = values()["hub"]
    mounts: dict[str, Path] = {}
    for name, spec in hub["extraFiles"].items():
        target = tmp_path / "mounts" / name / Path(spec["mountPath"]).name
        target.parent.mkdir(parents=True)
        target.write_text(yaml.safe_dump(spec["data"]), encoding="utf-8")
        mounts[spec["mountPath"]] = target
    monkeypatch.setenv("POD_NAMESPACE", "jupyter")
    c = Config()
    c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"  # what the chart sets before extraConfig
    for key in sorted(hub["extraConfig"]):
        code = hub["extraConfig"][key]
        for mount_path, local in mounts.items():
            code = code.replace(mount_path, str(local))
        exec(compile(code, f"hub.extraConfig.{key}", "exec"), {"c": c})
    return c, mounts


def test_values_configure_the_spawner_and_its_profiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, mounts = hub_config(tmp_path, monkeypatch)
    assert c.JupyterHub.spawner_class == "kfjupyter"
    spawner = KfJupyterSpawner(config=c)
    assert spawner.namespace == "jupyter"
    assert spawner.user_namespaces is True
    assert spawner.cmd == ["jupyterhub-singleuser"]  # on the notebook image's PATH
    assert any(arg.startswith("--KfJupyterApp.kfp_host=http") for arg in spawner.args)
    profiles = spawner.load_profiles().profiles
    assert [p.slug for p in profiles] == ["cpu", "gpu"]
    hub = values()["hub"]
    assert hub["image"]["name"].endswith("/kfjupyter-hub")
    assert hub["image"]["tag"] == __version__
    home = _image_home()
    for profile in profiles:
        assert profile.image.default.endswith(f"/kfjupyter-notebook:{__version__}")
        homes = [v.mount_path for v in profile.volumes if isinstance(v, UserVolume) and v.name == "home"]
        assert homes == [home], profile.slug

    (profiles_file,) = mounts.values()
    done = subprocess.run(
        [sys.executable, "-m", "kfjupyter_spawner.cli", "check", str(profiles_file)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "2 profile(s) OK" in done.stderr


def test_a_broken_profile_in_the_values_stops_the_hub_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The check is real: the same path with a bad value fails where the hub would start.
    broken = values()
    broken["hub"]["extraFiles"]["kfjupyter-profiles"]["data"]["profiles"][0]["resources"]["cpu"] = {
        "limit": "-1"
    }
    monkeypatch.setattr(sys.modules[__name__], "values", lambda: broken)
    with pytest.raises(KfJupyterError, match=r"profiles\[0\]\.resources\.cpu"):
        hub_config(tmp_path, monkeypatch)


def test_the_rbac_binding_names_the_hub_role(tmp_path: Path) -> None:
    binding = yaml.safe_load((DOCS / "hub-rbac.yaml").read_text(encoding="utf-8"))
    role = ApiClient().sanitize_for_serialization(hub_cluster_role())
    printed = subprocess.run(
        [sys.executable, "-m", "kfjupyter_spawner.cli", "hub-role"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert yaml.safe_load(printed) == role
    assert binding["kind"] == "ClusterRoleBinding"
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "hub", "namespace": "jupyter"}]


def _image_home() -> str:
    """HOME of the notebook image, from its Containerfile."""
    for line in (REPO / "images" / "notebook" / "Containerfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("ENV HOME="):
            return line.split()[1].removeprefix("HOME=")
    raise AssertionError("the notebook Containerfile sets no HOME")
