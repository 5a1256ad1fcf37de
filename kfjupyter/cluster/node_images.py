"""The pod sandbox ("pause") image of the real node, made locally from Debian's static busybox.

There is no registry to pull from, so the image is imported into the docker daemon from a root
file system holding busybox with every applet. Its command waits for SIGTERM and exits at once
(a sandbox that ignored SIGTERM would hold every pod stop for dockershim's 10 s grace period);
other commands can run in it too (``httpd``, ``nc``, ``ip``...). Importing takes well under a
second and happens only when the image is missing.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

from kfjupyter.cluster import images
from kfjupyter.cluster.docker_api import Docker
from kfjupyter.errors import Unavailable

PAUSE_IMAGE = "localhost/kfjupyter-pause:1"
NOTEBOOK_IMAGE = f"{images.NOTEBOOK_IMAGE}:latest"  # what ./dev images builds
BUSYBOX = Path("/bin/busybox")
PAUSE_COMMAND = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"]
_PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"  # noqa: S105 (an /etc/passwd file)
_GROUP = "root:x:0:\nnogroup:x:65534:\n"


def busybox_problem() -> str | None:
    """Why the busybox image cannot be made here (None when it can)."""
    if not BUSYBOX.is_file():
        return "Debian's static busybox is missing: `apt-get install busybox-static`"
    kind = subprocess.run(["file", "-b", str(BUSYBOX)], capture_output=True, text=True, check=False)
    if kind.returncode == 0 and "statically linked" not in kind.stdout:
        return f"{BUSYBOX} is not statically linked: `apt-get install busybox-static`"
    return None


def _add_dir(tar: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, mode
    tar.addfile(info)


def _add_file(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


def busybox_rootfs(out: Path) -> None:
    """Write a root file system tarball: busybox with a link per applet, /etc/passwd, /tmp."""
    applets = subprocess.run(
        [str(BUSYBOX), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    with tarfile.open(out, "w") as tar:
        for name in ("bin", "etc", "proc", "sys", "dev", "home", "root"):
            _add_dir(tar, name)
        _add_dir(tar, "tmp", 0o1777)
        _add_file(tar, "bin/busybox", BUSYBOX.read_bytes(), 0o755)
        for applet in applets:
            if applet != "busybox":
                link = tarfile.TarInfo(f"bin/{applet}")
                link.type, link.linkname = tarfile.SYMTYPE, "busybox"
                tar.addfile(link)
        _add_file(tar, "etc/passwd", _PASSWD.encode())
        _add_file(tar, "etc/group", _GROUP.encode())


def ensure_pause_image(docker: Docker) -> bool:
    """Import the pause image when missing; returns whether it was imported."""
    if docker.has_image(PAUSE_IMAGE):
        return False
    problem = busybox_problem()
    if problem:
        raise Unavailable(f"cannot make the node's pause image: {problem}")
    cmd = f"CMD {json.dumps(PAUSE_COMMAND)}"
    with tempfile.TemporaryDirectory(prefix="kfjupyter-rootfs-") as tmp:
        tarball = Path(tmp) / "rootfs.tar"
        busybox_rootfs(tarball)
        docker.import_rootfs(tarball, PAUSE_IMAGE, [cmd, "ENV PATH=/bin"])
    return True
