"""Where this process finds a Kubernetes cluster: in-cluster service account, ``KUBECONFIG``, ``~/.kube``.

:func:`find_access` looks in that order and returns a :class:`ClusterAccess` naming what it found
(or ``None``), without contacting the cluster:

1. the in-cluster service account: ``$KUBERNETES_SERVICE_HOST`` and ``$KUBERNETES_SERVICE_PORT``
   set and a token file in the service-account directory (``/var/run/secrets/kubernetes.io/
   serviceaccount``, or ``$KFJUPYTER_SERVICE_ACCOUNT_DIR`` for a token mounted elsewhere): a
   notebook pod whose profile grants cluster access;
2. the first file of ``$KUBECONFIG`` (``os.pathsep``-separated) that exists;
3. ``~/.kube/config``.

:meth:`ClusterAccess.namespace` is the namespace that access implies: the service account's, else
the kubeconfig's current context's, else ``default``. :class:`~kfjupyter.k8s.client.Kube` turns an
access into API clients.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
SERVICE_ACCOUNT_DIR_ENV = "KFJUPYTER_SERVICE_ACCOUNT_DIR"
HOST_ENV, PORT_ENV = "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"


@dataclass(frozen=True)
class ClusterAccess:
    """How to reach one cluster: the in-cluster service account, or a kubeconfig file."""

    kind: Literal["in-cluster", "kubeconfig"]
    #: the kubeconfig file (``kind == "kubeconfig"``)
    kubeconfig: Path | None = None
    #: the service-account directory holding ``token``, ``ca.crt`` and ``namespace`` (in-cluster)
    service_account: Path | None = None
    #: host and port of the API server's service (in-cluster)
    host: str = ""
    port: str = ""

    @property
    def server(self) -> str:
        """``https://host:port`` of the API server (in-cluster)."""
        return (
            f"https://[{self.host}]:{self.port}" if ":" in self.host else f"https://{self.host}:{self.port}"
        )

    @property
    def key(self) -> str:
        """A string naming this access, for caches of clients per cluster."""
        return f"in-cluster:{self.server}" if self.kind == "in-cluster" else f"kubeconfig:{self.kubeconfig}"

    def describe(self) -> str:
        """Words for messages: ``in-cluster service account (…)`` or ``kubeconfig PATH``."""
        if self.kind == "in-cluster":
            return f"in-cluster service account ({self.service_account}, API server {self.server})"
        return f"kubeconfig {self.kubeconfig}"

    def namespace(self) -> str:
        """The service account's namespace, else the kubeconfig context's, else ``default``."""
        if self.service_account is not None:
            with contextlib.suppress(OSError):
                return (self.service_account / "namespace").read_text(encoding="utf-8").strip() or "default"
            return "default"
        if self.kubeconfig is not None:
            with contextlib.suppress(Exception):  # an unreadable kubeconfig: fall back to "default"
                from kubernetes import config

                _, context = config.list_kube_config_contexts(config_file=str(self.kubeconfig))
                return str(context.get("context", {}).get("namespace") or "default")
        return "default"


def service_account_dir(env: Mapping[str, str]) -> Path:
    """The directory the service account is mounted at (``$KFJUPYTER_SERVICE_ACCOUNT_DIR`` or the default)."""
    return Path(env.get(SERVICE_ACCOUNT_DIR_ENV) or SERVICE_ACCOUNT_DIR)


def in_cluster(env: Mapping[str, str]) -> ClusterAccess | None:
    """The in-cluster access, when the service host/port are set and a token is mounted."""
    host, port = env.get(HOST_ENV, ""), env.get(PORT_ENV, "")
    account = service_account_dir(env)
    if not host or not port or not (account / "token").is_file():
        return None
    return ClusterAccess(kind="in-cluster", service_account=account, host=host, port=port)


def kubeconfigs(env: Mapping[str, str]) -> list[Path]:
    """The kubeconfig files that exist: those of ``$KUBECONFIG``, else ``~/.kube/config``."""
    configs = [Path(p) for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    configs = configs or [Path(env.get("HOME") or str(Path.home())) / ".kube" / "config"]
    return [p for p in configs if p.is_file()]


def find_access(env: Mapping[str, str] | None = None) -> ClusterAccess | None:
    """In-cluster, else the first existing ``$KUBECONFIG`` file, else ``~/.kube/config``; or ``None``."""
    env = os.environ if env is None else env
    found = in_cluster(env)
    if found is not None:
        return found
    configs = kubeconfigs(env)
    return ClusterAccess(kind="kubeconfig", kubeconfig=configs[0]) if configs else None


def where_looked(env: Mapping[str, str] | None = None) -> str:
    """Words naming the places :func:`find_access` looks, for "no cluster" messages."""
    env = os.environ if env is None else env
    return (
        f"an in-cluster service account (${HOST_ENV} and a token in {service_account_dir(env)}), "
        "$KUBECONFIG or ~/.kube/config"
    )
