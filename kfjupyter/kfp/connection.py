"""How kfjupyter reaches a Kubeflow Pipelines API server: host, credentials and the two clients.

:func:`resolve_connection` is the one place every front door (``kfjupyter submit`` and ``runs
sync``, ``%kf run --backend kfp``, the server's ``c.KfJupyterApp.kfp_*``) turns its settings into a
:class:`KfpConnection`, with one precedence for each part:

- host: the front door's own setting (``--kfp-host``, ``%kf run --host``, ``kfp_host``), else
  ``$KFJUPYTER_KFP_HOST``, else ``$KF_PIPELINES_ENDPOINT``;
- bearer token: the front door's, else ``$KF_PIPELINES_TOKEN``, else the projected
  service-account token file that Kubeflow mounts into notebook pods
  (``$KF_PIPELINES_SA_TOKEN_PATH``, default ``/var/run/secrets/kubeflow/pipelines/token``), read
  again on every request so a rotated token keeps working;
- cookie: the front door's, else ``$KF_PIPELINES_COOKIE``;
- namespace of the runs: the front door's, else :data:`DEFAULT_NAMESPACE`; UI host: the front
  door's, else the host. Submission uses ``kfp.Client``; tracking
uses the generated ``kfp_server_api`` run service directly, with a per-request timeout and no
health-check retries, so ``kfjupyter runs list`` stays quick when a server is away.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from kfjupyter.errors import InvalidInput

HOST_ENVS = ("KFJUPYTER_KFP_HOST", "KF_PIPELINES_ENDPOINT")
TOKEN_ENV = "KF_PIPELINES_TOKEN"  # noqa: S105 (a variable name)
COOKIE_ENV = "KF_PIPELINES_COOKIE"
SA_TOKEN_PATH_ENV = "KF_PIPELINES_SA_TOKEN_PATH"  # noqa: S105 (a variable name)
SA_TOKEN_PATH = "/var/run/secrets/kubeflow/pipelines/token"  # noqa: S105 (a file path)
#: The namespace of KFP runs when none is given (single-user Kubeflow Pipelines).
DEFAULT_NAMESPACE = "kubeflow"


class KfpConnection(BaseModel):
    """Where the KFP API server is and how to authenticate to it (never stored with a run)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(
        description="Base URL of the KFP API, e.g. http://ml-pipeline-ui.kubeflow or a port-forward."
    )
    token: str | None = Field(None, description="Bearer token; default $KF_PIPELINES_TOKEN.")
    cookie: str | None = Field(None, description="Cookie header, e.g. 'authservice_session=...'.")
    ui_host: str | None = Field(None, description="Base URL of the KFP UI for links; default the host.")
    namespace: str | None = Field(None, description="Kubernetes namespace of the runs (multi-user KFP).")
    timeout_s: float = Field(10.0, gt=0, description="Timeout of one tracking request, in seconds.")

    def resolved(self, env: Mapping[str, str] | None = None) -> KfpConnection:
        """A copy with the host checked and token/cookie filled from the environment."""
        env = os.environ if env is None else env
        host = self.host.strip().rstrip("/")
        if not host.startswith(("http://", "https://")):
            raise InvalidInput(f"--kfp-host must start with http:// or https://, got {self.host!r}")
        return self.model_copy(
            update={
                "host": host,
                "token": self.token or env.get(TOKEN_ENV) or None,
                "cookie": self.cookie or env.get(COOKIE_ENV) or None,
            }
        )

    def run_link(self, run_id: str) -> str:
        """The KFP UI page of one run."""
        return f"{(self.ui_host or self.host).rstrip('/')}/#/runs/details/{run_id}"


