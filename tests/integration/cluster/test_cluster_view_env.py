"""The spawner's cluster view with no kubeconfig setting: it connects as the environment allows."""

from __future__ import annotations

import pytest
from kfjupyter_spawner.cluster_view import ClusterView

from kfjupyter.cluster.config import ClusterState
from kfjupyter.k8s.client import Kube
from tests.integration.cluster.kube_helpers import pod, wait_for


def test_a_view_without_a_kubeconfig_setting_uses_the_environment(
    cluster: ClusterState, kube: Kube, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    view = ClusterView("", namespace)
    try:
        assert view.kube.access.kubeconfig == cluster.kubeconfig
        kube.core.create_namespaced_pod(namespace, pod("seen", ["sleep", "30"]))
        wait_for(lambda: view.pod("seen") is not None, 30, "the view's pod cache to see the pod")
        wait_for(lambda: view.pod_events("seen"), 30, "the view's event index to see the pod's events")
        # three informers: one list and one open watch each, however much changed
        assert view.requests == 6, [w.error for w in (view.pods, view.events, view.nodes)]
    finally:
        view.close()
