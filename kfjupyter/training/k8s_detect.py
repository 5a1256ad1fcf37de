"""Finding a cluster and what it serves for training: kubeconfig, namespace, TrainJob or PyTorchJob.

:func:`cluster_access` tells whether this process could reach a cluster; :func:`detect_api` looks
for the TrainJob CRD (and reads the Trainer version with
:func:`~kfjupyter.training.k8s_status.trainer_version`), else the PyTorchJob CRD, else raises
:class:`~kfjupyter.training.job.BackendNotAvailable` naming both; :func:`default_namespace` picks
where jobs go.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kfjupyter.k8s.client import Kube, KubeUnavailable, is_status, list_json
from kfjupyter.training.job import BackendNotAvailable
from kfjupyter.training.k8s_builders import TrainerVersion
from kfjupyter.training.k8s_status import CrKind, trainer_version

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
TRAINJOB_CRD = "trainjobs.trainer.kubeflow.org"
PYTORCHJOB_CRD = "pytorchjobs.kubeflow.org"
DETECT_TIMEOUT_S = 5.0


def cluster_access(env: Mapping[str, str] | None = None, token: Path = SERVICE_ACCOUNT) -> str | None:
    """Describe how a cluster could be reached from here, or return ``None`` if it cannot."""
    env = os.environ if env is None else env
    if env.get("KUBERNETES_SERVICE_HOST") and token.exists():
        return "in-cluster service account"
    found = kubeconfigs(env)
    return f"kubeconfig {', '.join(found)}" if found else None


def kubeconfigs(env: Mapping[str, str]) -> list[str]:
    """The kubeconfig files that exist (``KUBECONFIG``, else ``~/.kube/config``)."""
    configs = [Path(p) for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    configs = configs or [Path(env.get("HOME", str(Path.home()))) / ".kube" / "config"]
    return [str(p) for p in configs if p.is_file()]


class TrainingApi(BaseModel):
    """Which training API the cluster serves, and how that was found."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: CrKind = Field(description="TrainJob (Kubeflow Trainer v2) or PyTorchJob (Training Operator v1).")
    version: TrainerVersion | None = Field(None, description="Trainer version, for TrainJob.")
    found_by: str = Field("", description="How the version was found.")


#: ``_crd``'s answer when the caller may not read CRDs (a namespace-confined service account).
FORBIDDEN: dict[str, Any] = {}


def _crd(api_client: Any, name: str) -> dict[str, Any] | None:
    """The CRD called ``name``; ``None`` if absent, :data:`FORBIDDEN` if we may not read CRDs."""
    from kubernetes import client

    try:
        api = client.ApiextensionsV1Api(api_client)
        return list_json(api.read_custom_resource_definition, name=name, _request_timeout=DETECT_TIMEOUT_S)
    except Exception as error:
        if is_status(error, 404):
            return None
        if is_status(error, 403):
            return FORBIDDEN
        raise KubeUnavailable(
            f"Could not ask the cluster whether it serves {name}: {error}", detail=repr(error)
        ) from error


def _served(api_client: Any, group_version: str, plural: str) -> bool:
    """Whether API discovery (readable by every authenticated user) lists ``plural``."""
    try:
        response = api_client.call_api(
            f"/apis/{group_version}",
            "GET",
            auth_settings=["BearerToken"],
            _preload_content=False,
            _return_http_data_only=True,
            _request_timeout=DETECT_TIMEOUT_S,
        )
        try:
            body: dict[str, Any] = json.loads(response.data)
        finally:
            response.release_conn()
    except Exception as error:
        if is_status(error, 404, 403):
            return False
        raise KubeUnavailable(
            f"Could not ask the cluster whether it serves {group_version}: {error}", detail=repr(error)
        ) from error
    return any(r.get("name") == plural for r in body.get("resources", []))


def _exists(kube: Kube, crd: dict[str, Any] | None, group_version: str, plural: str) -> bool:
    if crd is FORBIDDEN:
        return _served(kube.api_client, group_version, plural)
    return crd is not None


def detect_api(kube: Kube) -> TrainingApi:
    """TrainJob (with the Trainer version) if its CRD exists, else PyTorchJob, else raise.

    A caller that may not read CRDs (a notebook's namespace-confined service account) falls back
    to API discovery, which every authenticated user may read; the Trainer version then comes
    from the public ConfigMap if readable, else the newest is assumed.

    Raises ``BackendNotAvailable`` when neither CRD exists and ``KubeUnavailable`` when the API
    server cannot be asked (within a few seconds).
    """
    crd = _crd(kube.api_client, TRAINJOB_CRD)
    if _exists(kube, crd, "trainer.kubeflow.org/v1alpha1", "trainjobs"):
        public = None
        with contextlib.suppress(Exception):
            public = kube.core.read_namespaced_config_map(
                "kubeflow-trainer-public", "kubeflow-system", _request_timeout=DETECT_TIMEOUT_S
            ).data
        version, how = trainer_version(public, crd or {})
        if crd is FORBIDDEN:
            how = f"API discovery (CRDs not readable here); {how}"
        return TrainingApi(kind="TrainJob", version=version, found_by=how)
    if _exists(kube, _crd(kube.api_client, PYTORCHJOB_CRD), "kubeflow.org/v1", "pytorchjobs"):
        return TrainingApi(kind="PyTorchJob", found_by=f"CRD {PYTORCHJOB_CRD}")
    raise BackendNotAvailable(
        "This cluster has neither Kubeflow Trainer v2 nor the Training Operator: looked for the CRDs "
        f"{TRAINJOB_CRD} (TrainJob) and {PYTORCHJOB_CRD} (PyTorchJob). Install Kubeflow Trainer, or "
        "use backend='local'."
    )


def default_namespace(env: Mapping[str, str] | None = None) -> str:
    """``KFJUPYTER_NAMESPACE``, else the in-cluster namespace, else the kubeconfig's, else ``default``."""
    env = os.environ if env is None else env
    if env.get("KFJUPYTER_NAMESPACE"):
        return env["KFJUPYTER_NAMESPACE"]
    with contextlib.suppress(OSError):
        return SERVICE_ACCOUNT.with_name("namespace").read_text(encoding="utf-8").strip() or "default"
    configs = kubeconfigs(env)
    if configs:
        with contextlib.suppress(Exception):  # an unreadable kubeconfig: fall back to "default"
            from kubernetes import config

            _, context = config.list_kube_config_contexts(config_file=configs[0])
            return str(context.get("context", {}).get("namespace") or "default")
    return "default"
