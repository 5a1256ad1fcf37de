"""The single exception root of kfjupyter.

Every error the product raises on purpose derives from :class:`KfJupyterError`. Each carries a
user-safe ``message`` (what went wrong and what to do), an optional ``detail`` for logs, a short
machine ``reason`` and whether retrying can help (``temporary``). Front doors (CLI, REST, magics)
turn these into one clear line, an HTTP status or a widget message; anything else is a bug.
"""

from __future__ import annotations


class KfJupyterError(Exception):
    """Root of all deliberate kfjupyter errors."""

    reason: str = "error"
    temporary: bool = False

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


class StepFailed(KfJupyterError):
    """User code in a pipeline step raised, was killed, or timed out."""

    reason = "step_failed"
