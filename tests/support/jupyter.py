"""A real `jupyter lab` server in an isolated home, for integration and browser tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TOKEN = "kfjupyter-test-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LabServer:
    base: str
    token: str
    root: Path
    log: Path

    def request(
        self, path: str, *, token: str | None = None, method: str = "GET", body: Any = None
    ) -> tuple[int, Any]:
        return http_json(f"{self.base}{path}", token=token, method=method, body=body)


def http_json(
    url: str, *, token: str | None = None, method: str = "GET", body: Any = None, timeout: float = 30
) -> tuple[int, Any]:
    """Call ``url``; return the status and the decoded JSON body (text when not JSON)."""
    headers = {"Authorization": f"token {token}"} if token else {}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            return err.code, json.loads(raw)
        except ValueError:
            return err.code, raw.decode(errors="replace")


@contextmanager
def running_lab(home: Path, *, ignore_sigint: bool = False) -> Iterator[LabServer]:
    """A `jupyter lab` in ``home``; ``ignore_sigint`` starts it as a script's background job is
    started (``trap '' INT``: SIGINT ignored, and inherited so by everything it starts)."""
    root = home / "root"
    root.mkdir(parents=True, exist_ok=True)
    settings = home / "config" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    # No "get Jupyter news?" toast over the UI in screenshots.
    (settings / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}'
    )
    port = free_port()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        "KFJUPYTER_HOME": str(home / "kfjupyter"),
    }
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.allow_root=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if ignore_sigint:
        cmd = ["bash", "-c", "trap '' INT; exec \"$@\"", "jupyter-lab", *cmd]
    log_path = home / "jupyter.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter lab did not start:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.2)
            yield LabServer(base=base, token=TOKEN, root=root, log=log_path)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
