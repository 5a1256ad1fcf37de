"""Finding cluster access: in-cluster service account first, then $KUBECONFIG, then ~/.kube/config."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfjupyter.k8s.access import find_access, kubeconfigs
from kfjupyter.k8s.client import Kube, KubeUnavailable, ignore_conflict, ignore_not_found, ignore_status

KUBECONFIG = (
    "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
    "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
    "users: [{name: u, user: {token: t}}]\n"
    "contexts: [{name: x, context: {cluster: c, user: u, namespace: team-a}}]\n"
)


def _account(tmp_path: Path, namespace: str = "alice") -> Path:
    account = tmp_path / "sa"
    account.mkdir()
    (account / "token").write_text("token")
    (account / "ca.crt").write_text("not a real certificate")
    (account / "namespace").write_text(namespace)
    return account


def test_nothing_configured_is_none_and_kube_says_where_it_looked(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "KFJUPYTER_SERVICE_ACCOUNT_DIR": str(tmp_path / "none")}
    assert find_access(env) is None
    with pytest.raises(KubeUnavailable, match="No Kubernetes cluster") as caught:
        Kube.from_environment(env)
    assert "KUBERNETES_SERVICE_HOST" in caught.value.message and "KUBECONFIG" in caught.value.message


def test_kubeconfig_then_home(tmp_path: Path) -> None:
    home_config = tmp_path / ".kube" / "config"
    home_config.parent.mkdir()
    home_config.write_text(KUBECONFIG)
    named = tmp_path / "named"
    named.write_text(KUBECONFIG)
    empty_sa = {"KFJUPYTER_SERVICE_ACCOUNT_DIR": str(tmp_path / "none")}
    home = find_access({"HOME": str(tmp_path), **empty_sa})
    assert home is not None and home.kubeconfig == home_config and home.namespace() == "team-a"
    env = {"HOME": str(tmp_path), "KUBECONFIG": f"{tmp_path / 'missing'}:{named}", **empty_sa}
    found = find_access(env)
    assert found is not None and found.kind == "kubeconfig" and found.kubeconfig == named
    assert kubeconfigs(env) == [named]
    # a KUBECONFIG naming only missing files does not fall back to ~/.kube/config
    assert find_access({"HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "missing"), **empty_sa}) is None


def test_in_cluster_comes_first_and_names_its_namespace(tmp_path: Path) -> None:
    account = _account(tmp_path)
    kubeconfig = tmp_path / "kc"
    kubeconfig.write_text(KUBECONFIG)
    env = {
        "KUBERNETES_SERVICE_HOST": "10.0.0.1",
        "KUBERNETES_SERVICE_PORT": "443",
        "KFJUPYTER_SERVICE_ACCOUNT_DIR": str(account),
        "KUBECONFIG": str(kubeconfig),
    }
    found = find_access(env)
    assert found is not None and found.kind == "in-cluster"
    assert found.server == "https://10.0.0.1:443" and found.namespace() == "alice"
    assert "in-cluster service account" in found.describe()
    # without the service host, or without a token, it is the kubeconfig
    assert find_access({**env, "KUBERNETES_SERVICE_HOST": ""}).kubeconfig == kubeconfig  # type: ignore[union-attr]
    (account / "token").unlink()
    assert find_access(env).kind == "kubeconfig"  # type: ignore[union-attr]


def test_ipv6_service_host(tmp_path: Path) -> None:
    env = {
        "KUBERNETES_SERVICE_HOST": "fd00::1",
        "KUBERNETES_SERVICE_PORT": "443",
        "KFJUPYTER_SERVICE_ACCOUNT_DIR": str(_account(tmp_path)),
    }
    found = find_access(env)
    assert found is not None and found.server == "https://[fd00::1]:443"


def test_a_broken_service_account_is_an_error_naming_it(tmp_path: Path) -> None:
    account = _account(tmp_path)
    (account / "ca.crt").unlink()
    env = {
        "KUBERNETES_SERVICE_HOST": "10.0.0.1",
        "KUBERNETES_SERVICE_PORT": "443",
        "KFJUPYTER_SERVICE_ACCOUNT_DIR": str(account),
    }
    with pytest.raises(KubeUnavailable, match="in-cluster service account"):
        Kube.from_environment(env)


class _Status(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"status {status}")
        self.status = status


def _api_error(status: int) -> Exception:
    from kubernetes.client.exceptions import ApiException

    return ApiException(status=status, reason="test")


def test_ignore_helpers_let_only_their_status_pass() -> None:
    with ignore_not_found() as missing:
        raise _api_error(404)
    assert missing and missing.error is not None
    with ignore_conflict() as exists:
        pass
    assert not exists
    with pytest.raises(Exception, match="409"), ignore_not_found():
        raise _api_error(409)
    with pytest.raises(_Status), ignore_status(404):  # not an API error: never swallowed
        raise _Status(404)
    with ignore_status(404, 409) as either:
        raise _api_error(409)
    assert either
