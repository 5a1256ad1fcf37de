"""Hostile input against every kfjupyter route: a 4xx naming the problem, never a 500, never a leak.

One real jupyter server (own home, own run store) for the module. Its root holds a good notebook,
broken notebooks, a directory named like a notebook, a symlink out of the root and a symlink loop;
its store holds finished runs whose artifacts include a file, a symlink planted in the run
directory pointing out of it, a file of another run and a directory. Every case is one row: the
request, the status it must get and a piece of the message (the field it names, what to do).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kfjupyter.server.models import ErrorBody, RunList
from kfjupyter.store import ArtifactRecord, RunRecord, StepRecord, open_store
from tests.support.jupyter import LabServer, running_lab
from tests.support.notebooks import cell, write_notebook

API = "/kfjupyter/api"
LONG = "x" * 100_000


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    def json(self) -> Any:
        return json.loads(self.raw)


def send(lab: LabServer, method: str, path: str, body: Any = None) -> Reply:
    """Send ``body`` (bytes as they are, anything else as JSON) with the token; the raw reply."""
    headers = {"Authorization": f"token {lab.token}"}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(f"{lab.base}{path}", data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return Reply(resp.status, dict(resp.headers), resp.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, dict(err.headers), err.read())


def finished_run(run_id: str, notebook: Path) -> RunRecord:
    return RunRecord(
        id=run_id,
        kind="pipeline",
        name="p",
        notebook=str(notebook),
        backend="local",
        status="succeeded",
        started_at=1.0,
        finished_at=2.0,
    )


def seed(lab: LabServer) -> None:
    """Files in the root and runs in the store that the cases below attack."""
    root = lab.root
    write_notebook(root / "ok.ipynb", [cell("x = 1", "step:a")])
    (root / "bad.ipynb").write_text("{not json")
    (root / "list.ipynb").write_text("[]")
    (root / "v3.ipynb").write_text('{"nbformat": 3, "cells": []}')
    (root / "latin1.ipynb").write_bytes(b'{"nbformat": 4, "cells": [], "x": "\xe9"}')
    (root / "folder.ipynb").mkdir()
    (root / "folder.yaml").mkdir()
    (root / "train.py").write_text("print('never run')\n")
    write_notebook(root / ".hidden" / "h.ipynb", [cell("x = 1", "step:a")])
    write_notebook(root / ".h.ipynb", [cell("x = 1", "step:a")])
    (root / ".hidden" / "train.py").write_text("print('never run')\n")
    (root / "to-hidden.ipynb").symlink_to(root / ".hidden" / "h.ipynb")
    outside = write_notebook(root.parent / "outside.ipynb", [cell("x = 1", "step:a")])
    (root / "escape.ipynb").symlink_to(outside)
    (root / "loop.ipynb").symlink_to(root / "loop.ipynb")
    (root / "escape.yaml").symlink_to(root.parent / "written-outside.yaml")

    with open_store(root.parent / "kfjupyter") as store:
        for run_id, notebook in (
            ("r-done", root / "ok.ipynb"),
            ("r-other", root / "ok.ipynb"),
            ("r-badnb", root / "bad.ipynb"),
            ("r-loop", root / "loop.ipynb"),
            ("r-links", root / "ok.ipynb"),
            ("r-dirlink", root / "ok.ipynb"),
            ("r-hidden", root / ".hidden" / "h.ipynb"),
        ):
            store.create_run(finished_run(run_id, notebook))
            store.upsert_steps([StepRecord(run_id=run_id, name="a", status="succeeded")])
        store.log_path("r-done", "a", create_dir=True).write_bytes(b"one\n\xff\xfe two\nlast")
        run_dir = store.run_dir("r-done", create=True)
        (run_dir / "good.txt").write_text("hello")
        (run_dir / "page.html").write_text("<script>alert(1)</script>")
        (run_dir / "sub").mkdir()
        (run_dir / "escape").symlink_to("/etc/hostname")
        (run_dir / "linkdir").symlink_to("/etc")
        (run_dir / "sibling").symlink_to(store.run_dir("r-other", create=True) / "secret.txt")
        (store.run_dir("r-other") / "secret.txt").write_text("not yours")
        os.mkfifo(run_dir / "fifo")
        # Logs swapped for symlinks by a step: one out of the store, one into another run.
        store.log_path("r-links", "a", create_dir=True).symlink_to("/etc/hostname")
        store.upsert_steps([StepRecord(run_id="r-links", name="b", status="succeeded")])
        store.log_path("r-links", "b").symlink_to(store.log_path("r-done", "a"))
        # Logs that are not files: a FIFO would block every read, a folder cannot be read.
        store.upsert_steps([StepRecord(run_id="r-links", name=n, status="succeeded") for n in ("c", "d")])
        os.mkfifo(store.log_path("r-links", "c"))
        store.log_path("r-links", "d").mkdir()
        # A run directory that is itself a symlink out of the store.
        elsewhere = root.parent / "elsewhere"
        elsewhere.mkdir()
        (elsewhere / "data.txt").write_text("not in the store")
        store.run_dir("r-dirlink").symlink_to(elsewhere)
        store.add_artifact(
            ArtifactRecord(
                run_id="r-dirlink",
                step="a",
                name="data",
                kind="file",
                path="runs/r-dirlink/data.txt",
                media_type="text/plain",
            )
        )
        artifacts = {
            "good": ("good.txt", "text/plain"),
            "page": ("page.html", "text/html"),
            "dir": ("sub", "text/plain"),
            "escape": ("escape", "text/plain"),
            "through-dir": ("linkdir/hostname", "text/plain"),
            "sibling": ("sibling", "text/plain"),
            "gone": ("missing.txt", "text/plain"),
            "fifo": ("fifo", "text/plain"),
            "crlf": ("good.txt", "text/html\r\nX-Injected: 1"),
        }
        for name, (relative, media_type) in artifacts.items():
            store.add_artifact(
                ArtifactRecord(
                    run_id="r-done",
                    step="a",
                    name=name,
                    kind="file",
                    path=f"runs/r-done/{relative}",
                    media_type=media_type,
                )
            )
        store.add_artifact(
            ArtifactRecord(
                run_id="r-done",
                step="a",
                name="other-run",
                kind="file",
                path="runs/r-other/secret.txt",
                media_type="text/plain",
            )
        )


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    with running_lab(tmp_path_factory.mktemp("adversarial")) as server:
        seed(server)
        yield server


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def lint(notebook: Any) -> dict[str, Any]:
    return {"notebook": notebook}


def q(text: str) -> str:
    return urllib.parse.quote(text, safe="")


# (id, method, path, body, status, a piece of the message)
# fmt: off
CASES: list[tuple[str, str, str, Any, int, str]] = [
    # -- bodies that are not the JSON object a route takes
    ("not-json", "POST", "/notebooks/run", b"{path:", 400, "not valid JSON"),
    ("not-utf8", "POST", "/notebooks/run", b'{"path": "\xff\xfe.ipynb"}', 400, "not valid JSON"),
    ("nested-deep", "POST", "/notebooks/run", nested(100_000), 400, "nested too deeply"),
    ("nested-in-notebook", "POST", "/notebooks/lint", b'{"notebook": {"x": ' + nested(900) + b"}}", 400, "notebook"),
    ("a-list", "POST", "/notebooks/run", [], 400, "must be a JSON object"),
    ("null", "POST", "/runs/r-done/rerun", b"null", 400, "must be a JSON object"),
    ("a-string", "POST", "/training", "train.py", 400, "must be a JSON object"),
    ("wrong-type", "POST", "/notebooks/run", {"path": 5}, 400, "path: Input should be a valid string"),
    ("bool-as-string", "POST", "/notebooks/run", {"path": "ok.ipynb", "no_cache": "maybe"}, 400, "no_cache"),
    ("unknown-field", "POST", "/notebooks/run", {"path": "ok.ipynb", "colour": 1}, 400, "colour: unknown field"),
    ("unknown-field-rerun", "POST", "/runs/r-done/rerun", {"cache": False}, 400, "cache: unknown field"),
    ("unknown-field-lint", "POST", "/notebooks/lint", {"notebook": {}, "x": 1}, 400, "x: unknown field"),
    ("huge-number", "POST", "/training", b'{"script": "train.py", "num_nodes": 1' + b"0" * 5000 + b"}", 400, "JSON"),
    ("big-number", "POST", "/training", {"script": "train.py", "num_nodes": 10**30}, 400, "num_nodes"),
    ("negative", "POST", "/training", {"script": "train.py", "gpus_per_node": -1}, 400, "gpus_per_node"),
    ("param-name", "POST", "/notebooks/run", {"path": "ok.ipynb", "parameters": {"a b": "1"}}, 400, "identifiers"),
    ("param-type", "POST", "/notebooks/run", {"path": "ok.ipynb", "parameters": {"a": 1}}, 400, "parameters.a"),
    ("param-nul", "POST", "/notebooks/run", {"path": "ok.ipynb", "parameters": {"a": "x\0"}}, 400, "NUL"),
    ("param-too-long", "POST", "/notebooks/run", {"path": "ok.ipynb", "parameters": {"a": "x" * 200_000}}, 400, "too long"),
    ("rerun-nul", "POST", "/runs/r-done/rerun", {"parameters": {"a": "\0"}}, 400, "NUL"),
    ("compile-nul", "POST", "/notebooks/compile", {"path": "ok.ipynb", "parameters": {"a": "\0"}}, 400, "NUL"),
    ("image-space", "POST", "/notebooks/compile", {"path": "ok.ipynb", "image": "a b"}, 400, "image"),
    ("image-nul", "POST", "/notebooks/submit", {"path": "ok.ipynb", "image": "a\0"}, 400, "image"),
    ("train-arg-nul", "POST", "/training", {"script": "train.py", "args": ["a\0"]}, 400, "args"),
    ("train-env-nul", "POST", "/training", {"script": "train.py", "env": {"A": "\0"}}, 400, "env"),
    ("train-env-long", "POST", "/training", {"script": "train.py", "env": {"A": "x" * 200_000}}, 400, "env:"),
    ("train-arg-long", "POST", "/training", {"script": "train.py", "args": ["x" * 200_000]}, 400, "args:"),
    ("train-env-name", "POST", "/training", {"script": "train.py", "env": {"A=B": "1"}}, 400, "env"),
    ("train-name", "POST", "/training", {"script": "train.py", "name": "Not A Name"}, 400, "name"),
    ("lint-target", "POST", "/notebooks/lint", {"notebook": {}, "target": "mars"}, 400, "target"),
    # -- notebook and script paths: traversal, absolute, encoded, NUL, Windows, long, links, folders
    ("dotdot", "POST", "/notebooks/run", {"path": "../outside.ipynb"}, 403, "path: '../outside.ipynb' is outside"),
    ("dotdot-inside", "POST", "/notebooks/run", {"path": "a/../../outside.ipynb"}, 403, "outside"),
    ("absolute", "POST", "/notebooks/run", {"path": "/etc/passwd"}, 400, "must be relative"),
    ("absolute-nb", "POST", "/notebooks/compile", {"path": "/tmp/x.ipynb"}, 400, "must be relative"),
    ("encoded", "POST", "/notebooks/run", {"path": "%2e%2e/outside.ipynb"}, 404, "no notebook at '%2e%2e/"),
    ("nul", "POST", "/notebooks/run", {"path": "ok.ipynb\0.ipynb"}, 400, "must be relative"),
    ("lone-surrogate", "POST", "/notebooks/run", {"path": "\ud800.ipynb"}, 400, "lone UTF-16 surrogate"),
    ("lone-surrogate-arg", "POST", "/training", {"script": "train.py", "args": ["\udfff"]}, 400, "surrogate"),
    ("emoji", "POST", "/notebooks/run", {"path": "\U0001f600.ipynb"}, 404, "no notebook at"),
    ("windows", "POST", "/notebooks/run", {"path": "..\\outside.ipynb"}, 400, "separate folders with '/'"),
    ("windows-drive", "POST", "/training", {"script": "C:\\x\\train.py"}, 400, "script:"),
    ("long-name", "POST", "/notebooks/run", {"path": LONG + ".ipynb"}, 400, "path:"),
    ("long-path", "POST", "/notebooks/run", {"path": "/".join(["y" * 250] * 30) + ".ipynb"}, 400, "path:"),
    ("symlink-out", "POST", "/notebooks/run", {"path": "escape.ipynb"}, 403, "outside"),
    ("symlink-loop", "POST", "/notebooks/run", {"path": "loop.ipynb"}, 400, "loop"),
    ("a-folder", "POST", "/notebooks/run", {"path": "folder.ipynb"}, 400, "is a directory"),
    # -- hidden files and folders, which Jupyter's file API does not show (ContentsManager.allow_hidden)
    ("hidden-folder", "POST", "/notebooks/run", {"path": ".hidden/h.ipynb"}, 403, "path: '.hidden/h.ipynb' is hidden"),
    ("hidden-file", "POST", "/notebooks/run", {"path": ".h.ipynb"}, 403, "is hidden"),
    ("hidden-compile", "POST", "/notebooks/compile", {"path": ".hidden/h.ipynb", "image": "i"}, 403, "is hidden"),
    ("hidden-output", "POST", "/notebooks/compile", {"path": "ok.ipynb", "image": "i", "output": ".bashrc.yaml"}, 403, "output: '.bashrc.yaml' is hidden"),
    ("hidden-output-dir", "POST", "/notebooks/compile", {"path": "ok.ipynb", "image": "i", "output": ".config/x.yaml"}, 403, "output:"),
    ("hidden-script", "POST", "/training", {"script": ".hidden/train.py"}, 403, "script: '.hidden/train.py' is hidden"),
    ("link-to-hidden", "POST", "/notebooks/run", {"path": "to-hidden.ipynb"}, 403, "is hidden"),
    ("rerun-hidden", "POST", "/runs/r-hidden/rerun", {}, 403, "is hidden"),
    ("not-a-notebook", "POST", "/notebooks/run", {"path": "train.py"}, 400, "is not a notebook"),
    ("missing", "POST", "/notebooks/run", {"path": "nope.ipynb"}, 404, "no notebook at"),
    ("script-out", "POST", "/training", {"script": "../train.py"}, 403, "script:"),
    ("script-folder", "POST", "/training", {"script": "folder.ipynb/x.py"}, 404, "script:"),
    # -- notebooks that are not notebooks: 400 naming the field and the problem
    ("nb-bad-json", "POST", "/notebooks/run", {"path": "bad.ipynb"}, 400, "path: notebook 'bad.ipynb' is not valid JSON"),
    ("nb-a-list", "POST", "/notebooks/compile", {"path": "list.ipynb"}, 400, "path: notebook 'list.ipynb' is not a notebook"),
    ("nb-v3", "POST", "/notebooks/submit", {"path": "v3.ipynb"}, 409, "Kubeflow Pipelines"),
    ("nb-v3-run", "POST", "/notebooks/run", {"path": "v3.ipynb"}, 400, "v3"),
    ("nb-not-utf8", "POST", "/notebooks/run", {"path": "latin1.ipynb"}, 400, "not UTF-8"),
    ("lint-empty", "POST", "/notebooks/lint", lint({}), 400, "notebook: the notebook has no 'nbformat'"),
    ("lint-cells", "POST", "/notebooks/lint", lint({"nbformat": 4, "cells": "x"}), 400, "notebook:"),
    ("lint-cell", "POST", "/notebooks/lint", lint({"nbformat": 4, "cells": [1]}), 400, "cell 0"),
    ("lint-source", "POST", "/notebooks/lint", lint({"nbformat": 4, "cells": [{"cell_type": "code", "source": 1}]}), 400, "source"),
    ("lint-not-dict", "POST", "/notebooks/lint", {"notebook": []}, 400, "notebook"),
    ("rerun-bad-nb", "POST", "/runs/r-badnb/rerun", {}, 400, "notebook: notebook 'bad.ipynb' is not valid JSON"),
    ("rerun-loop", "POST", "/runs/r-loop/rerun", {}, 404, "loop"),
    # -- compile outputs
    ("out-dotdot", "POST", "/notebooks/compile", {"path": "ok.ipynb", "image": "i", "output": "../x.yaml"}, 403, "output:"),
    ("out-symlink", "POST", "/notebooks/compile", {"path": "ok.ipynb", "image": "i", "output": "escape.yaml"}, 403, "output:"),
    ("out-folder", "POST", "/notebooks/compile", {"path": "ok.ipynb", "image": "i", "output": "folder.yaml"}, 400, "directory"),
    ("out-under-file", "POST", "/notebooks/compile", {"path": "ok.ipynb", "image": "i", "output": "train.py/x.yaml"}, 400, "is a file"),
    ("out-long", "POST", "/notebooks/compile", {"path": "ok.ipynb", "image": "i", "output": LONG + ".yaml"}, 400, "output:"),
    ("out-suffix", "POST", "/notebooks/compile", {"path": "ok.ipynb", "image": "i", "output": "x.sh"}, 400, "YAML"),
    # -- queries: negative, huge, unknown, not numbers
    ("limit-negative", "GET", "/runs?limit=-1", None, 400, "limit"),
    ("limit-huge", "GET", "/runs?limit=" + "9" * 30, None, 400, "limit"),
    ("offset-negative", "GET", "/runs?offset=-1", None, 400, "offset"),
    ("offset-huge", "GET", "/runs?offset=" + "9" * 30, None, 400, "offset"),
    ("offset-int64", "GET", "/runs?offset=9223372036854775808", None, 400, "offset"),
    ("query-unknown", "GET", "/runs?colour=red", None, 400, "colour: unknown field"),
    ("query-long", "GET", "/runs?q=" + "x" * 201, None, 400, "q"),
    ("query-backend", "GET", "/runs?backend=../x", None, 400, "backend"),
    ("query-not-utf8", "GET", "/runs?kind=%ff", None, 400, "kind"),
    ("query-nul", "GET", "/runs?q=%00", None, 400, "q: the search text contains a NUL"),
    ("query-nul-inside", "GET", "/runs?q=ok%00x", None, 400, "q: the search text contains a NUL"),
    ("compare-one", "GET", "/runs/compare?ids=r-done", None, 400, "ids"),
    ("compare-many", "GET", "/runs/compare?ids=" + ",".join(f"r{i}" for i in range(51)), None, 400, "ids"),
    ("compare-unknown", "GET", "/runs/compare?ids=r-done,../../etc", None, 404, "does not exist"),
    ("training-limit", "GET", "/training?limit=100000", None, 400, "limit"),
    ("log-offset-text", "GET", "/runs/r-done/logs/a?offset=x", None, 400, "offset"),
    ("log-offset-negative", "GET", "/runs/r-done/logs/a?offset=-3", None, 400, "offset"),
    ("log-offset-huge", "GET", "/runs/r-done/logs/a?offset=" + "9" * 5000, None, 400, "offset"),
    ("log-offset-int64", "GET", "/runs/r-done/logs/a?offset=9223372036854775807", None, 400, "offset"),
    ("log-offset-superscript", "GET", "/runs/r-done/logs/a?offset=%C2%B2", None, 400, "offset"),
    ("log-offset-unknown", "GET", "/runs/r-done/logs/a?ofset=3", None, 400, "ofset: unknown field"),
    ("stream-offset-huge", "GET", "/runs/r-done/logs/a/stream?offset=" + "9" * 30, None, 400, "offset"),
    ("stream-offset-superscript", "GET", "/runs/r-done/logs/a/stream?offset=%C2%B2", None, 400, "offset"),
    ("rank-text", "GET", "/training/r-done/logs/abc", None, 400, "rank"),
    ("rank-superscript", "GET", "/training/r-done/logs/%C2%B2", None, 400, "rank"),
    ("rank-huge", "GET", "/training/r-done/logs/" + "9" * 5000, None, 400, "rank"),
    # -- ids, steps and names with traversal in the URL
    ("run-dotdot", "GET", "/runs/%2e%2e", None, 404, "does not exist"),
    ("run-long", "GET", "/runs/" + "r" * 30_000, None, 404, "does not exist"),
    ("run-slashes", "GET", "/runs/..%2F..%2Fetc", None, 404, "does not exist"),
    ("run-nul", "GET", "/runs/%00", None, 404, "does not exist"),
    ("run-not-utf8", "GET", "/runs/%ff", None, 400, "run_id"),
    ("delete-dotdot", "DELETE", "/runs/%2e%2e", None, 404, "does not exist"),
    ("metrics-dotdot", "GET", "/runs/..%2Fr-done/metrics", None, 404, "does not exist"),
    ("step-dotdot", "GET", "/runs/r-done/logs/%2e%2e", None, 404, "no step"),
    ("step-slashes", "GET", "/runs/r-done/logs/..%2F..%2F..%2Fetc%2Fpasswd", None, 404, "no step"),
    ("step-nul", "GET", "/runs/r-done/logs/a%00", None, 404, "no step"),
    ("stream-step-dotdot", "GET", "/runs/r-done/logs/%2e%2e/stream", None, 404, "no step"),
    ("artifact-step-dotdot", "GET", "/runs/r-done/artifacts/%2e%2e/good/download", None, 404, "no artifact"),
    ("artifact-name-dotdot", "GET", "/runs/r-done/artifacts/a/..%2F..%2Fgood/download", None, 404, "no artifact"),
    ("artifact-run-dotdot", "GET", "/runs/..%2Fr-done/artifacts/a/good/download", None, 404, "does not exist"),
    ("cancel-dotdot", "POST", "/runs/%2e%2e/cancel", None, 404, "does not exist"),
    ("training-dotdot", "GET", "/training/%2e%2e", None, 404, "no local training job"),
    ("training-cancel-dotdot", "POST", "/training/..%2F..%2Fx/cancel", None, 404, "no local training job"),
    # -- state the request does not fit
    ("cancel-finished", "POST", "/runs/r-done/cancel", None, 409, "only a pending or running run"),
    ("submit-no-kfp", "POST", "/notebooks/submit", {"path": "ok.ipynb"}, 409, "c.KfJupyterApp.kfp_host"),
    ("training-of-pipeline", "GET", "/training/r-done", None, 404, "no local training job"),
]
# fmt: on


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_is_a_4xx_that_names_the_problem(
    lab: LabServer, method: str, path: str, body: Any, status: int, words: str
) -> None:
    reply = send(lab, method, f"{API}{path}", body)
    assert reply.status == status, reply.raw[:500]
    error = ErrorBody.model_validate(reply.json())
    assert words in error.message, error.message
    assert "Traceback" not in error.message and len(error.message) <= 2000


@pytest.mark.parametrize(
    ("name", "status", "words"),
    [
        ("escape", 403, "outside the run's directory"),  # a symlink planted in the run dir
        ("through-dir", 403, "outside the run's directory"),  # a symlinked folder in the run dir
        ("sibling", 403, "outside the run's directory"),  # a symlink to another run's file
        ("other-run", 403, "outside the run's directory"),  # a record pointing at another run
        ("dir", 404, "not a file"),
        ("fifo", 404, "not a file"),  # never blocks the server on open
        ("gone", 404, "is gone"),
    ],
)
def test_artifact_downloads_never_leave_the_run_directory(
    lab: LabServer, name: str, status: int, words: str
) -> None:
    reply = send(lab, "GET", f"{API}/runs/r-done/artifacts/a/{name}/download")
    assert reply.status == status, reply.raw[:300]
    assert words in ErrorBody.model_validate(reply.json()).message
    assert b"not yours" not in reply.raw


@pytest.mark.parametrize(
    "path",
    [
        "/runs/r-links/logs/a",
        "/runs/r-links/logs/b",
        "/runs/r-links/logs/a/stream",
        "/runs/r-links/logs/c",
        "/runs/r-links/logs/c/stream",
        "/runs/r-links/logs/d",
        "/runs/r-dirlink/logs/a",
        "/runs/r-dirlink/artifacts/a/data/download",
    ],
)
def test_logs_and_artifacts_behind_planted_symlinks_are_refused(lab: LabServer, path: str) -> None:
    reply = send(lab, "GET", f"{API}{path}")
    assert reply.status == 403, reply.raw[:300]
    message = ErrorBody.model_validate(reply.json()).message
    assert "outside" in message or "not a regular file" in message
    assert b"not in the store" not in reply.raw and b"one" not in reply.raw


def test_an_artifact_inside_the_run_directory_is_served(lab: LabServer) -> None:
    reply = send(lab, "GET", f"{API}/runs/r-done/artifacts/a/good/download")
    assert (reply.status, reply.raw) == (200, b"hello")
    assert reply.headers["Content-Length"] == "5"


def test_an_html_artifact_downloads_as_a_sandboxed_attachment(lab: LabServer) -> None:
    reply = send(lab, "GET", f"{API}/runs/r-done/artifacts/a/page/download")
    assert reply.status == 200
    assert reply.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in reply.headers["Content-Security-Policy"]


def test_a_media_type_with_line_breaks_never_reaches_a_header(lab: LabServer) -> None:
    reply = send(lab, "GET", f"{API}/runs/r-done/artifacts/a/crlf/download")
    assert (reply.status, reply.raw) == (200, b"hello")
    assert reply.headers["Content-Type"] == "application/octet-stream"
    assert reply.headers["Content-Disposition"].startswith("attachment;")
    assert "X-Injected" not in reply.headers


def test_log_reads_keep_working_from_any_valid_offset(lab: LabServer) -> None:
    size = len(b"one\n\xff\xfe two\nlast")
    for offset in (0, 2, size, size + 10, 1 << 40):
        reply = send(lab, "GET", f"{API}/runs/r-done/logs/a?offset={offset}")
        assert reply.status == 200, (offset, reply.raw)
        assert reply.json()["next_offset"] >= offset


def test_a_percent_sign_in_a_message_is_not_doubled(lab: LabServer) -> None:
    reply = send(lab, "POST", f"{API}/notebooks/run", {"path": "100%/x.ipynb"})
    assert reply.status == 404
    assert "'100%/x.ipynb'" in reply.json()["message"]


def test_refused_requests_leave_no_runs_behind(lab: LabServer) -> None:
    for body in (
        {"script": "train.py", "env": {"A": "\0"}},
        {"script": "train.py", "args": ["\0"]},
        {"script": "train.py", "env": {"A": "x" * 200_000}},
        {"script": "loop.py"},
    ):
        assert send(lab, "POST", f"{API}/training", body).status in (400, 404)
    assert (
        send(lab, "POST", f"{API}/notebooks/run", {"path": "ok.ipynb", "parameters": {"a": "\0"}}).status
        == 400
    )
    listed = RunList.model_validate(send(lab, "GET", f"{API}/runs?limit=200").json())
    assert {r.id for r in listed.runs} == {
        "r-done",
        "r-other",
        "r-badnb",
        "r-loop",
        "r-links",
        "r-dirlink",
        "r-hidden",
    }


def test_compile_replaces_its_output_whole_and_leaves_no_temporary_file(lab: LabServer) -> None:
    target = lab.root / "out" / "ok.pipeline.yaml"
    target.parent.mkdir(exist_ok=True)
    target.write_text("old: true\n")
    body = {"path": "ok.ipynb", "image": "registry/img:1", "output": "out/ok.pipeline.yaml"}
    reply = send(lab, "POST", f"{API}/notebooks/compile", body)
    assert reply.status == 200, reply.raw
    assert "old: true" not in target.read_text() and "registry/img:1" in target.read_text()
    assert sorted(p.name for p in target.parent.iterdir()) == ["ok.pipeline.yaml"]
    assert not (lab.root.parent / "written-outside.yaml").exists()


def test_a_hidden_output_is_never_written(lab: LabServer) -> None:
    reply = send(
        lab, "POST", f"{API}/notebooks/compile", {"path": "ok.ipynb", "image": "i", "output": ".bashrc.yaml"}
    )
    assert reply.status == 403, reply.raw[:300]
    assert not (lab.root / ".bashrc.yaml").exists()


def test_a_hidden_notebook_is_not_offered_to_open(lab: LabServer) -> None:
    reply = send(lab, "GET", f"{API}/runs/r-hidden")
    assert reply.status == 200, reply.raw[:300]
    assert reply.json()["notebook_path"] is None
    assert send(lab, "GET", f"{API}/runs/r-done").json()["notebook_path"] == "ok.ipynb"
