"""The one place where errors become HTTP statuses.

User mistakes (``InvalidInput``) are 400, ``Forbidden`` 403, ``NotFound`` 404, ``Conflict`` and
``BackendNotAvailable`` (a training backend this server cannot use) 409,
``UpstreamFailed`` (a service the server calls, e.g. Kubeflow Pipelines, failed or refused) 502,
``Unavailable`` 503. Anything else is a bug: the handler logs it and answers 500.
"""

from __future__ import annotations

from pydantic import ValidationError
from tornado import web

from kfjupyter.errors import Conflict, Forbidden, InvalidInput, KfJupyterError, NotFound, Unavailable
from kfjupyter.training.job import BackendNotAvailable


class UpstreamFailed(KfJupyterError):
    """A service the server called for the user (Kubeflow Pipelines) failed or refused the request."""

    reason = "upstream_failed"


_STATUS: tuple[tuple[type[KfJupyterError], int], ...] = (
    (InvalidInput, 400),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (BackendNotAvailable, 409),
    (UpstreamFailed, 502),
    (Unavailable, 503),
)


def status_for(error: KfJupyterError) -> int:
    """HTTP status for a deliberate error; 500 for kinds that are not the caller's doing."""
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 500


def validation_message(error: ValidationError) -> str:
    """One line naming each bad field of a request body and why it is bad."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg']}")
    return "Invalid request body: " + "; ".join(parts)


def to_http_error(error: Exception) -> web.HTTPError | None:
    """Map a known error to an ``HTTPError`` carrying its user message; None for bugs."""
    if isinstance(error, web.HTTPError):
        return error
    if isinstance(error, ValidationError):
        return web.HTTPError(400, validation_message(error), reason="Bad Request")
    if isinstance(error, KfJupyterError):
        http = web.HTTPError(status_for(error), error.message)
        http.kf_reason = error.reason  # type: ignore[attr-defined]
        return http
    return None
