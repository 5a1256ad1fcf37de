"""``GET runs/{id}/logs/{step}/stream``: server-sent log events from a real server and real runs."""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from kfjupyter.server.models import RunDetail
from kfjupyter.server.models_pipelines import LogEnd, LogEvent
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook

pytestmark = pytest.mark.integration

TALK = (
    "import time\n"
    "for i in range(5):\n"
    "    print(f'line {i}', flush=True)\n"
    "    time.sleep(0.25)\n"
    "print('no newline at the end', end='', flush=True)"
)


def call(lab: LabServer, path: str, *, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    return lab.request(path, token=lab.token, method=method, body=body)


@contextmanager
def stream(lab: LabServer, path: str, token: str | None = None) -> Iterator[http.client.HTTPResponse]:
    url = urllib.parse.urlsplit(lab.base)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
    try:
        conn.request("GET", path, headers={"Authorization": f"token {token}"} if token else {})
        yield conn.getresponse()
    finally:
        conn.close()


def events(response: http.client.HTTPResponse) -> Iterator[tuple[str, str, float]]:
    """Yield ``(event, data, arrival time)``; comments come as ``(':', text, t)``."""
    name, data = "message", ""
    for raw in response:
        line = raw.decode().rstrip("\n")
        if line.startswith(":"):
            yield ":", line[1:].strip(), time.monotonic()
        elif line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            data = line[len("data: ") :]
        elif line == "" and data:
            yield name, data, time.monotonic()
            name, data = "message", ""


def messages(text: str) -> list[str]:
    """The printed text of each log line (``<time> <stream> <text>``)."""
    return [line.split(" ", 2)[2] for line in text.splitlines()]


def wait_for(lab: LabServer, run_id: str, ok: Any, timeout: float = 60) -> RunDetail:
    deadline = time.monotonic() + timeout
    while True:
        status, body = call(lab, f"/kfjupyter/api/runs/{run_id}")
        assert status == 200, body
        detail = RunDetail.model_validate(body)
        if ok(detail):
            return detail
        assert time.monotonic() < deadline, detail
        time.sleep(0.1)


def start(lab: LabServer, name: str, cells: list[Any]) -> str:
    write_notebook(lab.root / "stream" / f"{name}.ipynb", cells)
    status, body = call(
        lab, "/kfjupyter/api/notebooks/run", method="POST", body={"path": f"stream/{name}.ipynb"}
    )
    assert status == 202, body
    run_id: str = body["run_id"]
    wait_for(lab, run_id, lambda d: bool(d.steps))
    return run_id


@pytest.fixture(scope="module")
def streamed(lab_server: LabServer) -> tuple[str, list[tuple[str, str, float]], str]:
    run_id = start(lab_server, "talk", [cell(TALK, "step:talk")])
    with stream(lab_server, f"/kfjupyter/api/runs/{run_id}/logs/talk/stream", lab_server.token) as resp:
        assert resp.status == 200
        content_type = resp.getheader("Content-Type") or ""
        received = list(events(resp))
    return run_id, received, content_type


def test_the_stream_delivers_lines_as_they_are_printed_then_end(
    streamed: tuple[str, list[tuple[str, str, float]], str],
) -> None:
    _, received, content_type = streamed
    assert content_type.startswith("text/event-stream")
    logs = [(LogEvent.model_validate_json(data), t) for name, data, t in received if name == "log"]
    ends = [(LogEnd.model_validate_json(data), t) for name, data, t in received if name == "end"]
    assert len(logs) >= 3, received  # several events: the log was followed, not read once at the end
    text = "".join(log.text for log, _ in logs)
    assert messages(text) == [f"line {i}" for i in range(5)] + ["no newline at the end"]
    assert all(log.text.endswith("\n") for log, _ in logs[:-1])  # whole lines while the step ran
    assert logs[-1][0].text.endswith("no newline at the end")  # and the unfinished last line once it ended
    offsets = [log.next_offset for log, _ in logs]
    assert offsets == sorted(offsets) and offsets[-1] == len(text.encode())
    assert [e.status for e, _ in ends] == ["succeeded"]
    assert received[-1][0] == "end"
    assert ends[0][1] - logs[0][1] >= 0.5  # the first lines arrived while the step was still printing


def test_a_stream_resumed_at_the_end_of_a_finished_log_only_ends(
    lab_server: LabServer, streamed: tuple[str, list[tuple[str, str, float]], str]
) -> None:
    run_id, received, _ = streamed
    last = [LogEvent.model_validate_json(d) for n, d, _ in received if n == "log"][-1]
    path = f"/kfjupyter/api/runs/{run_id}/logs/talk/stream?offset={last.next_offset}"
    with stream(lab_server, path, lab_server.token) as resp:
        again = [(name, data) for name, data, _ in events(resp) if name != ":"]
    assert again == [("end", json.dumps({"status": "succeeded"}, separators=(",", ":")))]
    _, body = call(lab_server, f"/kfjupyter/api/runs/{run_id}/logs/talk")
    assert messages(body["text"]) == [f"line {i}" for i in range(5)]  # it holds back the partial line


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/kfjupyter/api/runs/no-such-run/logs/talk/stream", 404, "no-such-run"),
        ("/kfjupyter/api/runs/{run}/logs/nope/stream", 404, "nope"),
        ("/kfjupyter/api/runs/{run}/logs/talk/stream?offset=x", 400, "offset"),
    ],
)
def test_unknown_runs_steps_and_bad_offsets_are_json_errors_before_any_stream(
    lab_server: LabServer,
    streamed: tuple[str, list[tuple[str, str, float]], str],
    path: str,
    status: int,
    words: str,
) -> None:
    code, body = call(lab_server, path.format(run=streamed[0]))
    assert code == status, body
    assert set(body) == {"message", "reason"} and words in body["message"]


