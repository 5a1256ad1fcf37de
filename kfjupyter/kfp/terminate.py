"""Cancel a run on Kubeflow Pipelines: ask its server to terminate it.

A KFP 2.x server terminates only a run that is ``PENDING``, ``RUNNING``, ``PAUSED`` or unspecified
(anything else is refused with an invalid-input error): it moves the run to ``CANCELING`` and sets
its workflow's deadline to zero, and the run then ends ``FAILED``. So the run is read first: one
already ``CANCELING`` is not terminated again (a second cancel is answered as the first), one that
has ended is a ``Conflict``. :func:`mark_cancel_requested` notes the cancel on the stored run, so
the sync (:mod:`kfjupyter.kfp.tracking`) records the ``FAILED`` end as ``cancelled``.
"""

from __future__ import annotations

from typing import Any

from kfjupyter.errors import Conflict, KfJupyterError
from kfjupyter.kfp.connection import KfpConnection, check_server, kfp_client, quiet_kfp
from kfjupyter.kfp.submit import _api_error
from kfjupyter.store import KfpDetails, RunRecord, RunStore, RunUpdate
from kfjupyter.store.models import ACTIVE_RUN_STATUSES

#: The KFP states a run can be terminated from (storage/run_store.go, ``TerminateRun``).
TERMINABLE = frozenset({"PENDING", "RUNNING", "PAUSED", "RUNTIME_STATE_UNSPECIFIED"})


def terminate_run(record: RunRecord, connection: KfpConnection, client: Any | None = None) -> str:
    """Ask KFP to terminate ``record``'s run and return the KFP run id.

    A run KFP already reports ``CANCELING`` is left alone (the cancel is under way). Raises
    ``Conflict`` when the run is not an active KFP run, was submitted to another KFP server than
    ``connection``'s or has ended on KFP, and the submit errors (refused, unreachable) otherwise.
    """
    if not isinstance(record.details, KfpDetails) or not record.external_id:
        raise Conflict(f"run {record.id} was not submitted to Kubeflow Pipelines")
    if record.status not in ACTIVE_RUN_STATUSES:
        raise Conflict(f"run {record.id} is {record.status}; only a pending or running run can be cancelled")
    conn = connection.resolved()
    host = record.details.host or ""
    if host and host.rstrip("/") != conn.host.rstrip("/"):
        raise Conflict(f"run {record.id} runs on Kubeflow Pipelines at {host}; cancel it there")
    action = "read the run"
    try:
        with quiet_kfp():
            if client is None:
                check_server(conn)
                client = kfp_client(conn)
            state = str(client.get_run(record.external_id).state or "RUNTIME_STATE_UNSPECIFIED")
            if state == "CANCELING":
                return record.external_id
            if state not in TERMINABLE:
                raise Conflict(
                    f"run {record.id} has already ended on Kubeflow Pipelines ({state.lower()}); "
                    "it can no longer be cancelled"
                )
            action = "terminate the run"
            client.terminate_run(record.external_id)
    except KfJupyterError:
        raise
    except Exception as exc:  # kfp_server_api.ApiException, urllib3 errors
        raise _api_error(action, conn.host, exc) from exc
    return record.external_id


def mark_cancel_requested(store: RunStore, run_id: str) -> RunRecord:
    """Note on the stored run that a cancel was asked, so its ``FAILED`` end reads ``cancelled``."""
    record = store.get_run(run_id)
    if not isinstance(record.details, KfpDetails):
        raise Conflict(f"run {run_id} was not submitted to Kubeflow Pipelines")
    if record.details.cancel:
        return record
    return store.update_run(
        run_id, RunUpdate(details=record.details.model_copy(update={"cancel": "requested"}))
    )
