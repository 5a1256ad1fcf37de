"""A counting proxy for bench/spawner_scale.py: plain HTTP in, the HTTPS API server out.

Each spawner's driver gets its own listener (a label) and kubeconfig; every request head
(method, path, watch or not) is recorded with a time, so the orchestrator can count writes,
lists, watches and gets per phase without trusting either spawner's own accounting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

WRITES = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class Request:
    """One API request seen by the proxy."""

    t: float
    label: str
    method: str
    path: str
    watch: bool

    @property
    def kind(self) -> str:
        if self.method in WRITES:
            return "write"
        if self.watch:
            return "watch"
        return "list" if _is_collection(self.path) else "get"


def _is_collection(path: str) -> bool:
    # /api/v1/pods, /api/v1/namespaces/NS/pods, /apis/G/V/namespaces/NS/R are collections;
    # /api/v1/namespaces/NS/pods/NAME is one object.
    parts = [p for p in path.split("/") if p]
    core = parts[:2] == ["api", "v1"]
    rest = parts[2:] if core else parts[3:]
    if rest[:1] == ["namespaces"] and len(rest) >= 3:
        rest = rest[2:]
    return len(rest) == 1


@dataclass
class CountingProxy:
    """Plain HTTP listeners (one per label) forwarding to the HTTPS API server, counting requests."""

    upstream_port: int
    cafile: str
    requests: list[Request] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)

    def start(self, labels: list[str]) -> None:
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def serve() -> None:
            for label in labels:
                server = await asyncio.start_server(
                    lambda r, w, label=label: self._client(label, r, w), "127.0.0.1", 0
                )
                self.ports[label] = server.sockets[0].getsockname()[1]
            ready.set()

        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(serve(), self._loop)
        ready.wait(10)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)

    async def _client(self, label: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        context = ssl.create_default_context(cafile=self.cafile)
        try:
            up_reader, up_writer = await asyncio.open_connection(
                "127.0.0.1", self.upstream_port, ssl=context, server_hostname="127.0.0.1"
            )
        except OSError:
            writer.close()
            return
        back = asyncio.ensure_future(self._pipe(up_reader, writer))
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target = lines[0].split(" ")[:2]
                headers = {
                    k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:] if h)
                }
                url = urlsplit(target)
                query = parse_qs(url.query)
                watch = query.get("watch", ["false"])[0].lower() in ("true", "1")
                self.requests.append(Request(time.time(), label, method, url.path, watch))
                up_writer.write(head)
                if "content-length" in headers:
                    up_writer.write(await reader.readexactly(int(headers["content-length"])))
                elif headers.get("transfer-encoding", "").lower() == "chunked":
                    while True:
                        size_line = await reader.readuntil(b"\r\n")
                        up_writer.write(size_line)
                        size = int(size_line.split(b";")[0], 16)
                        up_writer.write(await reader.readexactly(size + 2))
                        if size == 0:
                            break
                await up_writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, OSError):
            pass
        finally:
            back.cancel()
            for w in (up_writer, writer):
                with contextlib.suppress(Exception):
                    w.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    def kubeconfig(self, label: str, token: str, path: Path) -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "proxy", "cluster": {"server": f"http://127.0.0.1:{self.ports[label]}"}}],
            "users": [{"name": "admin", "user": {"token": token}}],
            "contexts": [{"name": "proxy", "context": {"cluster": "proxy", "user": "admin"}}],
            "current-context": "proxy",
        }
        path.write_text(json.dumps(config), encoding="utf-8")
        return path
