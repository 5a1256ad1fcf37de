"""A real JupyterHub (demo config, our spawner) for tests, started as a process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.jupyter import free_port, http_json

CONFIG = (
    Path(__file__).resolve().parents[2]
    / "spawner"
    / "kfjupyter_spawner"
    / "examples"
    / "jupyterhub_config.py"
)
SERVICE_TOKEN = "kfjupyter-test-service-token"
PASSWORD = "test-password"


@dataclass
class Hub:
    base: str
    state: Path
    log: Path

    def api(self, path: str, *, method: str = "GET", body: Any = None) -> tuple[int, Any]:
        return http_json(
            f"{self.base}/hub/api{path}", token=SERVICE_TOKEN, method=method, body=body, timeout=120
        )


def _free_port_pair() -> int:
    """A free port whose next port is free too: the hub's own API listens on port + 1."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two free ports in a row on 127.0.0.1")


@contextmanager
def running_hub(
    state: Path, kubeconfig: str, profiles: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[Hub]:
    state.mkdir(parents=True, exist_ok=True)
    extra = state / "test_config.py"
    extra.write_text(
        f"c.JupyterHub.services = [{{'name': 'tester', 'api_token': {SERVICE_TOKEN!r}}}]\n"
        "c.JupyterHub.load_roles = [{'name': 'tester', 'services': ['tester'], "
        "'scopes': ['admin:users', 'admin:servers', 'read:groups', 'tokens']}]\n"
    )
    port = _free_port_pair()
    env = {
        **os.environ,
        "KFJUPYTER_KUBECONFIG": kubeconfig,
        "KFJUPYTER_HUB_PORT": str(port),
        "KFJUPYTER_HUB_STATE": str(state),
        "KFJUPYTER_HUB_PASSWORD": PASSWORD,
        "KFJUPYTER_PROFILES": str(profiles) if profiles else "",
        **(env or {}),
    }
    cfg = state / "jupyterhub_config.py"
    cfg.write_text(f"load_subconfig({str(CONFIG)!r})\nload_subconfig({str(extra)!r})\n")
    log = state / "jupyterhub.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(cfg)],
            cwd=state,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        hub = Hub(f"http://127.0.0.1:{port}", state, log)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    status, _ = hub.api("/")
                    if status == 200:
                        break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"jupyterhub did not start:\n{log.read_text()[-4000:]}")
                time.sleep(0.3)
            yield hub
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_server(hub: Hub, user: str, timeout: float = 120) -> dict[str, Any]:
    """Wait until ``user``'s default server is ready; return the hub's model of the user."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, body = hub.api(f"/users/{user}")
        if body["servers"].get("", {}).get("ready"):
            return body
        if not body["servers"]:
            break  # the spawn failed
        time.sleep(0.5)
    raise AssertionError(f"{user}'s server never became ready: {body}\n{hub.log.read_text()[-3000:]}")


def stop(hub: Hub, user: str) -> None:
    """Stop ``user``'s default server and wait until the hub lists it no more."""
    hub.api(f"/users/{user}/server", method="DELETE")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, body = hub.api(f"/users/{user}")
        if not body["servers"]:
            return
        time.sleep(0.5)
    raise AssertionError(f"{user}'s server did not stop")
