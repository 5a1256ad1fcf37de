"""Cancel a run on Kubeflow Pipelines: ask its server to terminate it.

The store is not changed here: KFP moves the run to ``CANCELING`` then ``CANCELED``, and the
next sync (:mod:`kfjupyter.kfp.sync`) records that, with its unstarted steps ``cancelled``.
"""

from __future__ import annotations

from typing import Any

from kfjupyter.errors import Conflict, KfJupyterError
from kfjupyter.kfp.connection import KfpConnection, check_server, kfp_client, quiet_kfp
from kfjupyter.kfp.submit import _api_error
from kfjupyter.kfp.tracking import BACKEND, HOST_LABEL
from kfjupyter.store import RunRecord
from kfjupyter.store.models import ACTIVE_RUN_STATUSES


def terminate_run(record: RunRecord, connection: KfpConnection, client: Any | None = None) -> str:
    """Ask KFP to terminate ``record``'s run and return the KFP run id.

    Raises ``Conflict`` when the run is not an active KFP run or was submitted to another KFP
    server than ``connection``'s, and the submit errors (refused, unreachable) otherwise.
    """
    if record.backend != BACKEND or not record.external_id:
        raise Conflict(f"run {record.id} was not submitted to Kubeflow Pipelines")
    if record.status not in ACTIVE_RUN_STATUSES:
        raise Conflict(f"run {record.id} is {record.status}; only a pending or running run can be cancelled")
    conn = connection.resolved()
    host = record.labels.get(HOST_LABEL, "")
    if host and host.rstrip("/") != conn.host.rstrip("/"):
        raise Conflict(f"run {record.id} runs on Kubeflow Pipelines at {host}; cancel it there")
    try:
        with quiet_kfp():
            if client is None:
                check_server(conn)
                client = kfp_client(conn)
            client.terminate_run(record.external_id)
    except KfJupyterError:
        raise
    except Exception as exc:  # kfp_server_api.ApiException, urllib3 errors
        raise _api_error("terminate the run", conn.host, exc) from exc
    return record.external_id
