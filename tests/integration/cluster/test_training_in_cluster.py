"""Training from inside a pod: the in-cluster service account, no kubeconfig anywhere.

A subprocess gets what a notebook pod with a service account gets: ``KUBERNETES_SERVICE_HOST``
and ``_PORT`` pointing at the real API server, and the account's token, the cluster CA and its
namespace as files (mounted at a temporary path, named by ``KFJUPYTER_SERVICE_ACCOUNT_DIR``). It
has no ``KUBECONFIG`` and an empty home. The account may manage training objects in its own
namespace only (not read CRDs), as a notebook's namespace-confined account can; ``train(...,
backend="auto")`` must find the cluster, start a TrainJob there and cancel it.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from kfjupyter.cluster.config import ClusterState
from kfjupyter.k8s.client import Kube, is_status
from kfjupyter.training.k8s_builders import code_configmap_name
from tests.integration.cluster import crds
from tests.integration.cluster.kube_helpers import wait_for

TRAINJOB = ("trainer.kubeflow.org", "v1alpha1", "trainjobs")
REPO = Path(__file__).resolve().parents[3]

START = textwrap.dedent(
    """
    import json, sys
    from kfjupyter.k8s.client import Kube
    from kfjupyter.training import train

    with Kube.from_environment() as kube:
        access = kube.access.kind
    job = train(sys.argv[1], image="python:3.11", name="in-pod", backend="auto").job
    print(json.dumps({"access": access, "backend": job.backend, "status": job.status}))
    """
)
CANCEL = textwrap.dedent(
    """
    import json
    from kfjupyter.training import get_job

    job = get_job("in-pod").cancel()
    print(json.dumps({"status": job.status, "reason": job.reason}))
    """
)


def _child(code: str, env: dict[str, str], *args: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _grant_training(kube: Kube, namespace: str) -> None:
    """Let the namespace's default account manage jobs there (and nothing cluster-wide)."""
    rules = [
        {"apiGroups": ["trainer.kubeflow.org"], "resources": ["trainjobs"], "verbs": ["*"]},
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "get"]},
        {"apiGroups": [""], "resources": ["pods", "pods/log", "events"], "verbs": ["get", "list", "watch"]},
    ]
    kube.rbac.create_namespaced_role(namespace, {"metadata": {"name": "trainer"}, "rules": rules})
    binding = {
        "metadata": {"name": "trainer"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "trainer"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}],
    }
    kube.rbac.create_namespaced_role_binding(namespace, binding)


def _mount_account(kube: Kube, cluster: ClusterState, namespace: str, into: Path) -> Path:
    """Write the default account's token, the CA and the namespace as a pod would see them."""
    account = kube.core.read_namespaced_service_account("default", namespace)
    secret = kube.core.read_namespaced_secret(account.secrets[0].name, namespace)
    into.mkdir()
    (into / "token").write_bytes(base64.b64decode(secret.data["token"]))
    (into / "ca.crt").write_bytes((cluster.state_dir / "certs" / "ca.crt").read_bytes())
    (into / "namespace").write_text(namespace)
    return into


def _trainjob(kube: Kube, namespace: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = kube.custom.get_namespaced_custom_object(
            *TRAINJOB[:2], namespace, TRAINJOB[2], "in-pod"
        )
    except Exception as error:
        if is_status(error, 404):
            return None
        raise
    return found


def test_train_in_a_pod_uses_the_service_account(
    kube: Kube, cluster: ClusterState, namespace: str, tmp_path: Path
) -> None:
    crds.use_crds(kube, crds.trainjob_crd(), pytorchjob=False)
    _grant_training(kube, namespace)
    account = _mount_account(kube, cluster, namespace, tmp_path / "serviceaccount")
    script = tmp_path / "train.py"
    script.write_text("print('loss=1.0')\n")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "KFJUPYTER_"))}
    env.update(
        HOME=str(home),
        KFJUPYTER_HOME=str(tmp_path / "store"),
        KUBERNETES_SERVICE_HOST="127.0.0.1",
        KUBERNETES_SERVICE_PORT=str(cluster.api_port),
        KFJUPYTER_SERVICE_ACCOUNT_DIR=str(account),
        PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    )
    assert _child(START, env, str(script)) == {
        "access": "in-cluster",
        "backend": "kubernetes",
        "status": "Created",
    }
    # where the account's namespace file said, as the admin sees it
    job = _trainjob(kube, namespace)
    assert job is not None
    assert kube.core.read_namespaced_config_map(code_configmap_name("in-pod"), namespace) is not None
    assert _child(CANCEL, env) == {"status": "Failed", "reason": "Cancelled"}
    wait_for(lambda: _trainjob(kube, namespace) is None, 30, "the cancelled TrainJob to be deleted")


def test_without_the_token_there_is_no_cluster(cluster: ClusterState, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "KFJUPYTER_"))}
    env.update(
        HOME=str(tmp_path),
        KUBERNETES_SERVICE_HOST="127.0.0.1",
        KUBERNETES_SERVICE_PORT=str(cluster.api_port),
        KFJUPYTER_SERVICE_ACCOUNT_DIR=str(tmp_path / "not-mounted"),
        PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    )
    code = "from kfjupyter.k8s.client import Kube\nKube.from_environment()"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0 and "No Kubernetes cluster is configured here" in done.stderr
