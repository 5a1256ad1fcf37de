"""Run one container as a local process: env, volume mounts, working dir and timestamped logs.

The host environment stands in for the image: ``command``/``args`` run as they are (``$(VAR)``
references expanded). Volume mounts become private bind mounts of host directories inside a
mount namespace (``unshare -m``); stdout/stderr go to a log file, one timestamped line each.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import os
import re
import shlex
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kfjupyter.errors import KfJupyterError

_VAR = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
_INHERITED = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR")
_FIELD = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")

Lookup = Callable[[str, str, str], dict[str, str] | None]  # (kind, namespace, name) -> data or None


class ContainerConfigError(KfJupyterError):
    """The container cannot be configured yet (missing secret/config map key, bad field ref)."""

    reason = "CreateContainerConfigError"


def timestamp() -> str:
    """RFC 3339 with nanosecond width, as kubelet log lines carry."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def expand(text: str, env: dict[str, str]) -> str:
    """Expand ``$(VAR)`` references the way the kubelet does.

    Unknown references stay as written and ``$$`` is an escaped ``$``, so ``$$(VAR)`` stays literal.
    """

    def one(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return "$"
        return env.get(match.group(1), match.group(0))

    return _VAR.sub(one, text)


def field_value(pod: dict[str, Any], path: str, pod_ip: str, host_ip: str) -> str:
    """The value of a downward-API ``fieldRef`` path."""
    meta, spec = pod["metadata"], pod["spec"]
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
        "status.hostIP": host_ip,
    }
    if path in simple:
        return str(simple[path])
    match = _FIELD.match(path)
    if match:
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    raise ContainerConfigError(f"unsupported fieldRef {path!r}")


def _ref_value(kind: str, ref: dict[str, Any], namespace: str, lookup: Lookup) -> str | None:
    data = lookup(kind, namespace, ref["name"])
    optional = bool(ref.get("optional"))
    if data is None or ref["key"] not in data:
        if optional:
            return None
        raise ContainerConfigError(f"{kind} {ref['name']!r} or its key {ref['key']!r} not found")
    return data[ref["key"]]


def container_env(
    pod: dict[str, Any],
    container: dict[str, Any],
    *,
    pod_ip: str,
    host_ip: str,
    base: dict[str, str],
    lookup: Lookup,
) -> dict[str, str]:
    """The process environment: inherited basics, envFrom, then env (literal and valueFrom)."""
    namespace = pod["metadata"]["namespace"]
    env = {key: os.environ[key] for key in _INHERITED if key in os.environ}
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    env.update(base)
    env["HOSTNAME"] = pod["spec"].get("hostname") or pod["metadata"]["name"]
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        for kind in ("configMapRef", "secretRef"):
            ref = source.get(kind)
            if ref is None:
                continue
            data = lookup("secret" if kind == "secretRef" else "configmap", namespace, ref["name"])
            if data is None and not ref.get("optional"):
                raise ContainerConfigError(f"{kind} {ref['name']!r} not found")
            env.update({prefix + key: value for key, value in (data or {}).items()})
    for item in container.get("env") or []:
        name, source = item["name"], item.get("valueFrom")
        if source is None:
            env[name] = expand(item.get("value", ""), env)
        elif "fieldRef" in source:
            env[name] = field_value(pod, source["fieldRef"]["fieldPath"], pod_ip, host_ip)
        elif "secretKeyRef" in source:
            value = _ref_value("secret", source["secretKeyRef"], namespace, lookup)
            if value is not None:
                env[name] = value
        elif "configMapKeyRef" in source:
            value = _ref_value("configmap", source["configMapKeyRef"], namespace, lookup)
            if value is not None:
                env[name] = value
        elif "resourceFieldRef" in source:
            ref = source["resourceFieldRef"]
            kind, _, resource = ref["resource"].partition(".")
            env[name] = str(((container.get("resources") or {}).get(kind) or {}).get(resource, "0"))
    return env


def decode_secret(data: dict[str, str] | None) -> dict[str, str]:
    """Base64-decode a Secret's data."""
    return {key: base64.b64decode(value).decode("utf-8", "replace") for key, value in (data or {}).items()}


def command_line(container: dict[str, Any], env: dict[str, str]) -> list[str]:
    """``command`` + ``args`` with ``$(VAR)`` expanded; args alone run as the command."""
    argv = [expand(part, env) for part in (container.get("command") or []) + (container.get("args") or [])]
    if not argv:
        raise ContainerConfigError(
            f"container {container['name']!r} has neither command nor args: the process kubelet runs "
            "commands on the host and cannot run an image's entrypoint"
        )
    return argv


def wrap(argv: list[str], mounts: list[tuple[str, str, bool]], working_dir: str | None) -> list[str]:
    """Prefix ``argv`` so it runs with ``mounts`` (target, host dir, read-only) and ``working_dir``."""
    if not mounts and not working_dir:
        return argv
    steps = []
    for target, source, read_only in mounts:
        t, s = shlex.quote(target), shlex.quote(source)
        steps.append(f"mkdir -p {t} && mount --bind {s} {t}")
        if read_only:
            steps.append(f"mount -o remount,bind,ro {t}")
    if working_dir:
        steps.append(f"mkdir -p {shlex.quote(working_dir)} && cd {shlex.quote(working_dir)}")
    script = " && ".join([*steps, 'exec "$@"'])
    shell = ["sh", "-c", script, "sh", *argv]
    return ["unshare", "-m", "--propagation", "private", *shell] if mounts else shell


@dataclass
class Process:
    """A running container process and the thread copying its output into the log file."""

    popen: subprocess.Popen[bytes]
    log_path: Path
    pid_file: Path
    done: threading.Event = field(default_factory=threading.Event)

    def poll(self) -> int | None:
        """The exit code once the process has exited (its output drained, within reason)."""
        code = self.popen.poll()
        if code is not None:
            self.done.wait(timeout=0.5)  # let the copier drain the pipe (a child may keep it open)
        return code

    def wait(self, timeout: float) -> None:
        """Wait for the process to exit."""
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the container's whole process group."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)

    def reap(self) -> None:
        """Collect the exit status and forget the pid file."""
        self.wait(5)
        self.pid_file.unlink(missing_ok=True)


def start(argv: list[str], env: dict[str, str], log_path: Path, pid_file: Path) -> Process:
    """Start the process in its own session; a thread timestamps its output into ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        popen = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True,
        )  # fmt: skip
    except OSError as error:
        raise KfJupyterError(f"cannot start {argv[0]!r}: {error.strerror}", reason="StartError") from error
    pid_file.write_text(str(popen.pid), encoding="utf-8")
    process = Process(popen, log_path, pid_file)
    threading.Thread(target=_copy_output, args=(process,), daemon=True, name=f"log-{popen.pid}").start()
    return process


def _copy_output(process: Process) -> None:
    stream = process.popen.stdout
    assert stream is not None
    with process.log_path.open("ab", buffering=0) as out:
        for line in iter(stream.readline, b""):
            if not line.endswith(b"\n"):
                line += b"\n"
            out.write(timestamp().encode() + b" " + line)
    stream.close()
    process.done.set()
