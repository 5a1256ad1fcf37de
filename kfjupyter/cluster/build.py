"""Build the Kubernetes 1.20.2 control-plane binaries from Debian's source package, once.

There is no container engine or downloadable Kubernetes binary on our machines, but Debian ships
the ``kubernetes`` source package (with ``vendor/``), ``golang-go`` and ``etcd-server``. This
module installs the Debian tools, fetches the source with ``apt-get source`` (deb-src entries kept
in a private directory, never in the system config), runs the GOPATH ``make`` and caches
``kube-apiserver``, ``kube-controller-manager`` and ``kube-scheduler`` under the user's cache dir.
The ``kubelet`` of the real container node is built from the same tree on request, with its own
check, so a cache that holds the control plane only compiles the kubelet (a few minutes).
Run it directly with ``python -m kfjupyter.cluster.build [--kubelet]`` (what ``./dev test`` does).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from kfjupyter.cluster.cache import cache_folder
from kfjupyter.cluster.source_patches import KUBELET_PATCH_LEVEL, patch_source
from kfjupyter.errors import Unavailable

K8S_VERSION = "1.20.2"
BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
KUBELET = "kubelet"
APT_PACKAGES = ("golang-go", "etcd-server", "rsync", "openssl")
_TOOLS = {"go": "golang-go", "etcd": "etcd-server", "rsync": "rsync", "openssl": "openssl"}

Progress = Callable[[str], None]


class BuildFailed(Unavailable):
    """Installing the Debian packages or building the binaries did not work."""

    reason = "cluster_build_failed"
    temporary = False


def cache_root() -> Path:
    """Where the built binaries live: ``$KFJUPYTER_K8S_CACHE`` or ``~/.cache/kfjupyter/k8s-1.20.2``."""
    return cache_folder("KFJUPYTER_K8S_CACHE", f"k8s-{K8S_VERSION}")


def bin_dir(root: Path | None = None) -> Path:
    """The directory holding the three built binaries."""
    return (root or cache_root()) / "bin"


def wanted(kubelet: bool = False) -> tuple[str, ...]:
    """The binaries to build: the control plane, plus the kubelet when asked."""
    return (*BINARIES, KUBELET) if kubelet else BINARIES


def _stamp(bins: Path) -> Path:
    return bins / f"{KUBELET}.patch-level"


def _cached(bins: Path, name: str) -> bool:
    """Whether ``name`` is cached (the kubelet: built with the current source patches)."""
    if not (bins / name).is_file():
        return False
    if name == KUBELET:
        stamp = _stamp(bins)
        return stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == str(KUBELET_PATCH_LEVEL)
    return True


def is_built(root: Path | None = None, *, kubelet: bool = False) -> bool:
    """Whether every binary (with ``kubelet``, the kubelet too) is cached and the host tools are installed."""
    bins = bin_dir(root)
    return all(_cached(bins, name) for name in wanted(kubelet)) and not _missing_tools()


def _missing_tools() -> list[str]:
    return sorted({pkg for tool, pkg in _TOOLS.items() if shutil.which(tool) is None})


def _run(
    cmd: Sequence[str],
    log: Path,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> None:
    """Run ``cmd`` with output appended to ``log``; with ``progress``, report every 20 s while it runs."""
    started = time.monotonic()
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        while True:
            try:
                code = proc.wait(timeout=20)
                break
            except subprocess.TimeoutExpired:
                if progress is not None:
                    progress(f"  ... {time.monotonic() - started:.0f}s: {_last_line(log)}")
    if code != 0:
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:])
        raise BuildFailed(f"`{' '.join(cmd[:4])}` failed (exit {code}); see {log}", detail=tail)


def _last_line(log: Path) -> str:
    with log.open("rb") as handle:
        handle.seek(max(0, log.stat().st_size - 400))
        lines = handle.read().decode("utf-8", "replace").strip().splitlines()
    return lines[-1].strip()[:100] if lines else ""


def _as_root(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return cmd
    if shutil.which("sudo") is None:
        raise BuildFailed(f"need root to run `{' '.join(cmd)}` and sudo is missing")
    return ["sudo", *cmd]


def install_packages(log: Path, progress: Progress) -> None:
    """apt-get install the Go toolchain, etcd, rsync and openssl when any is missing."""
    missing = _missing_tools()
    if not missing:
        return
    progress(f"apt-get install {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(_as_root(["apt-get", "update", "-q"]), log, env=env)
    _run(_as_root(["apt-get", "install", "-y", "-q", *APT_PACKAGES]), log, env=env)


def _deb_src_sources(work: Path) -> Path:
    parts = work / "apt" / "parts"
    (work / "apt" / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    parts.mkdir(parents=True, exist_ok=True)
    found = False
    for source in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        text = source.read_text(encoding="utf-8")
        if "Types: deb" in text:
            lines = [("Types: deb-src" if ln.strip() == "Types: deb" else ln) for ln in text.splitlines()]
            (parts / source.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
            found = True
    legacy = Path("/etc/apt/sources.list")
    if legacy.is_file():
        lines = [
            ln.replace("deb ", "deb-src ", 1)
            for ln in legacy.read_text().splitlines()
            if ln.startswith("deb ")
        ]
        if lines:
            (parts / "legacy.list").write_text("\n".join(lines) + "\n", encoding="utf-8")
            found = True
    if not found:
        raise BuildFailed("no Debian apt sources found to derive deb-src entries from")
    return work / "apt"


def fetch_source(work: Path, log: Path, progress: Progress) -> Path:
    """Download and unpack Debian's kubernetes source package; returns the source tree."""
    tree = work / f"kubernetes-{K8S_VERSION}"
    if (tree / "Makefile").is_file():
        return tree
    progress("downloading Debian's kubernetes source package (~34 MB)")
    apt = _deb_src_sources(work)
    opts = [
        "-o",
        "Dir::Etc::SourceList=/dev/null",
        "-o",
        f"Dir::Etc::SourceParts={apt / 'parts'}",
        "-o",
        f"Dir::State::Lists={apt / 'lists'}",
    ]
    _run(["apt-get", *opts, "update", "-q"], log)
    _run(["apt-get", *opts, "source", "--download-only", "kubernetes"], log, cwd=work)
    tarballs = sorted(work.glob("kubernetes_*.orig.tar.gz"))
    if not tarballs:
        raise BuildFailed("apt-get source did not produce kubernetes_*.orig.tar.gz", detail=str(work))
    progress(f"unpacking {tarballs[-1].name}")
    _run(["tar", "xzf", tarballs[-1].name], log, cwd=work)
    if not (tree / "Makefile").is_file():
        raise BuildFailed(f"unexpected source layout: {tree} has no Makefile")
    return tree


