"""Run status transitions: which changes are allowed and which timestamps they set.

Both store implementations apply a :class:`~kfjupyter.store.models.RunUpdate` through
:func:`apply_run_update`, so they agree on every rule:

- a run in a final status (succeeded, failed, cancelled) never changes status again;
- an interrupted run may be resumed (``running``) or closed (failed, cancelled);
- setting the same status again is allowed and changes nothing but the other given fields;
- ``running`` sets ``started_at`` if unset (and clears ``finished_at`` on resume); a final or
  interrupted status sets ``finished_at`` unless the update gives one;
- a new ``owner_pid`` without an ``owner_start`` clears the recorded start time.
"""

from __future__ import annotations

from kfjupyter.errors import Conflict
from kfjupyter.store.models import TERMINAL_RUN_STATUSES, RunRecord, RunStatus, RunUpdate

_ALLOWED: dict[RunStatus, frozenset[RunStatus]] = {
    "pending": frozenset({"running", "succeeded", "failed", "cancelled", "interrupted"}),
    "running": frozenset({"succeeded", "failed", "cancelled", "interrupted"}),
    "interrupted": frozenset({"running", "failed", "cancelled"}),
    "succeeded": frozenset(),
    "failed": frozenset(),
    "cancelled": frozenset(),
}


def check_transition(run_id: str, current: RunStatus, new: RunStatus) -> None:
    """Raise :class:`Conflict` unless a run may move from ``current`` to ``new``."""
    if new != current and new not in _ALLOWED[current]:
        raise Conflict(
            f"Run {run_id} is {current} and cannot become {new}.",
            reason="bad_transition",
        )


def apply_run_update(run: RunRecord, update: RunUpdate, now: float) -> RunRecord:
    """Return ``run`` with ``update`` applied at time ``now``; raise :class:`Conflict` if not allowed."""
    changes = {name: getattr(update, name) for name in update.model_fields_set}
    new_status = update.status if "status" in changes else None
    if new_status is None:
        changes.pop("status", None)
    else:
        check_transition(run.id, run.status, new_status)
        if new_status != run.status:
            if new_status == "running":
                if run.started_at is None:
                    changes.setdefault("started_at", now)
                changes.setdefault("finished_at", None)
            elif new_status in TERMINAL_RUN_STATUSES or new_status == "interrupted":
                changes.setdefault("finished_at", now)
    if "owner_pid" in changes and "owner_start" not in changes:
        changes["owner_start"] = None  # a new owner's start time is unknown, never the old owner's
    if changes.get("details", run.details) is None:
        changes.pop("details")  # details are replaced, never cleared: each engine has its own
    elif "details" in changes and changes["details"].backend != run.backend:
        raise Conflict(
            f"Run {run.id} runs on {run.backend}; it cannot take {changes['details'].backend} details."
        )
    return run.model_copy(update=changes)
