"""The single exception root of kfjupyter.

Every error the product raises on purpose derives from :class:`KfJupyterError`. Each carries a
user-safe ``message`` (what went wrong and what to do), an optional ``detail`` for logs, a short
machine ``reason`` and whether retrying can help (``temporary``). Front doors (CLI, REST, magics)
turn these into one clear line, an HTTP status or a widget message; anything else is a bug.

The command line exits with the kind's ``exit_status``: 2 for the caller's mistakes and refusals,
and the BSD ``sysexits`` codes for faults that are not the caller's (73: the disk is full, 74: the
run store is broken, 75: try again later). :func:`error_for_exit_status` turns a status back into
the kind, so a server that runs the command knows whose fault a failure was.
"""

from __future__ import annotations


class KfJupyterError(Exception):
    """Root of all deliberate kfjupyter errors."""

    reason: str = "error"
    temporary: bool = False
    exit_status: int = 2

    def __init__(self, message: str, *, detail: str | None = None, reason: str | None = None) -> None:
        """Create the error with a user-safe message and an optional log detail."""
        super().__init__(message)
        self.message = message
        self.detail = detail
        if reason is not None:
            self.reason = reason

    def __str__(self) -> str:
        """Return the user-safe message."""
        return self.message


class InvalidInput(KfJupyterError):
    """The user gave something malformed: a bad notebook, parameter, option or request body."""

    reason = "invalid"


class NotFound(KfJupyterError):
    """A run, step, artifact or notebook that was asked for does not exist."""

    reason = "not_found"


class Forbidden(KfJupyterError):
    """The caller may not do what they asked."""

    reason = "forbidden"


class Conflict(KfJupyterError):
    """The request clashes with the current state (e.g. resuming a run that is still running)."""

    reason = "conflict"


class Unavailable(KfJupyterError):
    """A backend or service is not reachable right now; retrying later can help."""

    reason = "unavailable"
    temporary = True
    exit_status = 75  # EX_TEMPFAIL


class StorageFault(KfJupyterError):
    """kfjupyter's own storage (the run store, run files) is broken: corrupt, unreadable or unwritable.

    Not the caller's doing: whoever looks after the machine must repair or move it (the message says how).
    """

    reason = "storage_fault"
    exit_status = 74  # EX_IOERR


class InsufficientStorage(KfJupyterError):
    """The disk or quota holding the run store or run files is full; freeing space and retrying helps."""

    reason = "insufficient_storage"
    temporary = True
    exit_status = 73  # EX_CANTCREAT


class StepFailed(KfJupyterError):
    """User code in a pipeline step raised, was killed, or timed out."""

    reason = "step_failed"


class UpstreamFailed(KfJupyterError):
    """A service called for the user (Kubeflow Pipelines) failed or refused the request.

    :meth:`of` keeps the cause's message, exit status and whether a retry can help.
    """

    reason = "upstream_failed"

    @classmethod
    def of(cls, error: KfJupyterError) -> UpstreamFailed:
        """The upstream failure that ``error`` (raised while talking to the service) describes."""
        wrapped = cls(error.message, detail=error.detail)
        wrapped.exit_status, wrapped.temporary = error.exit_status, error.temporary
        return wrapped


def error_for_exit_status(status: int, message: str, *, detail: str | None = None) -> KfJupyterError:
    """The error a ``kfjupyter`` command that exited with ``status`` reported (``InvalidInput`` for 2)."""
    for kind in (Unavailable, StorageFault, InsufficientStorage):
        if status == kind.exit_status:
            return kind(message, detail=detail)
    return InvalidInput(message, detail=detail)
