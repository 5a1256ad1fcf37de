"""Per-user namespaces on the real control plane: made once, pods run there, RBAC confines.

The spawner is driven directly (stand-ins for the hub's user and hub objects, as the scale bench
does) so every API write it makes can be counted; its pods run ``sleep`` and a tiny HTTP server
in this process answers their readiness probes. A last test runs the real JupyterHub.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from kfjupyter_spawner import writes
from kfjupyter_spawner.cluster_view import ClusterView
from kfjupyter_spawner.namespaces import UserNamespaces, build_namespace_objects, hub_cluster_role
from kfjupyter_spawner.spawner import KfJupyterSpawner
from kubernetes.client import ApiClient, ApiextensionsV1Api, AuthorizationV1Api, RbacAuthorizationV1Api
from traitlets.config import Config

from kfjupyter.cluster.config import ClusterState
from kfjupyter.k8s.client import Kube, is_status
from kfjupyter.training.k8s_detect import detect_api
from tests.integration.cluster import crds
from tests.integration.cluster.kube_helpers import wait_for
from tests.support.aio import run_fresh
from tests.support.hub import Hub, running_hub

pytestmark = pytest.mark.integration
WRITES = ("POST", "PUT", "PATCH", "DELETE")
PROFILES = """
profiles:
  - slug: work
    display_name: Work
    default: true
    image: {default: busybox}
    resources: {cpu: {request: 10m}, memory: {request: 16Mi}}
    volumes:
      - {kind: user, name: home, mount_path: /home/jovyan, size: 1Gi}