def test_the_stream_refuses_anonymous_callers(
    lab_server: LabServer, streamed: tuple[str, list[tuple[str, str, float]], str]
) -> None:
    code, body = lab_server.request(f"/kfjupyter/api/runs/{streamed[0]}/logs/talk/stream")
    assert code == 403 and set(body) == {"message", "reason"}
    code, _ = lab_server.request(f"/kfjupyter/api/runs/{streamed[0]}/logs/talk/stream", token="wrong")
    assert code == 403


def test_a_silent_step_gets_keepalives_and_a_client_that_goes_away_ends_the_stream(
    lab_server: LabServer,
) -> None:
    run_id = start(
        lab_server, "nap", [cell("import time\nprint('napping', flush=True)\ntime.sleep(300)", "step:nap")]
    )
    wait_for(lab_server, run_id, lambda d: d.steps[0].status == "running")
    before = lab_server.log.read_text(errors="replace")
    try:
        with stream(lab_server, f"/kfjupyter/api/runs/{run_id}/logs/nap/stream", lab_server.token) as resp:
            received = events(resp)
            first = next(e for e in received if e[0] == "log")
            assert "napping" in LogEvent.model_validate_json(first[1]).text
            # A silent step gets a keepalive comment every 15 s, so proxies keep the stream open.
            keepalive = next(received)
            assert keepalive[:2] == (":", "keepalive")
            assert 14.0 <= keepalive[2] - first[2] <= 20.0
        time.sleep(1.0)  # several polls after the client left
        status, _ = call(lab_server, "/kfjupyter/api/health")
        assert status == 200
        added = lab_server.log.read_text(errors="replace")[len(before) :]
        assert "Traceback" not in added and "Uncaught exception" not in added, added
    finally:
        status, body = call(lab_server, f"/kfjupyter/api/runs/{run_id}/cancel", method="POST")
        assert status == 202, body
        wait_for(lab_server, run_id, lambda d: d.run.status == "cancelled", timeout=30)
