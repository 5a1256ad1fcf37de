"""Starting a notebook run through a real server's REST API and waiting for it to end."""

from __future__ import annotations

import time
from typing import Any

from kfjupyter.server.models import RunDetail
from tests.support.jupyter import LabServer


def start_notebook_run(lab: LabServer, path: str, **body: Any) -> str:
    """``POST notebooks/run`` for the notebook at ``path`` (relative to the root); the new run's id."""
    status, reply = lab.request(
        "/kfjupyter/api/notebooks/run", token=lab.token, method="POST", body={"path": path, **body}
    )
    assert status == 202, reply
    return str(reply["run_id"])


def wait_for_end(lab: LabServer, run_id: str, timeout: float = 120) -> RunDetail:
    """Poll ``GET runs/{id}`` until the run is neither pending nor running; its detail."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = lab.request(f"/kfjupyter/api/runs/{run_id}", token=lab.token)
        assert status == 200, body
        detail = RunDetail.model_validate(body)
        if detail.run.status not in ("pending", "running"):
            return detail
        assert time.monotonic() < deadline, f"run {run_id} still {detail.run.status}"
        time.sleep(0.3)


def wait_until_ended(lab: LabServer, run_id: str, timeout: float = 120) -> str:
    """The final status of the run, once it has ended."""
    return str(wait_for_end(lab, run_id, timeout).run.status)
