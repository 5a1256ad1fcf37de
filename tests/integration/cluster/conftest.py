"""Fixtures on a real local control plane: one cluster per session, a fresh namespace per test.

The cluster is built (when the binaries are missing) and started on first use, never skipped.
When a test fails, the tails of the control-plane and kubelet logs and the namespace's events are
attached to its report. Nothing here loads a kubeconfig at import time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from kfjupyter.cluster.config import ClusterConfig, ClusterState, KubeletSettings
from kfjupyter.cluster.controlplane import COMPONENTS
from kfjupyter.k8s.client import Kube
from tests.integration.cluster.cluster_fixtures import InUse, attach_diagnostics, cluster_up, fresh_namespace
from tests.support.hub import Hub, running_hub

EXAMPLE_PROFILES = (
    Path(__file__).resolve().parents[3] / "spawner" / "kfjupyter_spawner" / "examples" / "profiles.yaml"
)

IN_USE = InUse()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterState]:
    """A running cluster (default nodes, short back-offs) for the whole session."""
    settings = KubeletSettings(backoff_base_s=1.0, backoff_max_s=8.0)
    config = ClusterConfig(state_dir=tmp_path_factory.mktemp("k8s"), kubelet=settings)
    with cluster_up(config, IN_USE) as state:
        yield state


@pytest.fixture(scope="session")
def kube(cluster: ClusterState) -> Iterator[Kube]:
    """API clients for the session cluster."""
    with Kube(cluster.kubeconfig) as client:
        yield client


@pytest.fixture
def namespace(kube: Kube, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace with its default service account ready; deleted afterwards."""
    with fresh_namespace(kube, request, "t", IN_USE) as name:
        yield name


@pytest.fixture(scope="module")
def hub(cluster: ClusterState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """The demo JupyterHub (example profiles, our spawner) on the session cluster."""
    state = tmp_path_factory.mktemp("hub")
    profiles = yaml.safe_load(EXAMPLE_PROFILES.read_text())
    profiles["profiles"].append(
        {
            "slug": "broken-image",
            "display_name": "An image that cannot be pulled",
            "image": {"default": "quay.io/jupyter/scipy-notebook:does-not-exist"},
        }
    )
    (state / "profiles.yaml").write_text(yaml.safe_dump(profiles))
    with running_hub(state, str(cluster.kubeconfig), state / "profiles.yaml") as running:
        yield running


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Attach control-plane/kubelet logs and the namespace's events to failed cluster tests."""
    outcome = yield
    report = outcome.get_result()
    state = IN_USE.state
    if not report.failed or state is None or "cluster" not in getattr(item, "fixturenames", ()):
        return
    attach_diagnostics(report, state, IN_USE.namespace, COMPONENTS)
