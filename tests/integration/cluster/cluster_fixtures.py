"""What the cluster test packages' fixtures share: a cluster up for a fixture's lifetime, a fresh
namespace per test, and the logs and events attached to a failed test's report."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from kfjupyter.cluster.config import ClusterConfig, ClusterState
from kfjupyter.cluster.controlplane import down, up
from kfjupyter.k8s.client import Kube
from tests.integration.cluster.kube_helpers import wait_for


class InUse:
    """The cluster and the namespace the running test uses, for its report when it fails."""

    def __init__(self) -> None:
        self.state: ClusterState | None = None
        self.namespace: str | None = None


@contextmanager
def cluster_up(config: ClusterConfig, in_use: InUse) -> Iterator[ClusterState]:
    """``up(config)``, then ``down`` on leaving."""
    state = up(config)
    in_use.state = state
    try:
        yield state
    finally:
        in_use.state = None
        down(state.state_dir)


@contextmanager
def fresh_namespace(kube: Kube, request: pytest.FixtureRequest, prefix: str, in_use: InUse) -> Iterator[str]:
    """A namespace named after the test, with its default service account ready; deleted on leaving."""
    name = f"{prefix}-{request.node.name.lower().replace('_', '-')[:40].strip('-')}-{uuid.uuid4().hex[:6]}"
    name = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in name)
    kube.core.create_namespace({"metadata": {"name": name}})
    in_use.namespace = name

    def sa_ready() -> bool:
        accounts = kube.core.list_namespaced_service_account(name).items
        return any(a.metadata.name == "default" and a.secrets for a in accounts)

    wait_for(sa_ready, 30, "default service account")
    try:
        yield name
    finally:
        kube.core.delete_namespace(name)


def _tail(path: Path, lines: int = 40) -> str:
    if not path.is_file():
        return "(no log)"
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def attach_diagnostics(report: Any, state: ClusterState, namespace: str | None, logs: Iterable[str]) -> None:
    """Add the tails of the cluster's ``logs`` and the namespace's events to a failed test's report."""
    for name in logs:
        report.sections.append((f"{name} log (tail)", _tail(state.state_dir / "logs" / f"{name}.log")))
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
