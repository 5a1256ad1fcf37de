"""The one place where errors become HTTP statuses.

User mistakes (``InvalidInput``) are 400, ``Forbidden`` 403, ``NotFound`` 404, ``Conflict`` and
``BackendNotAvailable`` (a training backend this server cannot use) 409,
``UpstreamFailed`` (a service the server calls, e.g. Kubeflow Pipelines, failed or refused) 502,
``Unavailable`` and ``StorageFault`` (the run store is corrupt or cannot be opened) 503,
``InsufficientStorage`` (and an ``OSError`` saying the disk or quota is full) 507. Anything else is a
bug: the handler logs it and answers 500.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable

from pydantic import ValidationError
from tornado import web

from kfjupyter.errors import (
    Conflict,
    Forbidden,
    InsufficientStorage,
    InvalidInput,
    KfJupyterError,
    NotFound,
    StorageFault,
    Unavailable,
    UpstreamFailed,
)
from kfjupyter.training.job import BackendNotAvailable

_STATUS: tuple[tuple[type[KfJupyterError], int], ...] = (
    (InvalidInput, 400),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (BackendNotAvailable, 409),
    (UpstreamFailed, 502),
    (Unavailable, 503),
    (StorageFault, 503),
    (InsufficientStorage, 507),
)
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def status_for(error: KfJupyterError) -> int:
    """HTTP status for a deliberate error; 500 for kinds that are not the caller's doing."""
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 500


def validation_message(
    error: ValidationError, known: Iterable[str] = (), *, what: str = "request body"
) -> str:
    """One line naming each bad field of a request body (or query) and why it is bad.

    An unknown top-level field is named with the ``known`` ones, so the caller sees what to send.
    """
    parts = []
    for item in error.errors():
        where = _location(item["loc"])
        if item["type"] == "extra_forbidden" and len(item["loc"]) == 1 and known:
            parts.append(f"{where}: unknown field; remove it (accepted: {', '.join(sorted(known))})")
        else:
            parts.append(f"{where}: {item['msg']}")
    return f"Invalid {what}: " + "; ".join(parts)


def _location(loc: tuple[int | str, ...], most: int = 8) -> str:
    """``a.b.0.c`` for a field's location; a deep one keeps its first and last parts."""
    parts = [str(p) for p in loc]
    if len(parts) > most:
        return ".".join(parts[: most // 2]) + "..." + ".".join(parts[-most // 2 :])
    return ".".join(parts) or "body"


def to_http_error(error: Exception) -> web.HTTPError | None:
    """Map a known error to an ``HTTPError`` carrying its user message; None for bugs."""
    if isinstance(error, web.HTTPError):
        return error
    if isinstance(error, ValidationError):
        http = web.HTTPError(400, validation_message(error), reason="Bad Request")
        http.kf_reason = InvalidInput.reason  # type: ignore[attr-defined]
        return http
    if isinstance(error, OSError) and error.errno in _DISK_FULL:
        error = InsufficientStorage(
            f"The server's disk is full ({error.strerror}); free some space, then try again.",
            detail=repr(error),
        )
    if isinstance(error, KfJupyterError):
        http = web.HTTPError(status_for(error), error.message)
        http.kf_reason = error.reason  # type: ignore[attr-defined]
        return http
    return None
