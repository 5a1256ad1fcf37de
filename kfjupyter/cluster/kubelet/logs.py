"""The kubelet's containerLogs endpoint over HTTPS, so ``kubectl logs`` works through the API server.

The API server proxies ``GET /api/v1/namespaces/N/pods/P/log`` to
``https://<node InternalIP>:<kubelet port>/containerLogs/N/P/C`` with ``tailLines``,
``timestamps``, ``follow``, ``previous``, ``limitBytes`` and ``sinceSeconds``.
"""

from __future__ import annotations

import datetime as dt
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

# (namespace, pod, container, previous) -> (log file, is the container still running?) or None
Finder = Callable[[str, str, str, bool], tuple[Path, Callable[[], bool]] | None]


def render(line: bytes, timestamps: bool) -> bytes:
    """One stored line (``<timestamp> <text>``) as served."""
    return line if timestamps else line.split(b" ", 1)[-1]


def select(lines: list[bytes], query: dict[str, str]) -> list[bytes]:
    """Apply sinceSeconds and tailLines to stored lines."""
    if "sinceSeconds" in query:
        since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=int(query["sinceSeconds"]))
        cutoff = since.strftime("%Y-%m-%dT%H:%M:%S.%f000Z").encode()
        lines = [line for line in lines if line[: len(cutoff)] >= cutoff]
    if "tailLines" in query:
        tail = int(query["tailLines"])
        lines = lines[-tail:] if tail > 0 else []
    return lines


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the API server polls often."""

    def do_GET(self) -> None:
        url = urlparse(self.path)
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        if url.path in ("/healthz", "/readyz"):
            self._reply(200, b"ok")
            return
        if len(parts) != 4 or parts[0] != "containerLogs":
            self._reply(404, b"not found")
            return
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        found = self.server.finder(parts[1], parts[2], parts[3], query.get("previous") == "true")
        if found is None:
            self._reply(404, f"container {parts[3]!r} of pod {parts[1]}/{parts[2]} has no logs".encode())
            return
        path, running = found
        stamps = query.get("timestamps") == "true"
        limit = int(query.get("limitBytes", 0)) or None
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.end_headers()
        try:
            self._stream(path, running, query, stamps, limit)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            return

    def _stream(self, path: Path, running: Callable[[], bool], query: dict[str, str], stamps: bool,
                limit: int | None) -> None:  # fmt: skip
        sent = 0
        with path.open("rb") as log:
            lines = select(log.read().splitlines(keepends=True), query)
            partial = b""
            while True:
                for line in lines:
                    out = render(line, stamps)
                    if limit is not None:
                        out = out[: limit - sent]
                    self.wfile.write(out)
                    sent += len(out)
                    if limit is not None and sent >= limit:
                        return
                self.wfile.flush()
                if query.get("follow") != "true":
                    return
                alive = running()
                chunk = partial + log.read()
                lines = chunk.splitlines(keepends=True)
                partial = lines.pop() if lines and not lines[-1].endswith(b"\n") else b""
                if not lines and not alive and not partial:
                    return
                if not lines:
                    time.sleep(0.2)

    def _reply(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    finder: Finder


def serve(port: int, cert: Path, key: Path, finder: Finder) -> ThreadingHTTPServer:
    """Start the HTTPS log server on 127.0.0.1:``port`` in a background thread."""
    server = _Server(("127.0.0.1", port), _Handler)
    server.finder = finder
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True, name="kubelet-logs").start()
    return server
