"""The Kubernetes backend (TrainJob / PyTorchJob): cluster detection, and the backend to come.

:func:`cluster_access` tells whether this process could reach a cluster (in-cluster service
account or a kubeconfig). The backend itself is not shipped yet: :func:`kubernetes_backend`
raises :class:`~kfjupyter.training.job.BackendNotAvailable` naming what is missing. When it lands
it implements :class:`~kfjupyter.training.backends.base.TrainingBackend` with the same job model.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

from kfjupyter.training.job import BackendNotAvailable

_SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")


def cluster_access(env: Mapping[str, str] | None = None, token: Path = _SERVICE_ACCOUNT) -> str | None:
    """Describe how a cluster could be reached from here, or return ``None`` if it cannot."""
    env = os.environ if env is None else env
    if env.get("KUBERNETES_SERVICE_HOST") and token.exists():
        return "in-cluster service account"
    configs = [Path(p) for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    configs = configs or [Path(env.get("HOME", str(Path.home()))) / ".kube" / "config"]
    found = [str(p) for p in configs if p.is_file()]
    return f"kubeconfig {', '.join(found)}" if found else None


def kubernetes_backend(env: Mapping[str, str] | None = None) -> NoReturn:
    """Raise: the Kubernetes training backend is not available in this version."""
    access = cluster_access(env)
    found = (
        f"Cluster access was found ({access}), but"
        if access
        else "No cluster access was found either (no in-cluster service account, no kubeconfig), and"
    )
    raise BackendNotAvailable(
        f"The Kubernetes training backend (Kubeflow TrainJob / PyTorchJob) is not available yet. "
        f"{found} this kfjupyter version ships only the local backend. "
        "Use backend='local' (or 'auto') to run the job on this machine."
    )