"""


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def probe_port() -> Iterator[int]:
    """One HTTP server on every loopback address: the readiness probes of all test pods."""
    server = ThreadingHTTPServer(("0.0.0.0", 0), _Ok)  # pods have their own loopback IPs
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def make_spawner(
    kubeconfig: Path, hub_ns: str, user: str, port: int, profiles: Path, *, user_namespaces: bool = True
) -> KfJupyterSpawner:
    c = Config()
    c.KfJupyterSpawner.namespace = hub_ns
    c.KfJupyterSpawner.kubeconfig = str(kubeconfig)
    c.KfJupyterSpawner.profiles_file = str(profiles)
    c.KfJupyterSpawner.cmd = ["sleep"]
    c.KfJupyterSpawner.args = ["600"]
    c.KfJupyterSpawner.port = port
    c.KfJupyterSpawner.user_namespaces = user_namespaces
    mock_user = SimpleNamespace(
        name=user, id=1, url=f"/user/{user}/", groups=[], escaped_name=user, orm_user=None, server=None
    )
    mock_hub = SimpleNamespace(
        public_host="hub", url="http://hub:8081/hub/", base_url="/hub/", api_url="http://hub:8081/hub/api"
    )
    return KfJupyterSpawner(config=c, user=mock_user, hub=mock_hub)


def count_writes(view: ClusterView) -> list[str]:
    """Record every write the view's client makes from now on (``METHOD /path``)."""
    seen: list[str] = []
    original = view.kube.api_client.request

    def counting(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if method in WRITES:
            seen.append(f"{method} {urlsplit(url).path}")
        return original(method, url, *args, **kwargs)

    view.kube.api_client.request = counting
    return seen


@pytest.fixture
def user(kube: Kube) -> Iterator[str]:
    """A fresh user name; their namespace is deleted afterwards."""
    name = f"ada-{uuid.uuid4().hex[:6]}"
    yield name
    try:
        kube.core.delete_namespace(UserNamespaces().name_for(name))
    except Exception as error:
        if not is_status(error, 404):
            raise


@pytest.fixture
def hub_kubeconfig(cluster: ClusterState, kube: Kube, namespace: str, tmp_path: Path) -> Iterator[Path]:
    """Credentials of a hub service account holding only ``kfjupyter-spawner hub-role``'s ClusterRole."""
    client = ApiClient()
    name = f"kfjupyter-hub-{namespace}"
    rbac = RbacAuthorizationV1Api(kube.api_client)
    kube.core.create_namespaced_service_account(namespace, {"metadata": {"name": "hub"}})
    rbac.create_cluster_role(client.sanitize_for_serialization(hub_cluster_role(name)))
    binding = {
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": "hub", "namespace": namespace}],
    }
    rbac.create_cluster_role_binding(binding)
    try:
        yield _sa_kubeconfig(cluster, kube, namespace, tmp_path / "hub-kubeconfig", account="hub")
    finally:
        rbac.delete_cluster_role_binding(name)
        rbac.delete_cluster_role(name)


def test_first_spawn_makes_the_namespace_and_restarts_write_only_the_pod(
    kube: Kube, namespace: str, user: str, probe_port: int, tmp_path: Path, hub_kubeconfig: Path
) -> None:
    profiles = tmp_path / "profiles.yaml"
    profiles.write_text(PROFILES)
    writes.forget_ensured()
    spawner = make_spawner(hub_kubeconfig, namespace, user, probe_port, profiles)
    view = run_fresh(ClusterView.get(str(hub_kubeconfig), ""))
    try:
        seen = count_writes(view)
        own = f"kfjupyter-{user}"
        run_fresh(asyncio.wait_for(spawner.start(), 120))
        rbac = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{own}"
        assert seen == [
            "POST /api/v1/namespaces",
            f"POST /api/v1/namespaces/{own}/serviceaccounts",
            f"POST {rbac}/roles",
            f"POST {rbac}/rolebindings",
            f"POST /api/v1/namespaces/{own}/persistentvolumeclaims",
            f"POST /api/v1/namespaces/{own}/pods",
        ]
        labels = kube.core.read_namespace(own).metadata.labels
        assert labels["app.kubernetes.io/managed-by"] == "kfjupyter" and labels["kfjupyter.dev/user"] == user
        assert (
            kube.core.read_namespaced_service_account("notebook", own).automount_service_account_token
            is False
        )
        api = RbacAuthorizationV1Api(kube.api_client)
        assert api.read_namespaced_role("kfjupyter-notebook", own).rules
        assert api.read_namespaced_role_binding("kfjupyter-notebook", own).subjects[0].name == "notebook"
        pod = kube.core.read_namespaced_pod(f"jupyter-{user}", own)
        assert pod.status.phase == "Running"
        assert (
            pod.spec.service_account_name == "notebook" and pod.spec.automount_service_account_token is False
        )
        assert not any(v.secret for v in pod.spec.volumes or [])  # no token mounted
        assert run_fresh(spawner.poll()) is None

        seen.clear()
        run_fresh(spawner.stop())
        assert seen == [f"DELETE /api/v1/namespaces/{own}/pods/jupyter-{user}"]
        seen.clear()
        run_fresh(asyncio.wait_for(spawner.start(), 120))
        assert seen == [f"POST /api/v1/namespaces/{own}/pods"]  # the same hub process
        run_fresh(spawner.stop())

        state = spawner.get_state()
        writes.forget_ensured()  # a hub restart: only the saved state remains
        again = make_spawner(hub_kubeconfig, namespace, user, probe_port, profiles)
        again.load_state(state)
        seen.clear()
        run_fresh(asyncio.wait_for(again.start(), 120))
        assert seen == [f"POST /api/v1/namespaces/{own}/pods"]
        run_fresh(again.stop())
        assert run_fresh(again.poll()) == 0
        assert kube.core.read_namespace(own).status.phase == "Active"  # stop() deletes the pod only
    finally:
        ClusterView.close_all()


def _sa_kubeconfig(
    cluster: ClusterState, kube: Kube, namespace: str, path: Path, account: str = "notebook"
) -> Path:
    """A kubeconfig that authenticates as a service account (its legacy token Secret)."""

    def token() -> str | None:
        account_obj = kube.core.read_namespaced_service_account(account, namespace)
        for ref in account_obj.secrets or []:
            secret = kube.core.read_namespaced_secret(ref.name, namespace)
            if secret.type == "kubernetes.io/service-account-token" and (secret.data or {}).get("token"):
                return base64.b64decode(secret.data["token"]).decode()
        return None

    value = wait_for(token, 30, f"the token of service account {namespace}/{account}")
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": cluster.server,
                                               "certificate-authority": str(cluster.state_dir / "certs" / "ca.crt")}}],
        "users": [{"name": account, "user": {"token": value}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": account}}],
        "current-context": "c",
    }  # fmt: skip
    path.write_text(json.dumps(config))
    return path


def _forbidden(call: Any, *args: Any, **kwargs: Any) -> bool:
    try:
        call(*args, **kwargs)
    except Exception as error:
        if is_status(error, 403):
            return True
        raise
    return False


def _allowed(auth: Any, namespace: str, group: str, resource: str, verb: str) -> bool:
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {
            "resourceAttributes": {"namespace": namespace, "group": group, "resource": resource, "verb": verb}
        },
    }
    return bool(auth.create_self_subject_access_review(review).status.allowed)


