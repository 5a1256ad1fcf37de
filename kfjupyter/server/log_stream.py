"""``GET runs/{id}/logs/{step}/stream?offset=N``: a step's log as server-sent events.

The handler checks the run and step first (an unknown one is a JSON 404 before any stream starts),
then polls the store every :data:`POLL_S` seconds on the IOLoop (``asyncio.sleep``, never a
blocking wait) and sends ``event: log`` with :class:`LogEvent` data (whole lines, like the offset
endpoint) as the log grows, a ``: keepalive`` comment every :data:`KEEPALIVE_S` seconds of silence,
and a final ``event: end`` with :class:`LogEnd` data once the step has finished and its log is fully
sent. It stops as soon as the client goes away. The browser reads it with ``fetch`` (token header).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from pydantic import BaseModel
from tornado.iostream import StreamClosedError

from kfjupyter.errors import Forbidden, NotFound
from kfjupyter.server.handlers import KfJupyterHandler, api
from kfjupyter.server.models_pipelines import LogEnd, LogEvent, LogQuery
from kfjupyter.server.requests import RUN_ID, STEP, parse_query
from kfjupyter.server.run_files import checked_log_path
from kfjupyter.store import RunStore, open_store
from kfjupyter.store.base import mark_interrupted_for_reading
from kfjupyter.store.models import ACTIVE_RUN_STATUSES

#: Seconds between two looks at the log file and the step's status.
POLL_S = 0.2
#: Longest silence before a ``: keepalive`` comment line.
KEEPALIVE_S = 15.0
#: Seconds between two checks that the run's process is still alive.
LIVENESS_S = 5.0
#: Step states in which the step may still write to its log.
_LIVE_STEP_STATUSES = frozenset({"pending", "ready", "running"})


def sse_event(event: str, data: BaseModel) -> bytes:
    """One server-sent event: its name and a JSON data line."""
    return f"event: {event}\ndata: {data.model_dump_json()}\n\n".encode()


def step_state(store: RunStore, run_id: str, step: str) -> str | None:
    """The final status of ``step``, or None while it (or its run) can still write to the log.

    Raises ``NotFound`` for an unknown run or step.
    """
    run = store.get_run(run_id)
    for record in store.get_steps(run_id):
        if record.name == step:
            if record.status not in _LIVE_STEP_STATUSES:
                return record.status
            return None if run.status in ACTIVE_RUN_STATUSES else run.status
    raise NotFound(f"run {run_id} has no step {step!r}")


def read_rest(path: Path, offset: int) -> bytes:
    """Everything in ``path`` after ``offset`` (a finished step's last line may lack its newline)."""
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            return fh.read()
    except FileNotFoundError:
        return b""


class RunLogStreamHandler(KfJupyterHandler):
    """``GET /kfjupyter/api/runs/{id}/logs/{step}/stream?offset=N``: ``text/event-stream``."""

    _client_gone = False

    def on_connection_close(self) -> None:
        """Stop streaming when the client disconnects."""
        self._client_gone = True
        super().on_connection_close()

    async def _send(self, data: bytes) -> None:
        self.write(data)
        await self.flush()

    @api("read")
    async def get(self, run_id: str, step: str) -> None:
        """Stream the step's log from ``offset`` until it has finished; see the module docstring."""
        offset = parse_query(LogQuery, self.request.query_arguments).offset
        store = open_store()
        try:
            step_state(store, run_id, step)
            checked_log_path(store, run_id, step)
            self.set_status(200)
            self.set_header("Content-Type", "text/event-stream; charset=utf-8")
            self.set_header("Cache-Control", "no-cache")
            self.set_header("X-Accel-Buffering", "no")
            await self._stream(store, run_id, step, offset)
        except StreamClosedError:
            return
        finally:
            store.close()
        if not self._client_gone:
            await self.finish(set_content_type="text/event-stream; charset=utf-8")

    async def _stream(self, store: RunStore, run_id: str, step: str, offset: int) -> None:
        await self._send(b": open\n\n")  # sends the headers at once
        last_write = last_check = time.monotonic()
        while not self._client_gone:
            if time.monotonic() - last_check >= LIVENESS_S:
                mark_interrupted_for_reading(store)  # a run whose process died ends its stream
                last_check = time.monotonic()
            try:
                final = step_state(store, run_id, step)  # before reading: all of a finished log is read
                checked_log_path(store, run_id, step)  # each time: the step may swap its log for a symlink
            except (NotFound, Forbidden):
                return  # the run was deleted or its log leads out of it meanwhile: close the stream
            chunk = store.read_log(run_id, step, offset)
            if chunk.text:
                offset = chunk.next_offset
                await self._send(sse_event("log", LogEvent(text=chunk.text, next_offset=offset)))
                last_write = time.monotonic()
                continue
            if final is not None:
                rest = read_rest(store.log_path(run_id, step), offset)
                if rest:
                    text = rest.decode("utf-8", errors="replace")
                    await self._send(sse_event("log", LogEvent(text=text, next_offset=offset + len(rest))))
                await self._send(sse_event("end", LogEnd(status=final)))
                return
            if time.monotonic() - last_write >= KEEPALIVE_S:
                await self._send(b": keepalive\n\n")
                last_write = time.monotonic()
            await asyncio.sleep(POLL_S)


def log_stream_routes(api_prefix: str) -> list[tuple[str, type[KfJupyterHandler]]]:
    """The routes of this module under ``api_prefix`` (e.g. ``/kfjupyter/api``)."""
    return [(rf"{api_prefix}/runs/{RUN_ID}/logs/{STEP}/stream/?", RunLogStreamHandler)]
