"""The one place that turns cluster access into live Kubernetes API clients, and reads their errors.

Nothing here runs at import time: callers build a :class:`Kube` when they need one, from the
environment (:meth:`Kube.from_environment`: in-cluster service account, then ``$KUBECONFIG``, then
``~/.kube/config``), a kubeconfig path or a :class:`~kfjupyter.k8s.access.ClusterAccess`, and close
it when done (it owns a connection pool). Everything else in kfjupyter takes a ``Kube`` (or plain
dicts from the pure builders), so tests never need a kubeconfig to import.

:func:`ignore_not_found`, :func:`ignore_conflict` and :func:`ignore_status` are the one way to
let an expected API answer (404 on a delete, 409 on a create) pass.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from kfjupyter.errors import Unavailable
from kfjupyter.k8s.access import HOST_ENV, PORT_ENV, ClusterAccess, find_access, where_looked


class KubeUnavailable(Unavailable):
    """The Kubernetes API server could not be reached or refused the request."""

    reason = "kubernetes_unavailable"


class Kube:
    """Typed-enough handles to the API groups we use, sharing one connection pool."""

    def __init__(self, source: str | Path | ClusterAccess, *, pool_size: int = 32) -> None:
        """Connect with ``source``: a kubeconfig path, or an access found by :func:`find_access`."""
        from kubernetes import client, config
        from kubernetes.config.incluster_config import InClusterConfigLoader

        access = source if isinstance(source, ClusterAccess) else ClusterAccess("kubeconfig", Path(source))
        configuration = client.Configuration()
        try:
            if access.service_account is not None:
                account = access.service_account
                environ = {HOST_ENV: access.host, PORT_ENV: access.port}
                # the loader re-reads the token file every minute: a rotated token keeps working
                loader = InClusterConfigLoader(
                    str(account / "token"), str(account / "ca.crt"), environ=environ
                )
                loader.load_and_set(configuration)
            else:
                config.load_kube_config(
                    config_file=str(access.kubeconfig), client_configuration=configuration
                )
        except Exception as error:  # the loaders raise many unrelated types
            raise KubeUnavailable(
                f"Cannot use the {access.describe()}: {error}", detail=repr(error)
            ) from error
        configuration.connection_pool_maxsize = pool_size
        self.access = access
        self.api_client: Any = client.ApiClient(configuration)
        self.core: Any = client.CoreV1Api(self.api_client)
        self.batch: Any = client.BatchV1Api(self.api_client)
        self.storage: Any = client.StorageV1Api(self.api_client)
        self.coordination: Any = client.CoordinationV1Api(self.api_client)
        self.rbac: Any = client.RbacAuthorizationV1Api(self.api_client)
        self.custom: Any = client.CustomObjectsApi(self.api_client)
        self.extensions: Any = client.ApiextensionsV1Api(self.api_client)

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None, *, pool_size: int = 32) -> Kube:
        """Connect the way :func:`~kfjupyter.k8s.access.find_access` finds; ``KubeUnavailable`` if nowhere."""
        access = find_access(os.environ if env is None else env)
        if access is None:
            raise KubeUnavailable(
                f"No Kubernetes cluster is configured here: looked for {where_looked(env)}.",
                reason="no_cluster",
            )
        return cls(access, pool_size=pool_size)

    def get_json(self, path: str, *, timeout_s: float | None = None) -> dict[str, Any]:
        """GET an API path (e.g. ``/apis/trainer.kubeflow.org/v1alpha1``) and return its JSON body."""
        response = self.api_client.call_api(
            path,
            "GET",
            auth_settings=["BearerToken"],
            _preload_content=False,
            _return_http_data_only=True,
            _request_timeout=timeout_s,
        )
        try:
            body: dict[str, Any] = json.loads(response.data)
        finally:
            response.release_conn()
        return body

    def close(self) -> None:
        """Close the connection pool."""
        self.api_client.close()

    def __enter__(self) -> Kube:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def is_status(error: BaseException, *codes: int) -> bool:
    """Whether ``error`` is an API error with one of the HTTP status ``codes``."""
    from kubernetes.client.exceptions import ApiException

    return isinstance(error, ApiException) and error.status in codes


class Ignored:
    """What an ``ignore_*`` block let pass: falsy when the block ran through."""

    def __init__(self) -> None:
        self.error: BaseException | None = None

    def __bool__(self) -> bool:
        return self.error is not None


@contextlib.contextmanager
def ignore_status(*codes: int) -> Iterator[Ignored]:
    """Let an API error with one of the HTTP status ``codes`` end the block quietly; re-raise others.

    ``with ignore_status(404, 409) as ignored: ...``; afterwards ``ignored`` is truthy (and
    ``ignored.error`` set) when an error was let pass.
    """
    outcome = Ignored()
    try:
        yield outcome
    except Exception as error:
        if not is_status(error, *codes):
            raise
        outcome.error = error


def ignore_not_found() -> contextlib.AbstractContextManager[Ignored]:
    """``ignore_status(404)``: the object is already gone (or never was)."""
    return ignore_status(404)


def ignore_conflict() -> contextlib.AbstractContextManager[Ignored]:
    """``ignore_status(409)``: the object already exists (or changed meanwhile)."""
    return ignore_status(409)


def list_json(call: Any, **kwargs: Any) -> dict[str, Any]:
    """Call a ``list_*`` API method and return the raw JSON body as a dict (no model objects)."""
    response = call(_preload_content=False, **kwargs)
    try:
        body: dict[str, Any] = json.loads(response.data)
    finally:
        response.release_conn()
    return body


def watch_json(call: Any, **kwargs: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Stream ``(type, object)`` watch events of a ``list_*`` API method as plain dicts.

    Ends when the server closes the stream (``timeout_seconds``); an ``ERROR`` event is yielded
    as is (its object is a Status, e.g. 410 Gone when the resource version is too old).
    """
    response = call(_preload_content=False, watch=True, **kwargs)
    buffer = b""
    try:
        for chunk in response.stream(amt=None, decode_content=False):
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line.strip():
                    event = json.loads(line)
                    yield str(event["type"]), event["object"]
    finally:
        response.close()  # an unfinished stream must not go back to the pool half-read
        response.release_conn()


def discard(response: Any) -> None:
    """Read and drop the body of a ``_preload_content=False`` response, returning its connection."""
    response.drain_conn()
    response.release_conn()
