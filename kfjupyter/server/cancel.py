"""``POST runs/{id}/cancel``: ask a run to stop, whatever its backend.

The core (:func:`kfjupyter.runs.operations.cancel_run`) picks the run's backend: a local run's
process is interrupted (the runner records the outcome, so the client polls the run), a Kubeflow
Pipelines run is terminated through the server's KFP connection (``c.KfJupyterApp.kfp_host``), a
training job has its ranks stopped, so one Cancel button works for pipelines and jobs.
"""

from __future__ import annotations

import asyncio

from kfjupyter.runs.operations import cancel_run
from kfjupyter.server import models
from kfjupyter.server.handlers import KfJupyterHandler, api
from kfjupyter.server.requests import RUN_ID, opened_store


class RunCancelHandler(KfJupyterHandler):
    """``POST /kfjupyter/api/runs/{id}/cancel``: 202 once the run has been told to stop."""

    @api("write")
    async def post(self, run_id: str) -> None:
        """Cancel the run; 409 when it is not running, 404 when unknown, 502 when KFP refuses."""
        with opened_store() as store:
            cancelled = await asyncio.to_thread(cancel_run, self.context_for(store), run_id)
        self.reply(models.CancelRequested(run_id=run_id, pid=cancelled.pid), status=202)


def cancel_routes(api_prefix: str) -> list[tuple[str, type[KfJupyterHandler]]]:
    """The routes of this module under ``api_prefix`` (e.g. ``/kfjupyter/api``)."""
    return [(rf"{api_prefix}/runs/{RUN_ID}/cancel/?", RunCancelHandler)]