def test_the_notebook_account_is_confined_to_its_namespace(
    cluster: ClusterState, kube: Kube, namespace: str, user: str, tmp_path: Path
) -> None:
    own = f"kfjupyter-{user}"
    writes.ensure_namespace(kube, [ApiClient().sanitize_for_serialization(o)
                                   for o in build_namespace_objects(UserNamespaces(), user)], user)  # fmt: skip
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "pipeline-step"},
        "spec": {
            "serviceAccountName": "notebook",
            "automountServiceAccountToken": False,
            "containers": [{"name": "main", "image": "busybox", "command": ["true"]}],
        },
    }
    with Kube(_sa_kubeconfig(cluster, kube, own, tmp_path / "kubeconfig")) as notebook:
        core = notebook.core
        created = core.create_namespaced_pod(own, pod, dry_run="All")
        assert created.metadata.namespace == own
        assert core.list_namespaced_pod(own).items is not None
        assert core.list_namespaced_event(own).items is not None
        assert _forbidden(core.create_namespaced_pod, namespace, pod, dry_run="All")
        assert _forbidden(core.list_namespaced_pod, namespace)
        assert _forbidden(core.list_namespaced_secret, own)
        assert _forbidden(core.list_node)
        assert _forbidden(core.list_namespace)
        assert _forbidden(core.list_pod_for_all_namespaces)
        rbac = RbacAuthorizationV1Api(notebook.api_client)
        binding = {
            "metadata": {"name": "grab"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "cluster-admin",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "notebook", "namespace": own}],
        }
        assert _forbidden(rbac.create_namespaced_role_binding, own, binding)
        assert _forbidden(rbac.list_cluster_role)
        auth = AuthorizationV1Api(notebook.api_client)
        assert _allowed(auth, own, "trainer.kubeflow.org", "trainjobs", "create")
        assert _allowed(auth, own, "kubeflow.org", "pytorchjobs", "delete")
        assert _allowed(auth, own, "", "configmaps", "create")
        assert not _allowed(auth, namespace, "trainer.kubeflow.org", "trainjobs", "create")
        assert not _allowed(auth, own, "", "configmaps", "list")
        assert not _allowed(auth, own, "", "pods/exec", "create")


def test_the_notebook_account_finds_the_training_api_without_reading_crds(
    cluster: ClusterState, kube: Kube, user: str, tmp_path: Path
) -> None:
    own = f"kfjupyter-{user}"
    writes.ensure_namespace(kube, [ApiClient().sanitize_for_serialization(o)
                                   for o in build_namespace_objects(UserNamespaces(), user)], user)  # fmt: skip
    crds.use_crds(kube, crds.trainjob_crd(), pytorchjob=False)
    with Kube(_sa_kubeconfig(cluster, kube, own, tmp_path / "kubeconfig")) as notebook:
        ext = ApiextensionsV1Api(notebook.api_client)
        assert _forbidden(ext.read_custom_resource_definition, crds.TRAINJOB_CRD)
        found = detect_api(notebook)
        assert found.kind == "TrainJob" and found.found_by.startswith("API discovery")
        crds.use_crds(kube, None, pytorchjob=True)
        found = detect_api(notebook)
        assert found.kind == "PyTorchJob"


def test_a_real_hub_runs_servers_in_user_namespaces(
    cluster: ClusterState, kube: Kube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KFJUPYTER_USER_NAMESPACES", "1")
    with running_hub(tmp_path / "hub", str(cluster.kubeconfig)) as hub:
        status, body = hub.api("/users/ada/server", method="POST", body={"profile": "gpu", "gpu_count": 1})
        assert status in (201, 202), f"{body}\n{hub.log.read_text()[-3000:]}"
        _wait_ready(hub, "ada")
        pod = kube.core.read_namespaced_pod("jupyter-ada", "kfjupyter-ada")
        assert pod.spec.service_account_name == "notebook"
        assert pod.spec.automount_service_account_token is True  # the gpu profile has cluster_access
        assert any(v.secret and v.secret.secret_name.startswith("notebook-token-") for v in pod.spec.volumes)
        env = {e.name: e.value for e in pod.spec.containers[0].env}
        assert env["KFJUPYTER_NAMESPACE"] == "kfjupyter-ada"
        hub.api("/users/ada/server", method="DELETE")
        wait_for(lambda: not hub.api("/users/ada")[1]["servers"], 60, "ada's server to stop")
    kube.core.delete_namespace("kfjupyter-ada")


def _wait_ready(hub: Hub, user: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    body: Any = None
    while time.monotonic() < deadline:
        _, body = hub.api(f"/users/{user}")
        if body["servers"].get("", {}).get("ready"):
            return
        if not body["servers"]:
            break
        time.sleep(0.5)
    raise AssertionError(f"{user}'s server never became ready: {body}\n{hub.log.read_text()[-3000:]}")
