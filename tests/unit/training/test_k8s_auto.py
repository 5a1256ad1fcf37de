"""``backend="auto"`` keeps the local default without a usable cluster; ``"kubernetes"`` says why not."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfjupyter.k8s.client import KubeUnavailable
from kfjupyter.store import open_store
from kfjupyter.training import facade
from kfjupyter.training.backends.local import LocalBackend
from kfjupyter.training.job import BackendNotAvailable
from kfjupyter.training.k8s_detect import default_namespace


def test_auto_is_local_without_a_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(facade, "_clusters", {})
    store = open_store(tmp_path / "home")
    try:
        assert isinstance(facade.select_backend("auto", store), LocalBackend)
        assert isinstance(facade.select_backend("local", store), LocalBackend)
        with pytest.raises(BackendNotAvailable, match="no cluster access was found") as caught:
            facade.select_backend("kubernetes", store)
        assert "backend='local'" in str(caught.value)
    finally:
        store.close()


def test_auto_is_local_when_the_configured_cluster_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u, namespace: team-a}}]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.delenv("KFJUPYTER_NAMESPACE", raising=False)
    monkeypatch.setattr(facade, "_clusters", {})
    store = open_store(tmp_path / "home")
    try:
        assert isinstance(facade.select_backend("auto", store), LocalBackend)
        with pytest.raises(KubeUnavailable, match="Could not ask the cluster"):
            facade.select_backend("kubernetes", store)
    finally:
        store.close()


def test_default_namespace_comes_from_the_environment_or_the_kubeconfig(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u, namespace: team-a}}]\n",
        encoding="utf-8",
    )
    assert default_namespace({"KFJUPYTER_NAMESPACE": "mine"}) == "mine"
    assert default_namespace({"KUBECONFIG": str(kubeconfig)}) == "team-a"
    assert default_namespace({"HOME": str(tmp_path)}) == "default"
