"""Fixtures on the real container node: one cluster (``runtime="docker"``) per package, and the
demo hub spawning servers from the notebook image on it (one per module).

Everything is started through the project's own code, never skipped: the kubelet is built when
missing, the project's docker daemon is started, then ``up`` runs the control plane and the real
node. Only one real node may use the daemon at a time, so the cluster waits for another test run's
node to go. On a failure the tails of the kubelet and API server logs are attached to the report.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kfjupyter.cluster import dockerd, images
from kfjupyter.cluster.build import build
from kfjupyter.cluster.config import ClusterConfig, ClusterState, default_real_node
from kfjupyter.cluster.docker_api import Docker
from kfjupyter.cluster.node_images import NOTEBOOK_IMAGE
from kfjupyter.k8s.client import Kube
from tests.integration.cluster.cluster_fixtures import InUse, attach_diagnostics, cluster_up, fresh_namespace
from tests.support.hub import Hub
from tests.support.realhub import real_node_hub

IN_USE = InUse()


@pytest.fixture(scope="package")
def real_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterState]:
    """A cluster whose one node is Kubernetes' kubelet over the project's docker daemon."""
    build(kubelet=True)
    host = dockerd.start()
    config = ClusterConfig(
        state_dir=tmp_path_factory.mktemp("realk8s"), runtime="docker", nodes=default_real_node(),
        docker_host=host, node_lock_wait_s=900, ready_timeout_s=120,
    )  # fmt: skip
    with cluster_up(config, IN_USE) as state:
        yield state


@pytest.fixture(scope="package")
def real_kube(real_cluster: ClusterState) -> Iterator[Kube]:
    """API clients for the real-node cluster."""
    with Kube(real_cluster.kubeconfig) as client:
        yield client


@pytest.fixture(scope="module")
def real_hub(real_cluster: ClusterState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """The demo hub with the local-image profiles, spawning servers from the notebook image."""
    images.build(hub=False)  # cached: a second when the image is up to date
    assert Docker(dockerd.docker_host()).has_image(NOTEBOOK_IMAGE)
    with real_node_hub(real_cluster, tmp_path_factory.mktemp("realhub")) as hub:
        yield hub


@pytest.fixture
def real_namespace(real_kube: Kube, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace with its default service account; deleted afterwards."""
    with fresh_namespace(real_kube, request, "r", IN_USE) as name:
        yield name


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Attach the kubelet / API server logs and the namespace's events to failed tests."""
    outcome = yield
    report = outcome.get_result()
    state = IN_USE.state
    if not report.failed or state is None:
        return
    attach_diagnostics(report, state, IN_USE.namespace, ("node-kubelet", "kube-apiserver", "provisioner"))
