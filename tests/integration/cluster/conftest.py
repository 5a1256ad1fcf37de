"""Fixtures on a real local control plane: one cluster per session, a fresh namespace per test.

The cluster is built (when the binaries are missing) and started on first use, never skipped.
When a test fails, the tails of the control-plane and kubelet logs and the namespace's events are
attached to its report. Nothing here loads a kubeconfig at import time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfjupyter.cluster.config import ClusterConfig, ClusterState, KubeletSettings
from kfjupyter.cluster.controlplane import COMPONENTS, down, up
from kfjupyter.k8s.client import Kube
from tests.integration.cluster.kube_helpers import wait_for
from tests.support.hub import Hub, running_hub

EXAMPLE_PROFILES = (
    Path(__file__).resolve().parents[3] / "spawner" / "kfjupyter_spawner" / "examples" / "profiles.yaml"
)

_CURRENT: dict[str, Any] = {}


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterState]:
    """A running cluster (default nodes, short back-offs) for the whole session."""
    settings = KubeletSettings(backoff_base_s=1.0, backoff_max_s=8.0)
    config = ClusterConfig(state_dir=tmp_path_factory.mktemp("k8s"), kubelet=settings)
    state = up(config)
    _CURRENT["state"] = state
    try:
        yield state
    finally:
        _CURRENT.pop("state", None)
        down(state.state_dir)


@pytest.fixture(scope="session")
def kube(cluster: ClusterState) -> Iterator[Kube]:
    """API clients for the session cluster."""
    with Kube(cluster.kubeconfig) as client:
        yield client


@pytest.fixture
def namespace(kube: Kube, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace with its default service account ready; deleted afterwards."""
    name = f"t-{request.node.name.lower().replace('_', '-')[:40].strip('-')}-{uuid.uuid4().hex[:6]}"
    name = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in name)
    kube.core.create_namespace({"metadata": {"name": name}})
    _CURRENT["namespace"] = name

    def sa_ready() -> bool:
        accounts = kube.core.list_namespaced_service_account(name).items
        return any(a.metadata.name == "default" and a.secrets for a in accounts)

    wait_for(sa_ready, 30, "default service account")
    try:
        yield name
    finally:
        kube.core.delete_namespace(name)


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


def _tail(path: Path, lines: int = 40) -> str:
    if not path.is_file():
        return "(no log)"
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Attach control-plane/kubelet logs and the namespace's events to failed cluster tests."""
    outcome = yield
    report = outcome.get_result()
    state: ClusterState | None = _CURRENT.get("state")
    if not report.failed or state is None or "cluster" not in getattr(item, "fixturenames", ()):
        return
    for name in COMPONENTS:
        report.sections.append((f"{name} log (tail)", _tail(state.state_dir / "logs" / f"{name}.log")))
    namespace = _CURRENT.get("namespace")
    if namespace:
        try:
            with Kube(state.kubeconfig) as client:
                events = client.core.list_namespaced_event(namespace).items
                text = "\n".join(
                    f"{e.involved_object.name}: {e.type} {e.reason}: {e.message}" for e in events
                )
        except Exception as error:
            text = f"(could not list events: {error})"
        report.sections.append((f"events in {namespace}", text))
