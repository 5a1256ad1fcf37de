"""Build the notebook and hub images from a source checkout, with no registry and no network in RUN.

The base is a Debian root filesystem made by ``mmdebstrap`` from the host's own apt sources (same
release as the host, so the host's ``/usr/bin/python3`` resolves wheels for exactly the image's
Python) and imported with ``docker import``. The wheelhouse is gathered on the host with pip into
the build context; the Containerfiles in ``images/`` install from it with ``--no-index``, and the
build runs with ``--network none``. Layers go base → dependencies → kfjupyter, so a change to
kfjupyter's code rebuilds only the last small layer, and a build whose inputs did not change is
skipped after hashing them (a second or two).

    python -m kfjupyter.cluster.images build      # what `./dev images` runs
    python -m kfjupyter.cluster.images context DIR  # a build context for your own docker/buildah

Everything goes to the project's docker daemon (``kfjupyter.cluster.dockerd``).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import tomllib

from kfjupyter._version import __version__
from kfjupyter.cluster import dockerd
from kfjupyter.cluster.cache import cache_folder
from kfjupyter.errors import Unavailable

NOTEBOOK_IMAGE = "localhost/kfjupyter-notebook"
HUB_IMAGE = "localhost/kfjupyter-hub"
BASE_IMAGE = "localhost/kfjupyter-base"
BASE_PACKAGES = ("python3", "python3-venv", "tini", "ca-certificates")
# Inputs of the kfjupyter wheel: a change here rebuilds the wheel and the images' last layer.
_WHEEL_INPUTS = ("pyproject.toml", "README.md", "kfjupyter", "spawner/kfjupyter_spawner", "jupyter-config")
_IGNORED_PARTS = {"__pycache__", ".mypy_cache", ".ruff_cache"}

Progress = Callable[[str], None]


class ImageBuildFailed(Unavailable):
    """A step of the image build failed (the message names it and where its log is)."""

    reason = "image_build_failed"
    temporary = False


def repo_root() -> Path:
    """The source checkout holding ``images/`` (the build needs one; an installed wheel has none)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "images" / "notebook" / "Containerfile").is_file():
        raise ImageBuildFailed(f"no images/ folder under {root}: build the images from a source checkout")
    return root


def cache_dir() -> Path:
    """``$KFJUPYTER_IMAGES_CACHE`` or ``~/.cache/kfjupyter/images``: context, logs and stamps."""
    return cache_folder("KFJUPYTER_IMAGES_CACHE", "images")


def notebook_tags() -> list[str]:
    """The notebook image's tags: ``latest`` and the kfjupyter version."""
    return [f"{NOTEBOOK_IMAGE}:latest", f"{NOTEBOOK_IMAGE}:{__version__}"]


def hub_tags() -> list[str]:
    """The hub image's tags."""
    return [f"{HUB_IMAGE}:latest", f"{HUB_IMAGE}:{__version__}"]


def _hash(parts: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:16]


def _files(root: Path, names: Iterable[str]) -> list[Path]:
    out: list[Path] = []
    for name in names:
        path = root / name
        if path.is_file():
            out.append(path)
        elif path.is_dir():
            out.extend(
                p for p in sorted(path.rglob("*")) if p.is_file() and not _IGNORED_PARTS & set(p.parts)
            )
    return out


def _hash_files(root: Path, names: Iterable[str]) -> str:
    files = _files(root, names)
    return _hash(part for p in files for part in (str(p.relative_to(root)).encode(), p.read_bytes()))


def requirements(root: Path, image: str) -> list[str]:
    """The kfjupyter dependencies (pyproject.toml) plus ``images/IMAGE/requirements.txt``."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extra = (root / "images" / image / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [*project["dependencies"], *(ln.strip() for ln in extra if ln.strip() and not ln.startswith("#"))]


def _run(
    cmd: Sequence[str], log: Path, *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> None:
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        code = subprocess.run(
            list(cmd), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=cwd, check=False,
        ).returncode  # fmt: skip
    if code != 0:
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:])
        raise ImageBuildFailed(f"`{' '.join(cmd[:3])}` failed (exit {code}); see {log}", detail=tail)


def _docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/usr/bin/docker", *args], env=dockerd.client_env(), capture_output=True, text=True, check=False
    )


def image_id(tag: str) -> str | None:
    """The id of ``tag`` in the project's daemon, or None when it is not there."""
    done = _docker("image", "inspect", "--format", "{{.Id}}", tag)
    return done.stdout.strip() if done.returncode == 0 else None


