"""Readiness probes against real local sockets."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kfjupyter.cluster.kubelet.probes import probe


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/ready" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_http_probe_passes_on_2xx_and_explains_failures(port: int) -> None:
    container = {"ports": [{"name": "http", "containerPort": port}]}
    assert probe({"httpGet": {"path": "/ready", "port": "http"}}, container, "127.0.0.1")[0]
    ok, why = probe({"httpGet": {"path": "/", "port": port}}, container, "127.0.0.1")
    assert not ok and "statuscode: 404" in why


def test_tcp_and_exec_probes(port: int) -> None:
    assert probe({"tcpSocket": {"port": port}}, {}, "127.0.0.1")[0]
    with ThreadingHTTPServer(("127.0.0.1", 0), _Handler) as closed:
        free = int(closed.server_address[1])
    assert not probe({"tcpSocket": {"port": free}}, {}, "127.0.0.1")[0]
    assert probe({"exec": {"command": ["true"]}}, {}, "127.0.0.1")[0]
    assert not probe({"exec": {"command": ["false"]}}, {}, "127.0.0.1")[0]
