"""REST handlers for iterating on a pipeline: the plan of a run, and what loading a step defines.

``POST notebooks/plan`` answers what ``kfjupyter run --plan --json`` prints (the Run dialog shows
it before Start). ``GET runs/{id}/steps/{step}/values`` says which names ``%kf load`` of a step
defines and gives the code that loads them: the Lab runs that code in the notebook's own kernel,
so the values land in the user's namespace (the server never loads them).
"""

from __future__ import annotations

import asyncio
from functools import partial

from kfjupyter.api import plan_notebook, step_values
from kfjupyter.runner.loading import load_code
from kfjupyter.server.handlers import KfJupyterHandler, api
from kfjupyter.server.models import PlanRequest
from kfjupyter.server.models_pipelines import (
    PlannedStep,
    PlanResult,
    StepValue,
    StepValues,
    StepValuesQuery,
)
from kfjupyter.server.paths import confine
from kfjupyter.server.requests import RUN_ID, STEP, opened_store, parse_query


class PlanHandler(KfJupyterHandler):
    """``POST /kfjupyter/api/notebooks/plan``: ``{path, parameters?, no_cache?, from_step?, only?, reuse?}``."""

    @api("read")
    async def post(self) -> None:
        """Answer which steps a run of the saved notebook would run or take from the cache, and why."""
        body = self.parse_body(PlanRequest)
        confined = partial(confine, allow_hidden=self.allow_hidden)
        notebook = await asyncio.to_thread(confined, self.serverapp.root_dir, body.path)
        overrides = [f"{name}={value}" for name, value in body.parameters.items()]

        def planned() -> list[PlannedStep]:
            with opened_store() as store:
                steps = plan_notebook(
                    notebook,
                    overrides=overrides,
                    cache=not body.no_cache,
                    store=store,
                    from_step=body.from_step,
                    only=body.only,
                    reuse_run=body.reuse,
                )
            return [PlannedStep(name=s.name, action=s.action, reasons=s.reasons) for s in steps]

        self.reply(PlanResult(steps=await asyncio.to_thread(planned)))


class StepValuesHandler(KfJupyterHandler):
    """``GET /kfjupyter/api/runs/{id}/steps/{step}/values[?outputs=true]``: what loading the step defines."""

    @api("read")
    def get(self, run_id: str, step: str) -> None:
        """Answer the names and the kernel code; 404 unknown run or step, 400 when it cannot be loaded."""
        query = parse_query(StepValuesQuery, self.request.arguments)
        with opened_store() as store:
            found = step_values(run_id, step, outputs=query.outputs, store=store)
        values = [StepValue(name=e.name, kind=e.kind, source=e.source) for e in found.entries]
        self.reply(
            StepValues(
                run_id=run_id,
                step=step,
                outputs=query.outputs,
                values=values,
                code=load_code(run_id, step, outputs=query.outputs),
            )
        )


def step_routes(api_prefix: str) -> list[tuple[str, type[KfJupyterHandler]]]:
    """The routes of this module under ``api_prefix`` (e.g. ``/kfjupyter/api``)."""
    return [
        (rf"{api_prefix}/notebooks/plan/?", PlanHandler),
        (rf"{api_prefix}/runs/{RUN_ID}/steps/{STEP}/values/?", StepValuesHandler),
    ]