def compile_binaries(tree: Path, log: Path, progress: Progress, names: Sequence[str] = BINARIES) -> None:
    """Run the GOPATH make for ``names`` (the control plane: about 6 min on 2 cores; the kubelet: ~4)."""
    gopath = tree / ".go"
    link = gopath / "src" / "k8s.io" / "kubernetes"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.symlink_to("../../..")
    home = tree / ".gohome"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "GOPATH": str(gopath), "HOME": str(home)}
    env.pop("GOFLAGS", None)
    what = " ".join(f"cmd/{name}" for name in names)
    progress(f"compiling {', '.join(names)} (several minutes)")
    make = ["nice", "-n", "10", "make", f"WHAT={what}"]
    try:
        _run(make, log, cwd=tree, env=env, progress=progress)
    except BuildFailed:
        # A failed build can leave broken generator binaries behind: start once more from clean.
        progress("the build failed; retrying once from a clean _output")
        shutil.rmtree(tree / "_output", ignore_errors=True)
        _run(make, log, cwd=tree, env=env, progress=progress)


def build(root: Path | None = None, progress: Progress | None = None, *, kubelet: bool = False) -> Path:
    """Build and cache the binaries (with ``kubelet``, the kubelet too) unless present; returns their directory."""
    root = root or cache_root()
    say = progress or (lambda _msg: None)
    if is_built(root, kubelet=kubelet):
        return bin_dir(root)
    root.mkdir(parents=True, exist_ok=True)
    with (root / "build.lock").open("w") as lock:
        if not _try_lock(lock):
            say(f"another build into {root} is running; waiting for it")
            fcntl.flock(lock, fcntl.LOCK_EX)
        return _build_locked(root, say, wanted(kubelet))


def _try_lock(lock: IO[str]) -> bool:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _build_locked(root: Path, say: Progress, names: tuple[str, ...]) -> Path:
    if all(_cached(bin_dir(root), name) for name in names) and not _missing_tools():
        return bin_dir(root)
    started = time.monotonic()
    work = root / "src"
    work.mkdir(parents=True, exist_ok=True)
    log = root / "build.log"
    say(f"building Kubernetes {K8S_VERSION} into {root} (log: {log})")
    install_packages(log, say)
    missing = [name for name in names if not _cached(bin_dir(root), name)]
    if missing:
        tree = fetch_source(work, log, say)
        patch_source(tree)
        compile_binaries(tree, log, say, missing)
        target = bin_dir(root)
        target.mkdir(parents=True, exist_ok=True)
        for name in missing:
            built = tree / "_output" / "bin" / name
            if not built.is_file():
                raise BuildFailed(f"the build finished without {name}; see {log}")
            shutil.copy2(built, target / f".{name}.tmp")
            (target / f".{name}.tmp").replace(target / name)
        if KUBELET in missing:
            _stamp(target).write_text(f"{KUBELET_PATCH_LEVEL}\n", encoding="utf-8")
    say(f"binaries ready in {time.monotonic() - started:.0f}s")
    return bin_dir(root)


def _print(msg: str) -> None:
    print(f"kfjupyter cluster: {msg}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    try:
        build(progress=_print, kubelet="--kubelet" in sys.argv[1:])
    except BuildFailed as error:
        print(f"kfjupyter cluster: error: {error.message}\n{error.detail or ''}", file=sys.stderr)
        raise SystemExit(2) from None
