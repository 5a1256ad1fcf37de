"""Finding what a cluster serves for training (TrainJob or PyTorchJob) and where jobs go.

:func:`cluster_access` tells whether this process could reach a cluster; :func:`detect_api` looks
for the TrainJob CRD (and reads the Trainer version with
:func:`~kfjupyter.training.k8s_status.trainer_version`), else the PyTorchJob CRD, else raises
:class:`~kfjupyter.training.job.BackendNotAvailable` naming both; :func:`default_namespace` picks
where jobs go.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kfjupyter.k8s.access import find_access
from kfjupyter.k8s.client import Kube, KubeUnavailable, ignore_not_found, ignore_status, is_status, list_json
from kfjupyter.store.details import CrKind
from kfjupyter.training.job import BackendNotAvailable
from kfjupyter.training.k8s_builders import TrainerVersion
from kfjupyter.training.k8s_status import trainer_version

TRAINJOB_CRD = "trainjobs.trainer.kubeflow.org"
PYTORCHJOB_CRD = "pytorchjobs.kubeflow.org"
DETECT_TIMEOUT_S = 5.0


def cluster_access(env: Mapping[str, str] | None = None) -> str | None:
    """Describe how a cluster could be reached from here, or return ``None`` if it cannot."""
    access = find_access(env)
    return access.describe() if access is not None else None


class TrainingApi(BaseModel):
    """Which training API the cluster serves, and how that was found."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: CrKind = Field(description="TrainJob (Kubeflow Trainer v2) or PyTorchJob (Training Operator v1).")
    version: TrainerVersion | None = Field(None, description="Trainer version, for TrainJob.")
    found_by: str = Field("", description="How the version was found.")


#: ``_crd``'s answer when the caller may not read CRDs (a namespace-confined service account).
FORBIDDEN: dict[str, Any] = {}


def _crd(kube: Kube, name: str) -> dict[str, Any] | None:
    """The CRD called ``name``; ``None`` if absent, :data:`FORBIDDEN` if we may not read CRDs."""
    read = kube.extensions.read_custom_resource_definition
    try:
        with ignore_not_found():
            return list_json(read, name=name, _request_timeout=DETECT_TIMEOUT_S)
        return None
    except Exception as error:
        if is_status(error, 403):
            return FORBIDDEN
        raise KubeUnavailable(
            f"Could not ask the cluster whether it serves {name}: {error}", detail=repr(error)
        ) from error


def _served(kube: Kube, group_version: str, plural: str) -> bool:
    """Whether API discovery (readable by every authenticated user) lists ``plural``."""
    try:
        with ignore_status(404, 403):
            body = kube.get_json(f"/apis/{group_version}", timeout_s=DETECT_TIMEOUT_S)
            return any(r.get("name") == plural for r in body.get("resources", []))
        return False
    except Exception as error:
        raise KubeUnavailable(
            f"Could not ask the cluster whether it serves {group_version}: {error}", detail=repr(error)
        ) from error


def _exists(kube: Kube, crd: dict[str, Any] | None, group_version: str, plural: str) -> bool:
    if crd is FORBIDDEN:
        return _served(kube, group_version, plural)
    return crd is not None


def detect_api(kube: Kube) -> TrainingApi:
    """TrainJob (with the Trainer version) if its CRD exists, else PyTorchJob, else raise.

    A caller that may not read CRDs (a notebook's namespace-confined service account) falls back
    to API discovery, which every authenticated user may read; the Trainer version then comes
    from the public ConfigMap if readable, else the newest is assumed.

    Raises ``BackendNotAvailable`` when neither CRD exists and ``KubeUnavailable`` when the API
    server cannot be asked (within a few seconds).
    """
    crd = _crd(kube, TRAINJOB_CRD)
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
    if _exists(kube, _crd(kube, PYTORCHJOB_CRD), "kubeflow.org/v1", "pytorchjobs"):
        return TrainingApi(kind="PyTorchJob", found_by=f"CRD {PYTORCHJOB_CRD}")
    raise BackendNotAvailable(
        "This cluster has neither Kubeflow Trainer v2 nor the Training Operator: looked for the CRDs "
        f"{TRAINJOB_CRD} (TrainJob) and {PYTORCHJOB_CRD} (PyTorchJob). Install Kubeflow Trainer, or "
        "use backend='local'."
    )


def default_namespace(env: Mapping[str, str] | None = None) -> str:
    """``KFJUPYTER_NAMESPACE``, else the namespace the cluster access implies, else ``default``."""
    env = os.environ if env is None else env
    if env.get("KFJUPYTER_NAMESPACE"):
        return env["KFJUPYTER_NAMESPACE"]
    access = find_access(env)
    return access.namespace() if access is not None else "default"