def configured_host(explicit: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """The KFP host: ``explicit``, else the first of :data:`HOST_ENVS` that is set, else ``None``."""
    env = os.environ if env is None else env
    return explicit or next((env[name] for name in HOST_ENVS if env.get(name)), None)


def resolve_connection(
    *,
    host: str | None = None,
    token: str | None = None,
    cookie: str | None = None,
    namespace: str | None = None,
    ui_host: str | None = None,
    how: str = "pass --kfp-host",
    env: Mapping[str, str] | None = None,
) -> KfpConnection:
    """The connection a front door's settings describe (empty ones fall back as the module says).

    Raises ``InvalidInput`` when no host is found at all, saying to ``how`` (the front door's own
    way to give one) or to set the variables, and when the host is not an http(s) URL.
    """
    found = configured_host(host, env)
    if not found:
        raise InvalidInput(
            f"no Kubeflow Pipelines host; {how} or set ${HOST_ENVS[0]} (or ${HOST_ENVS[1]})",
            reason="no_kfp_host",
        )
    return KfpConnection(
        host=found,
        token=token or None,
        cookie=cookie or None,
        namespace=namespace or None,
        ui_host=ui_host or None,
    ).resolved(env)


def sa_token_path() -> Path | None:
    """The mounted KFP service-account token file, if this process runs where one exists."""
    path = Path(os.environ.get(SA_TOKEN_PATH_ENV) or SA_TOKEN_PATH)
    return path if path.is_file() else None


class RunService(Protocol):
    """What tracking needs from the KFP API: one run with its task details."""

    def get_run(self, run_id: str) -> Any:
        """Return the ``kfp_server_api.V2beta1Run`` with this id."""


@contextlib.contextmanager
def quiet_kfp() -> Iterator[None]:
    """kfp.Client prints links to stdout and warns about server versions: send both to stderr."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
        warnings.simplefilter("ignore", FutureWarning)
        yield


def kfp_client(connection: KfpConnection) -> Any:
    """A ``kfp.Client`` for ``connection`` (token, else SA token file, plus any cookie)."""
    from kfp import Client
    from kfp.client.set_volume_credentials import ServiceAccountTokenVolumeCredentials

    conn = connection.resolved()
    credentials = None
    if conn.token is None and (path := sa_token_path()) is not None:
        credentials = ServiceAccountTokenVolumeCredentials(str(path))
    with quiet_kfp():
        return Client(
            host=conn.host,
            existing_token=conn.token,
            cookies=conn.cookie,
            credentials=credentials,
            ui_host=conn.ui_host,
            namespace=conn.namespace or DEFAULT_NAMESPACE,
        )


def _api_client(conn: KfpConnection) -> Any:
    """A ``kfp_server_api.ApiClient`` with the connection's credentials and one retry."""
    import kfp_server_api  # type: ignore[import-untyped]

    config = kfp_server_api.Configuration(host=conn.host)
    config.retries = 1
    token = conn.token
    if token is None and (path := sa_token_path()) is not None:
        token = path.read_text(encoding="utf-8").strip()
    if token:
        config.api_key["authorization"] = token
        config.api_key_prefix["authorization"] = "Bearer"
    return kfp_server_api.ApiClient(config, cookie=conn.cookie)


def _close(api_client: Any) -> None:
    api_client.close()
    api_client.rest_client.pool_manager.clear()


def check_server(connection: KfpConnection) -> None:
    """Call the KFP health endpoint once, raising its error at once.

    ``kfp.Client`` retries its own health check five times, five seconds apart, even on a 401:
    checking first turns a wrong host or missing credentials into an immediate error.
    """
    import kfp_server_api

    api_client = _api_client(connection.resolved())
    try:
        kfp_server_api.HealthzServiceApi(api_client).healthz_service_get_healthz(
            _request_timeout=connection.timeout_s
        )
    finally:
        _close(api_client)


class _RunServiceClient:
    """:class:`RunService` over ``kfp_server_api.RunServiceApi`` with a request timeout."""

    def __init__(self, connection: KfpConnection) -> None:
        import kfp_server_api

        conn = connection.resolved()
        self._api_client = _api_client(conn)
        self._runs = kfp_server_api.RunServiceApi(self._api_client)
        self._timeout = conn.timeout_s

    def get_run(self, run_id: str) -> Any:
        return self._runs.run_service_get_run(run_id=run_id, _request_timeout=self._timeout)

    def close(self) -> None:
        _close(self._api_client)


@contextlib.contextmanager
def run_service(connection: KfpConnection) -> Iterator[RunService]:
    """A :class:`RunService` for ``connection``, closed on exit."""
    service = _RunServiceClient(connection)
    try:
        yield service
    finally:
        service.close()
