"""Probe handlers against a pod's loopback IP: tcpSocket, httpGet and exec (one run each).

When probes run and what their results mean is ``prober``'s business.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import subprocess
from typing import Any


def _port(value: Any, container: dict[str, Any]) -> int:
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    for port in container.get("ports") or []:
        if port.get("name") == value:
            return int(port["containerPort"])
    return -1


def probe(check: dict[str, Any], container: dict[str, Any], pod_ip: str) -> tuple[bool, str]:
    """Run one probe; returns whether it passed and, when not, why (the kubelet's wording)."""
    timeout = float(check.get("timeoutSeconds", 1))
    if "tcpSocket" in check:
        spec = check["tcpSocket"]
        port = _port(spec.get("port"), container)
        host = spec.get("host") or pod_ip
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return True, ""
        except OSError as error:
            return False, f"dial tcp {host}:{port}: {error.strerror or error}"
    if "httpGet" in check:
        spec = check["httpGet"]
        port = _port(spec.get("port"), container)
        host = spec.get("host") or pod_ip
        conn: http.client.HTTPConnection
        if spec.get("scheme") == "HTTPS":  # like the kubelet, do not verify the pod's certificate
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            headers = {h["name"]: h["value"] for h in spec.get("httpHeaders") or []}
            conn.request("GET", spec.get("path") or "/", headers=headers)
            code = conn.getresponse().status
            return 200 <= code < 400, f"HTTP probe failed with statuscode: {code}"
        except (OSError, http.client.HTTPException) as error:
            return False, f"Get {spec.get('path') or '/'} on port {port}: {error}"
        finally:
            conn.close()
    if "exec" in check:
        try:
            done = subprocess.run(
                check["exec"].get("command") or ["false"], capture_output=True, timeout=timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            return False, str(error)
        return done.returncode == 0, f"command exited with {done.returncode}"
    return True, ""
