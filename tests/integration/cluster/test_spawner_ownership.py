"""Users whose names used to collide, on the real control plane: nobody's pod or volume is taken.

Earlier versions named user ``a.b``'s pod ``jupyter-a-b-bf13c540``, the plain name of user
``a-b-bf13c540``, and user ``ada-data``'s ``home`` claim ``ada-data-home``, the name of ada's
``data-home``; a spawn deleted a same-name pod first and mounted a same-name claim. The spawner is
driven directly, in one shared namespace, as in the per-user namespace tests.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from kfjupyter_spawner import writes
from kfjupyter_spawner.cluster_view import ClusterView
from kfjupyter_spawner.names import pod_name, pvc_name
from kfjupyter_spawner.spawner import KfJupyterSpawner, SpawnFailed

from kfjupyter.cluster.config import ClusterState
from kfjupyter.k8s.client import Kube
from tests.integration.cluster.test_user_namespaces import make_spawner, probe_port
from tests.support.aio import run_fresh

__all__ = ["probe_port"]  # the fixture, used by name
pytestmark = pytest.mark.integration
PROFILES = """
profiles:
  - slug: work
    display_name: Work
    image: {default: busybox}
    resources: {cpu: {request: 10m}, memory: {request: 16Mi}}
    volumes:
      - {kind: user, name: home, mount_path: /home/jovyan, size: 1Gi}
"""


def _pod(name: str, labels: dict[str, str]) -> dict[str, object]:
    return {
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "notebook", "image": "busybox", "command": ["sleep", "600"]}]},
    }


def test_a_spawn_never_deletes_or_mounts_another_users_objects(
    cluster: ClusterState, kube: Kube, namespace: str, probe_port: int, tmp_path: Path
) -> None:
    profiles = tmp_path / "profiles.yaml"
    profiles.write_text(PROFILES)
    writes.forget_ensured()
    config = cluster.kubeconfig

    def spawner(user: str) -> KfJupyterSpawner:
        return make_spawner(config, namespace, user, probe_port, profiles, user_namespaces=False)

    dotted, plain = "a.b", "a-b-bf13c540"
    assert pod_name(plain) == "jupyter-a-b-bf13c540" and pod_name(dotted) != pod_name(plain)
    try:
        # Both spawn: two pods, both keep running.
        first, second = spawner(dotted), spawner(plain)
        run_fresh(asyncio.wait_for(first.start(), 120))
        uid = kube.core.read_namespaced_pod(pod_name(dotted), namespace).metadata.uid
        run_fresh(asyncio.wait_for(second.start(), 120))
        kept = kube.core.read_namespaced_pod(pod_name(dotted), namespace)
        assert kept.metadata.uid == uid and kept.metadata.deletion_timestamp is None
        assert run_fresh(first.poll()) is None and run_fresh(second.poll()) is None
        run_fresh(second.stop())
        assert kube.core.read_namespaced_pod(pod_name(dotted), namespace).metadata.uid == uid
        run_fresh(first.stop())

        # A pod an earlier version made for "a.b" under the old shared name stays when
        # "a-b-bf13c540" spawns; the spawn fails with a message instead.
        legacy = _pod("jupyter-a-b-bf13c540", {"app.kubernetes.io/managed-by": "kfjupyter",
                                               "kfjupyter.dev/user": "a.b"})  # fmt: skip
        uid = kube.core.create_namespaced_pod(namespace, legacy).metadata.uid
        with pytest.raises(
            SpawnFailed, match=r"already exists .* and is not this server's; it was left alone"
        ):
            run_fresh(asyncio.wait_for(spawner(plain).start(), 120))
        assert kube.core.read_namespaced_pod("jupyter-a-b-bf13c540", namespace).metadata.uid == uid

        # ada's "data-home" claim of an earlier version is not user ada-data's "home".
        claim = {
            "metadata": {"name": "ada-data-home", "labels": {"app.kubernetes.io/managed-by": "kfjupyter",
                         "kfjupyter.dev/user": "ada", "kfjupyter.dev/volume": "data-home"}},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        }  # fmt: skip
        assert pvc_name("ada-data", "home") == "ada-data-home"
        uid = kube.core.create_namespaced_persistent_volume_claim(namespace, claim).metadata.uid
        with pytest.raises(
            SpawnFailed, match="'ada-data-home' for your volume 'home' already exists and is not yours"
        ):
            run_fresh(asyncio.wait_for(spawner("ada-data").start(), 120))
        assert (
            kube.core.read_namespaced_persistent_volume_claim("ada-data-home", namespace).metadata.uid == uid
        )
        pods = [p.metadata.name for p in kube.core.list_namespaced_pod(namespace).items]
        assert pod_name("ada-data") not in pods
    finally:
        ClusterView.close_all()
