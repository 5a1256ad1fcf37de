"""The one place that turns a kubeconfig into live Kubernetes API clients.

Nothing here runs at import time: callers build a :class:`Kube` from a kubeconfig path when they
need one and close it when done (it owns a connection pool). Everything else in kfjupyter takes a
``Kube`` (or plain dicts from the pure builders), so tests never need a kubeconfig to import.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from kfjupyter.errors import Unavailable


class KubeUnavailable(Unavailable):
    """The Kubernetes API server could not be reached or refused the request."""

    reason = "kubernetes_unavailable"


class Kube:
    """Typed-enough handles to the API groups we use, sharing one connection pool."""

    def __init__(self, kubeconfig: str | Path, *, pool_size: int = 32) -> None:
        from kubernetes import client, config

        configuration = client.Configuration()
        try:
            config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
        except Exception as error:  # the loader raises many unrelated types
            raise KubeUnavailable(f"cannot load kubeconfig {kubeconfig}: {error}") from error
        configuration.connection_pool_maxsize = pool_size
        self.api_client: Any = client.ApiClient(configuration)
        self.core: Any = client.CoreV1Api(self.api_client)
        self.batch: Any = client.BatchV1Api(self.api_client)
        self.storage: Any = client.StorageV1Api(self.api_client)
        self.coordination: Any = client.CoordinationV1Api(self.api_client)

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
