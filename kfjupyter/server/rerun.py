"""``POST runs/{id}/rerun``: start a finished run again, with changed parameters if asked.

The core (:func:`kfjupyter.runs.operations.rerun_run`) picks the run's backend: a pipeline run
re-runs its notebook (in a detached ``kfjupyter run``, cached steps reused unless ``no_cache``)
with its recorded parameter values overridden by the request's; a Kubeflow Pipelines run is
submitted again to the server's KFP; a script training job is re-launched with its recorded spec
(a function job cannot be: the function lives in a notebook kernel). The notebook or script must
still exist inside the server's root directory, and a run that is still active is a 409.
"""

from __future__ import annotations

import asyncio

from kfjupyter.runs.backend import Rerun
from kfjupyter.runs.operations import rerun_run
from kfjupyter.runs.stored import recorded_source
from kfjupyter.server import models
from kfjupyter.server.handlers import KfJupyterHandler, api
from kfjupyter.server.models_pipelines import RerunRequest
from kfjupyter.server.paths import relative_to_root
from kfjupyter.server.requests import RUN_ID, opened_store


class RunRerunHandler(KfJupyterHandler):
    """``POST /kfjupyter/api/runs/{id}/rerun``: ``{no_cache?, parameters?}`` -> 202 ``RunStarted``."""

    @api("execute")
    async def post(self, run_id: str) -> None:
        """Start the run again (from a step: ``from_step``/``only``); 404 unknown run or missing notebook, 409 while active."""
        body = self.parse_body(RerunRequest)
        request = Rerun(
            parameters=body.parameters, no_cache=body.no_cache, from_step=body.from_step, only=body.only
        )
        with opened_store() as store:
            starting = await asyncio.to_thread(rerun_run, self.context_for(store), run_id, request)
            run = await starting.wait_async()
        source = recorded_source(run)
        relative = relative_to_root(self.serverapp.root_dir, source) if source else ""
        self.reply(models.RunStarted(run_id=run.id, notebook=relative), status=202)


def rerun_routes(api_prefix: str) -> list[tuple[str, type[KfJupyterHandler]]]:
    """The routes of this module under ``api_prefix`` (e.g. ``/kfjupyter/api``)."""
    return [(rf"{api_prefix}/runs/{RUN_ID}/rerun/?", RunRerunHandler)]
