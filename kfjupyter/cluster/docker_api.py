"""A minimal client of the Docker Engine API over its unix socket, for the real container node.

Only what the node needs: whether the daemon answers, whether an image is present, importing a
root file system tarball as an image, and listing/removing the containers of given pods. Plain
``http.client`` over ``AF_UNIX``: no docker CLI or Python package required.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kfjupyter.errors import Unavailable

API = "/v1.40"
POD_UID_LABEL = "io.kubernetes.pod.uid"


class DockerError(Unavailable):
    """The docker daemon is not reachable or refused a request."""

    reason = "docker_unavailable"
    temporary = False


def default_host() -> str:
    """``$KFJUPYTER_DOCKER_HOST``, else the project's own daemon (:mod:`kfjupyter.cluster.dockerd`)."""
    from kfjupyter.cluster import dockerd

    return os.environ.get("KFJUPYTER_DOCKER_HOST") or dockerd.docker_host()


def socket_path(host: str) -> Path:
    """The socket file of a ``unix://`` docker host."""
    if not host.startswith("unix://"):
        raise DockerError(f"only unix:// docker hosts are supported here, not {host!r}")
    return Path(host[len("unix://") :])


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(str(self._path))
        except OSError:
            sock.close()
            raise
        self.sock = sock


class Docker:
    """Requests to one docker daemon."""

    def __init__(self, host: str | None = None, timeout: float = 30.0) -> None:
        self.host = host or default_host()
        self.path = socket_path(self.host)
        self.timeout = timeout

    def _request(
        self, method: str, url: str, body: bytes | Iterable[bytes] | None = None, *, tar: bool = False
    ) -> tuple[int, bytes]:
        conn = _UnixConnection(self.path, self.timeout)
        try:
            headers = {"Content-Type": "application/x-tar"} if tar else {}
            if tar and not isinstance(body, bytes):
                headers["Transfer-Encoding"] = "chunked"
                conn.request(method, API + url, body=body, headers=headers, encode_chunked=True)
            else:
                conn.request(method, API + url, body=body, headers=headers)
            reply = conn.getresponse()
            return reply.status, reply.read()
        except OSError as error:
            raise DockerError(
                f"the docker daemon at {self.host} is not reachable ({error.strerror or error})"
            ) from error
        finally:
            conn.close()

    def ping(self) -> bool:
        """Whether the daemon answers."""
        try:
            status, _ = self._request("GET", "/_ping")
        except DockerError:
            return False
        return status == 200

    def info(self) -> dict[str, Any]:
        """``docker info`` as a dict."""
        info = self._json("GET", "/info")
        return info if isinstance(info, dict) else {}

    def _json(self, method: str, url: str) -> Any:
        status, data = self._request(method, url)
        if status >= 400:
            raise DockerError(
                f"docker {method} {url} failed ({status}): {data.decode(errors='replace')[:300]}"
            )
        return json.loads(data or b"null")

    def has_image(self, reference: str) -> bool:
        """Whether ``reference`` (name:tag) is present in the daemon."""
        status, _ = self._request("GET", f"/images/{urllib.parse.quote(reference, safe='')}/json")
        return status == 200

    def import_rootfs(self, tarball: Path, reference: str, changes: list[str]) -> None:
        """``docker import`` a root file system tarball as ``reference`` with Dockerfile ``changes``."""
        repo, _, tag = reference.rpartition(":")
        query = urllib.parse.urlencode(
            [("fromSrc", "-"), ("repo", repo), ("tag", tag), *(("changes", c) for c in changes)]
        )
        status, data = self._request("POST", f"/images/create?{query}", tarball.read_bytes(), tar=True)
        if status >= 400 or b'"error"' in data:
            raise DockerError(f"importing {reference} failed: {data.decode(errors='replace')[-300:]}")

    def pod_containers(self, uids: Iterable[str]) -> list[str]:
        """Ids of every container (running or not) that belongs to one of the pods ``uids``."""
        wanted = set(uids)
        if not wanted:
            return []
        filters = urllib.parse.quote(json.dumps({"label": [POD_UID_LABEL]}))
        listing = self._json("GET", f"/containers/json?all=1&filters={filters}")
        return [c["Id"] for c in listing if (c.get("Labels") or {}).get(POD_UID_LABEL) in wanted]

    def remove_container(self, container: str) -> None:
        """Force-remove a container (gone already is fine)."""
        status, data = self._request("DELETE", f"/containers/{container}?force=1&v=1")
        if status >= 400 and status != 404:
            raise DockerError(
                f"removing container {container[:12]} failed: {data.decode(errors='replace')[:300]}"
            )
