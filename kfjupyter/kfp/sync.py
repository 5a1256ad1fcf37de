"""Refresh the store's unfinished Kubeflow Pipelines runs: what ``kfjupyter runs sync`` does.

Each ``kfp`` run remembers its server (``KfpDetails.host``), never its credentials: those come
from the caller's :class:`~kfjupyter.kfp.connection.KfpConnection` template (``--token``,
``--cookie``) or the environment, exactly as for ``kfjupyter submit``. A server that cannot be
reached leaves its runs as they were and is reported in :attr:`SyncReport.errors`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from kfjupyter.errors import InvalidInput, KfJupyterError
from kfjupyter.kfp.connection import KfpConnection, RunService, run_service
from kfjupyter.kfp.tracking import RunPods, sync_run
from kfjupyter.store import KfpDetails, RunRecord, RunStore
from kfjupyter.store.models import TERMINAL_RUN_STATUSES

#: Builds the run service of one connection, e.g. :func:`~kfjupyter.kfp.connection.run_service`.
ServiceFactory = Callable[[KfpConnection], AbstractContextManager[RunService]]


@dataclass
class SyncReport:
    """What a sync did: the runs refreshed and one user-safe line per run that failed."""

    synced: list[RunRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def unfinished_kfp_runs(store: RunStore, limit: int = 200) -> list[RunRecord]:
    """The store's ``kfp`` runs that are not final yet, newest first."""
    return [
        r
        for r in store.list_runs(kind="pipeline", limit=limit)
        if isinstance(r.details, KfpDetails) and r.status not in TERMINAL_RUN_STATUSES
    ]


def sync_kfp_runs(
    store: RunStore,
    run_ids: list[str] | None = None,
    *,
    host: str | None = None,
    token: str | None = None,
    cookie: str | None = None,
    pod_logs: RunPods | None = None,
    timeout_s: float = 10.0,
    services: ServiceFactory | None = None,
) -> SyncReport:
    """Sync the given runs (default: every unfinished ``kfp`` run) with their KFP servers.

    ``host`` replaces the recorded server; ``token`` and ``cookie`` default to the environment.
    ``services`` builds the run service per connection (default :func:`run_service`).
    """
    factory = services or run_service
    records = [store.get_run(r) for r in run_ids] if run_ids else unfinished_kfp_runs(store)
    report = SyncReport()
    by_host: dict[str, list[RunRecord]] = {}
    for record in records:
        if not isinstance(record.details, KfpDetails):
            raise InvalidInput(f"run {record.id} is a {record.backend} run; only kfp runs are synced")
        server = host or record.details.host
        if not server:
            report.errors.append(f"run {record.id}: no KFP host recorded; pass --kfp-host")
            continue
        by_host.setdefault(server, []).append(record)
    for server, group in sorted(by_host.items()):
        conn = KfpConnection(host=server, token=token, cookie=cookie, timeout_s=timeout_s)
        try:
            with factory(conn) as service:
                for record in group:
                    try:
                        report.synced.append(sync_run(store, record.id, service, pod_logs=pod_logs))
                    except KfJupyterError as error:
                        report.errors.append(f"run {record.id}: {error.message}")
        except KfJupyterError as error:
            report.errors.append(f"{server}: {error.message}")
    return report
