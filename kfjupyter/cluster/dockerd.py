"""The project's own docker daemon: one ``dockerd`` beside any system one, for real containers.

It never touches the host network (no bridge, no iptables, no IP forwarding or masquerade, so a
container reaches only what a test gives it), keeps images under the user's cache
(``~/.cache/kfjupyter/docker``, so they survive restarts), listens on its own socket
(``/run/kfjupyter/docker.sock``) and runs containers through a ``runc`` wrapper that raises a
negative ``process.oomScoreAdj`` to 0: kubelets give pod sandboxes -998, which runc cannot set
where root lacks ``CAP_SYS_RESOURCE`` (as in our VMs). Debian's packages (``docker.io``,
``containerd``, ``runc``, ...) are installed with apt when missing.

    python -m kfjupyter.cluster.dockerd start | stop | status | env

``start`` is idempotent and returns once the daemon answers; ``env`` prints the ``DOCKER_HOST``
line for a shell (both Debian's ``/usr/bin/docker`` and a newer CLI work against it).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from kfjupyter.cluster.cache import cache_folder
from kfjupyter.cluster.processes import spawn
from kfjupyter.errors import Unavailable

APT_PACKAGES = (
    "docker.io",
    "containerd",
    "runc",
    "containernetworking-plugins",
    "mmdebstrap",
    "busybox-static",
)
# A file each package installs, to tell whether it is there without asking dpkg.
_PACKAGE_FILES = {
    "docker.io": "/usr/sbin/dockerd",
    "containerd": "/usr/bin/containerd",
    "runc": "/usr/sbin/runc",
    "containernetworking-plugins": "/usr/lib/cni/bridge",
    "mmdebstrap": "/usr/bin/mmdebstrap",
    "busybox-static": "/bin/busybox",
}
RUNTIME_NAME = "kfjupyter-runc"
# The wrapper runs for every runc call, so it stays small: plain python3 from Debian, no imports
# beyond the standard library, and the bundle is only read for `create` and `run`.
_RUNC_WRAPPER = '''#!/usr/bin/python3 -IS
"""runc, with a negative process.oomScoreAdj in the bundle's config.json raised to 0 first."""
import json, os, sys

RUNC = {runc!r}
args = sys.argv[1:]
VALUED = {{"--root", "--log", "--log-format", "--criu", "--rootless"}}
i = 0
while i < len(args) and args[i].startswith("-"):
    i += 2 if args[i] in VALUED else 1
if i < len(args) and args[i] in ("create", "run"):
    bundle = "."
    rest = args[i + 1:]
    for j, arg in enumerate(rest):
        if arg in ("--bundle", "-b") and j + 1 < len(rest):
            bundle = rest[j + 1]
        elif arg.startswith("--bundle="):
            bundle = arg.split("=", 1)[1]
    path = os.path.join(bundle, "config.json")
    with open(path) as handle:
        spec = json.load(handle)
    process = spec.get("process") or {{}}
    if process.get("oomScoreAdj", 0) < 0:
        process["oomScoreAdj"] = 0
        with open(path + ".tmp", "w") as handle:
            json.dump(spec, handle)
        os.replace(path + ".tmp", path)