def _host_release() -> str:
    fields = dict(
        line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line
    )
    codename = fields.get("VERSION_CODENAME", "").strip('"')
    if not codename:
        raise ImageBuildFailed(
            "cannot tell the host's Debian release (no VERSION_CODENAME in /etc/os-release)"
        )
    return codename


def _apt_sources() -> list[str]:
    found = sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    legacy = Path("/etc/apt/sources.list")
    mirrors = [str(p) for p in found if "Types: deb" in p.read_text(encoding="utf-8")]
    if legacy.is_file() and any(ln.startswith("deb ") for ln in legacy.read_text().splitlines()):
        mirrors.append(str(legacy))
    if not mirrors:
        raise ImageBuildFailed("no apt sources on this host to build the Debian base image from")
    return mirrors


def build_base(work: Path, say: Progress) -> str:
    """The Debian base image (mmdebstrap + docker import), rebuilt only when its recipe changed."""
    release = _host_release()
    tag = f"{BASE_IMAGE}:{release}"
    key = _hash([release.encode(), ",".join(BASE_PACKAGES).encode(), b"minbase-v1"])
    stamp = work / "base.stamp"
    current = image_id(tag)
    if current and stamp.is_file() and stamp.read_text() == f"{key} {current}":
        return tag
    say(f"building the Debian {release} base image with mmdebstrap (a few minutes, once)")
    tar = work / "base.tar"
    log = work / "base.log"
    log.write_text("", encoding="utf-8")
    trim = [
        "path-exclude=/usr/share/man/*",
        "path-exclude=/usr/share/doc/*",
        "path-exclude=/usr/share/locale/*",
    ]
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]  # mmdebstrap's root mode needs root
    _run(
        [
            *sudo, "nice", "-n", "10", "mmdebstrap", "--variant=minbase", "--mode=root", "--format=tar",
            f"--include={','.join(BASE_PACKAGES)}", *(f"--dpkgopt={opt}" for opt in trim),
            "--aptopt=Acquire::Languages \"none\"", release, str(tar), *_apt_sources(),
        ],
        log,
    )  # fmt: skip
    _run(
        [
            "/usr/bin/docker",
            "import",
            "--change",
            "ENV LANG=C.UTF-8",
            "--change",
            'CMD ["/bin/bash"]',
            str(tar),
            tag,
        ],
        log,
        env=dockerd.client_env(),
    )
    tar.unlink()
    stamp.write_text(f"{key} {image_id(tag)}", encoding="utf-8")
    return tag


def prepare_context(root: Path, context: Path, say: Progress) -> None:
    """Fill ``context`` with the wheelhouse, the requirement files and the kfjupyter wheel."""
    context.mkdir(parents=True, exist_ok=True)
    reqs = {
        "requirements.txt": requirements(root, "notebook"),
        "hub-requirements.txt": requirements(root, "hub"),
    }
    key = _hash("\n".join(lines).encode() for lines in reqs.values())
    wheels = context / "wheels"
    stamp = context / "wheels.stamp"
    if not (stamp.is_file() and stamp.read_text() == key and wheels.is_dir()):
        say("gathering the wheelhouse with pip on the host (a few minutes, when dependencies change)")
        shutil.rmtree(wheels, ignore_errors=True)
        stamp.unlink(missing_ok=True)
        for name, lines in reqs.items():
            (context / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        pip = _resolver_pip(cache_dir(), context / "wheels.log")
        cmd = [*pip, "wheel", "-q", "--wheel-dir", str(wheels)]
        _run(
            [
                "nice",
                "-n",
                "10",
                *cmd,
                "-r",
                str(context / "requirements.txt"),
                "-r",
                str(context / "hub-requirements.txt"),
            ],
            context / "wheels.log",
        )
        stamp.write_text(key, encoding="utf-8")
    dist = context / "dist"
    wheel_key = _hash_files(root, _WHEEL_INPUTS)
    dist_stamp = context / "dist.stamp"
    if not (
        dist_stamp.is_file() and dist_stamp.read_text() == wheel_key and any(dist.glob("kfjupyter-*.whl"))
    ):
        say("building the kfjupyter wheel")
        shutil.rmtree(dist, ignore_errors=True)
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "-q",
                "--no-deps",
                "--no-build-isolation",
                "--wheel-dir",
                str(dist),
                str(root),
            ],
            context / "dist.log",
        )
        dist_stamp.write_text(wheel_key, encoding="utf-8")


