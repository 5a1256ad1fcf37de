"""Kubeflow Pipelines runs kept current for the Lab: refreshed when read, cancelled through KFP.

Each ``kfp`` run remembers its KFP server; the server's credentials (``c.KfJupyterApp.kfp_token``,
``kfp_cookie``) are used to ask it. A run is asked about at most once every :data:`REFRESH_S`
seconds however many clients look: the runs list refreshes the unfinished KFP runs of its page in
the background (the list answers at once, the next poll shows the news), the run detail waits
(bounded) for its run. An unreachable KFP server leaves the runs as they were. Step logs and
failure messages are read from the run's pods through the Kubernetes API (in-cluster, else the
kubeconfig), best effort.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterable

from kfjupyter.store import KfpDetails, RunRecord, open_store
from kfjupyter.store.models import ACTIVE_RUN_STATUSES

#: Seconds between two questions to KFP about the same run.
REFRESH_S = 3.0
#: Longest a run detail request waits for KFP before answering with what the store has.
DETAIL_WAIT_S = 6.0

log = logging.getLogger(__name__)


def live_kfp_runs(runs: Iterable[RunRecord]) -> list[str]:
    """The ids of the unfinished KFP runs among ``runs``."""
    return [
        r.id
        for r in runs
        if isinstance(r.details, KfpDetails) and r.external_id and r.status in ACTIVE_RUN_STATUSES
    ]


class KfpRefresher:
    """Throttled syncs of KFP runs into the run store, off the event loop."""

    def __init__(self, token: str = "", cookie: str = "") -> None:
        self.token, self.cookie = token, cookie
        self._asked: dict[str, float] = {}
        self._lock = threading.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    def _due(self, run_ids: Iterable[str]) -> list[str]:
        now = time.monotonic()
        with self._lock:
            due = [r for r in run_ids if now - self._asked.get(r, -REFRESH_S) >= REFRESH_S]
            self._asked.update(dict.fromkeys(due, now))
        return due

    def _sync(self, run_ids: list[str]) -> None:
        from kfjupyter.kfp.steppods import KubernetesRunPods
        from kfjupyter.runs.backend import RunContext
        from kfjupyter.runs.kfp_sync import SYNC_TIMEOUT_S
        from kfjupyter.runs.operations import sync_kfp_runs

        try:
            with open_store() as store:
                ctx = RunContext(
                    store,
                    kfp_token=self.token or None,
                    kfp_cookie=self.cookie or None,
                    kfp_pods=KubernetesRunPods(),
                )
                report = sync_kfp_runs(ctx, run_ids, timeout_s=SYNC_TIMEOUT_S)
        except Exception:  # a background refresh must never take the server down; say why in the log
            log.warning("kfjupyter: refreshing KFP runs %s failed", run_ids, exc_info=True)
            return
        for error in report.errors:
            log.info("kfjupyter: could not refresh a KFP run: %s", error)

    async def refresh(self, run_ids: Iterable[str]) -> None:
        """Sync the runs that are due, waiting for it (at most :data:`DETAIL_WAIT_S`)."""
        due = self._due(run_ids)
        if due:
            try:
                await asyncio.wait_for(asyncio.to_thread(self._sync, due), DETAIL_WAIT_S)
            except (TimeoutError, OSError) as error:
                log.info("kfjupyter: KFP did not answer in time: %s", error)

    def refresh_soon(self, run_ids: Iterable[str]) -> None:
        """Sync the runs that are due in the background."""
        due = self._due(run_ids)
        if due:
            task = asyncio.get_running_loop().create_task(asyncio.to_thread(self._sync, due))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