os.execv(RUNC, [RUNC] + args)
'''


class DockerUnavailable(Unavailable):
    """The project's docker daemon is not installed, did not start or does not answer."""

    reason = "docker_unavailable"


def home() -> Path:
    """Images, logs and the runtime wrapper: ``$KFJUPYTER_DOCKER_HOME`` or ``~/.cache/kfjupyter/docker``."""
    return cache_folder("KFJUPYTER_DOCKER_HOME", "docker")


def run_dir() -> Path:
    """Socket, pid file and exec root: ``$KFJUPYTER_DOCKER_RUN`` or ``/run/kfjupyter``."""
    return Path(os.environ.get("KFJUPYTER_DOCKER_RUN") or "/run/kfjupyter")


def socket_path() -> Path:
    """The daemon's API socket."""
    return run_dir() / "docker.sock"


def docker_host() -> str:
    """The ``DOCKER_HOST`` value that points docker clients at the project's daemon."""
    return f"unix://{socket_path()}"


def client_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with ``DOCKER_HOST`` set to the daemon."""
    return {**(os.environ if base is None else base), "DOCKER_HOST": docker_host()}


def missing_packages() -> list[str]:
    """The Debian packages of ``APT_PACKAGES`` that are not installed."""
    return [pkg for pkg in APT_PACKAGES if not Path(_PACKAGE_FILES[pkg]).exists()]


def _as_root(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return cmd
    if shutil.which("sudo") is None:
        raise DockerUnavailable(f"need root to run `{' '.join(cmd)}` and sudo is missing")
    return ["sudo", "-n", *cmd]


def install_packages() -> None:
    """apt-get install whatever of ``APT_PACKAGES`` is missing (nothing when all are there)."""
    missing = missing_packages()
    if not missing:
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *missing]):
        done = subprocess.run(_as_root(cmd), env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise DockerUnavailable(
                f"`{' '.join(cmd[:3])}` failed (exit {done.returncode}) installing {' '.join(missing)}",
                detail=done.stdout[-2000:] + done.stderr[-2000:],
            )


def ping(timeout_s: float = 2.0) -> bool:
    """Whether the daemon answers ``GET /_ping`` on its socket."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout_s)
            conn.connect(str(socket_path()))
            conn.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            reply = b""
            while chunk := conn.recv(4096):
                reply += chunk
    except OSError:
        return False
    return reply.startswith(b"HTTP/1.") and b" 200 " in reply.split(b"\r\n", 1)[0]


def is_running() -> bool:
    """Whether the project's daemon is up and answering."""
    return ping()


def _pid() -> int | None:
    try:
        return int((run_dir() / "docker" / "dockerd.pid").read_text(encoding="utf-8").strip())
    except (FileNotFoundError, ValueError):
        return None


def _write_wrapper(root: Path) -> Path:
    runc = shutil.which("runc", path="/usr/sbin:/usr/bin:/sbin:/bin")
    if runc is None:
        raise DockerUnavailable("runc is not installed (Debian package `runc`)")
    wrapper = root / "bin" / RUNTIME_NAME
    wrapper.parent.mkdir(parents=True, exist_ok=True)
    text = _RUNC_WRAPPER.format(runc=runc)
    if not wrapper.is_file() or wrapper.read_text(encoding="utf-8") != text:
        tmp = wrapper.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o755)
        tmp.replace(wrapper)
    return wrapper


def daemon_command(root: Path, wrapper: Path) -> list[str]:
    """The ``dockerd`` command line (its own config, storage, socket and exec root)."""
    state = run_dir() / "docker"
    return [
        "dockerd",
        f"--config-file={root / 'daemon.json'}",
        f"--data-root={root / 'data'}",
        f"--exec-root={state / 'exec'}",
        f"--pidfile={state / 'dockerd.pid'}",
        f"--host={docker_host()}",
        "--iptables=false",
        "--ip6tables=false",
        "--bridge=none",
        "--ip-forward=false",
        "--ip-masq=false",
        "--exec-opt=native.cgroupdriver=cgroupfs",
        "--oom-score-adjust=0",
        f"--add-runtime={RUNTIME_NAME}={wrapper}",
        f"--default-runtime={RUNTIME_NAME}",
    ]


def start(timeout_s: float = 60.0) -> str:
    """Start the daemon unless it already answers (installing packages first); returns ``DOCKER_HOST``."""
    if ping():
        return docker_host()
    root = home()
    root.mkdir(parents=True, exist_ok=True)
    with (root / "start.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one start at a time; the others find it running
        if ping():
            return docker_host()
        install_packages()
        wrapper = _write_wrapper(root)
        config = root / "daemon.json"
        if not config.is_file():
            config.write_text("{}\n", encoding="utf-8")
        (run_dir() / "docker").mkdir(parents=True, exist_ok=True)
        log = root / "dockerd.log"
        old = _pid()
        if old is not None and Path(f"/proc/{old}").exists():
            raise DockerUnavailable(
                f"dockerd (pid {old}) runs but does not answer on {socket_path()}; "
                "stop it with `python -m kfjupyter.cluster.dockerd stop`",
            )
        offset = log.stat().st_size if log.is_file() else 0
        pid = spawn(_as_root(daemon_command(root, wrapper)), log)
        deadline = time.monotonic() + timeout_s
        while not ping():
            if time.monotonic() > deadline or not Path(f"/proc/{pid}").exists() or _zombie(pid):
                raise DockerUnavailable(
                    f"dockerd did not answer on {socket_path()} within {timeout_s:.0f}s; see {log}",
                    detail=_tail(log, offset),
                )
            time.sleep(0.1)
    return docker_host()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _tail(log: Path, offset: int) -> str:
    with log.open("rb") as handle:
        handle.seek(offset)
        return handle.read().decode("utf-8", "replace")[-3000:]


def stop(timeout_s: float = 30.0) -> bool:
    """Stop the daemon (and its containers); returns whether one was running."""
    pid = _pid()
    if pid is None or not Path(f"/proc/{pid}").exists():
        return False
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    if (
        not cmdline
        or not cmdline[0].endswith(b"dockerd")
        or f"--host={docker_host()}".encode() not in cmdline
    ):
        raise DockerUnavailable(f"pid {pid} in {run_dir()}/docker/dockerd.pid is not the project's dockerd")
    subprocess.run(_as_root(["kill", "-TERM", str(pid)]), check=False, capture_output=True)
    deadline = time.monotonic() + timeout_s
    while Path(f"/proc/{pid}").exists() and not _zombie(pid):
        if time.monotonic() > deadline:
            subprocess.run(_as_root(["kill", "-KILL", str(pid)]), check=False, capture_output=True)
            break
        time.sleep(0.1)
    return True


def info() -> dict[str, object]:
    """``docker info`` of the project's daemon, as JSON (via Debian's CLI)."""
    done = _docker("info", "--format", "{{json .}}")
    if done.returncode != 0:
        raise DockerUnavailable(f"docker info failed: {done.stderr.strip()[-500:]}")
    value: dict[str, object] = json.loads(done.stdout)
    return value


def _docker(*args: str) -> subprocess.CompletedProcess[str]:
    """Debian's docker CLI against the project's daemon."""
    return subprocess.run(
        ["/usr/bin/docker", *args], env=client_env(), capture_output=True, text=True, check=False
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kfjupyter.cluster.dockerd start|stop|status|env``."""
    parser = argparse.ArgumentParser(prog="python -m kfjupyter.cluster.dockerd", description=__doc__)
    parser.add_argument("action", choices=["start", "stop", "status", "env"])
    args = parser.parse_args(argv)
    try:
        if args.action == "start":
            print(start(), flush=True)
        elif args.action == "stop":
            print("stopped" if stop() else "not running")
        elif args.action == "status":
            running = is_running()
            print(f"{'running' if running else 'not running'}: {docker_host()}")
            return 0 if running else 1
        else:
            print(f"export DOCKER_HOST={docker_host()}")
    except DockerUnavailable as error:
        print(f"kfjupyter dockerd: error: {error.message}\n{error.detail or ''}".rstrip(), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