def _resolver_pip(work: Path, log: Path) -> list[str]:
    """The pip of a venv on the host's ``/usr/bin/python3``: the base image's Python (same Debian release)."""
    venv = work / "resolver-venv"
    if not (venv / "bin" / "pip").is_file():
        _run(["/usr/bin/python3", "-m", "venv", "--clear", str(venv)], log)
    return [str(venv / "bin" / "python"), "-m", "pip"]


def _build_image(root: Path, name: str, base: str, tags: Sequence[str], context: Path, log: Path) -> None:
    tag_args = [arg for tag in tags for arg in ("--tag", tag)]
    env = {**dockerd.client_env(), "DOCKER_BUILDKIT": "1"}
    _run(
        [
            "nice", "-n", "10", "/usr/bin/docker", "build", "--network", "none", "--progress", "plain",
            "--build-arg", f"BASE={base}", "--file", str(root / "images" / name / "Containerfile"),
            *tag_args, str(context),
        ],
        log,
        env=env,
    )  # fmt: skip


def build(progress: Progress | None = None, *, hub: bool = True) -> list[str]:
    """Build (or find up to date) the notebook and hub images; returns their tags."""
    say = progress or (lambda _msg: None)
    root = repo_root()
    work = cache_dir()
    work.mkdir(parents=True, exist_ok=True)
    dockerd.start()
    with (work / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a parallel build of the same cache waits, then finds it done
        return _build_locked(root, work, say, hub)


def _build_locked(root: Path, work: Path, say: Progress, hub: bool) -> list[str]:
    tags = notebook_tags() + (hub_tags() if hub else [])
    key = _hash_files(root, ["images", *_WHEEL_INPUTS])
    stamp = work / "images.stamp"
    ids = " ".join(str(image_id(tag)) for tag in tags)
    if stamp.is_file() and stamp.read_text() == f"{key} {ids}" and "None" not in ids:
        return tags
    started = time.monotonic()
    base = build_base(work, say)
    context = work / "context"
    prepare_context(root, context, say)
    log = work / "build.log"
    log.write_text("", encoding="utf-8")
    say(f"building {', '.join(tags)} (log: {log})")
    _build_image(root, "notebook", base, notebook_tags(), context, log)
    if hub:
        _build_image(root, "hub", base, hub_tags(), context, log)
    stamp.write_text(f"{key} {' '.join(str(image_id(tag)) for tag in tags)}", encoding="utf-8")
    _docker("image", "prune", "--force")  # the previous builds' untagged images (the build cache stays)
    say(f"images ready in {time.monotonic() - started:.0f}s")
    return tags


def _print(msg: str) -> None:
    print(f"kfjupyter images: {msg}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kfjupyter.cluster.images build | context DIR``."""
    parser = argparse.ArgumentParser(prog="python -m kfjupyter.cluster.images", description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    build_cmd = sub.add_parser("build", help="build the images into the project's docker daemon")
    build_cmd.add_argument("--no-hub", action="store_true", help="only the notebook image")
    context_cmd = sub.add_parser("context", help="write a build context (wheelhouse, requirements, wheel)")
    context_cmd.add_argument("dir", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.action == "build":
            for tag in build(_print, hub=not args.no_hub):
                print(tag)
        else:
            prepare_context(repo_root(), args.dir.resolve(), _print)
            print(args.dir)
    except (ImageBuildFailed, dockerd.DockerUnavailable) as error:
        print(f"kfjupyter images: error: {error.message}\n{error.detail or ''}".rstrip(), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
