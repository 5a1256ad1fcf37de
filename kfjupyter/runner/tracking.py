"""What a step read: the local modules it imported and the files and folders it read.

A step's cache key covers its code, set-up, parameters and inputs; what it pulls in from the disk
while it runs is only known once it has run. The step process records it (:class:`ReadRecorder`):

- every module imported while the step runs whose file lies outside the interpreter's installed
  packages and standard library (next to the notebook, or on a path the notebook adds),
  transitively, since ``sys.modules`` holds what imported modules import;
- every file opened for reading, through a Python audit hook on ``open`` (``open()``, ``io``,
  ``pathlib``, ``os.open`` and whatever calls them: pandas, numpy, PIL ...), outside the installed
  packages, the standard library and the run's own folders;
- every folder listed (``os.listdir``, ``os.scandir``, so ``glob`` and ``os.walk`` too), by the
  names in it, so a file added to a folder a step globs is noticed.

Each is kept with its size, mtime and a content hash. A cached result is valid only while they are
all unchanged (:func:`check_reads`); the check is lazy: a stat first, the hash only when size or
mtime moved, so touching a file without changing it keeps the cache.

Not seen: reads by subprocesses and by compiled libraries that open files themselves (C ``fopen``),
network reads, the clock and unseeded randomness. Steps that depend on those opt out of caching or
declare extra inputs.
"""

# Paths stay plain strings with os.path here: the audit hook runs on every file a step opens, and
# pathlib objects would cost more than the rest of the hook.
# ruff: noqa: PTH100, PTH116, PTH120, PTH208

from __future__ import annotations

import functools
import hashlib
import os
import site
import stat
import sys
import sysconfig
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any

from kfjupyter.runner.job import TrackedRead

#: A file whose mtime is this close to the moment it was recorded is hashed at the next check even
#: when its stat looks unchanged: a write within the clock's granularity keeps the mtime.
RACY_NS = 2_000_000_000
_HASH_CHUNK = 1 << 20
_SYSTEM = ("/proc", "/sys", "/dev")


@functools.cache
def installed_roots() -> tuple[str, ...]:
    """Folders whose files belong to the interpreter, installed packages, or kfjupyter itself."""
    roots: set[str] = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(path)
    for path in [*site.getsitepackages(), site.getusersitepackages()]:
        roots.add(path)
    roots.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the kfjupyter package
    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        if os.path.dirname(prefix) != prefix:  # never "/" itself: that would hide everything
            roots.add(prefix)
    resolved = {os.path.realpath(r) for r in roots} | {os.path.abspath(r) for r in roots}
    return tuple(sorted(r.rstrip("/") + "/" for r in resolved))


def _under(path: str, roots: Sequence[str]) -> bool:
    return path.startswith(roots) if roots else False  # type: ignore[arg-type]


def is_local_module(module: ModuleType, roots: Sequence[str] | None = None) -> str | None:
    """The file of ``module`` when it is a local module (not installed, not stdlib), else None."""
    file = getattr(module, "__file__", None)
    if not isinstance(file, str) or not file:
        return None
    path = os.path.abspath(file)
    if _under(path, tuple(roots) if roots is not None else installed_roots()):
        return None
    return path


def local_modules(names: Iterable[str]) -> dict[str, str]:
    """Module name -> file for the local modules among ``names`` in ``sys.modules``."""
    found = {}
    for name in names:
        module = sys.modules.get(name)
        if module is None:
            continue
        path = is_local_module(module)
        if path is not None:
            found[name] = path
    return found


def forget_local_modules() -> list[str]:
    """Drop local modules from ``sys.modules`` (a step must import its helpers as they are now)."""
    gone = [name for name, _ in local_modules(list(sys.modules)).items()]
    for name in gone:
        del sys.modules[name]
    return gone


def file_sha256(path: str) -> str:
    """Hex SHA-256 of a file's content (raw descriptor reads: no buffered file object to build)."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        while chunk := os.read(fd, _HASH_CHUNK):
            digest.update(chunk)
    finally:
        os.close(fd)
    return digest.hexdigest()


def listing_sha256(path: str) -> str:
    """Hex SHA-256 of a folder's sorted entry names."""
    names = sorted(os.listdir(path))
    return hashlib.sha256("\0".join(names).encode("utf-8", "surrogateescape")).hexdigest()


def _stamp(st: os.stat_result, now_ns: int) -> int:
    """The mtime to keep: 0 (always hash next time) when the file changed too recently to trust it."""
    return 0 if now_ns - st.st_mtime_ns < RACY_NS else st.st_mtime_ns


def _wanted_open(mode: Any, flags: Any) -> bool:
    if isinstance(mode, str):
        return "r" in mode or ("a" in mode and "+" in mode)
    if isinstance(flags, int):
        access = flags & os.O_ACCMODE
        return access != os.O_WRONLY and not flags & os.O_TRUNC
    return False


@dataclass
class _Seen:
    kind: str  # "file" or "dir"
    size: int
    mtime_ns: int


class ReadRecorder:
    """Records, in a step process, what the step reads (one per process; hooks cannot be removed)."""

    def __init__(self, private_dirs: Sequence[str]) -> None:
        extra = [os.path.abspath(d).rstrip("/") + "/" for d in private_dirs if d]
        self._skip = tuple(sorted({*installed_roots(), *extra, *(s + "/" for s in _SYSTEM)}))
        self._seen: dict[str, _Seen] = {}
        # Names of modules imported while recording (the "import" event fires only for modules not
        # yet in sys.modules). Snapshotting sys.modules instead would touch every module object's
        # reference count, copying hundreds of shared pages into each forked step process.
        self._imported: set[str] = set()
        self.active = False
        sys.addaudithook(self._hook)

    def start(self) -> None:
        """Begin recording (modules imported from now on, files opened from now on)."""
        self.active = True

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active:
            return
        if event == "open":
            if not _wanted_open(args[1], args[2] if len(args) > 2 else None):
                return
            kind = "file"
        elif event == "import":
            self._imported.add(args[0])
            return
        elif event in ("os.listdir", "os.scandir"):
            kind = "dir"
        else:
            return
        target = args[0]
        if isinstance(target, bytes):
            target = os.fsdecode(target)
        if not isinstance(target, str):
            return  # a file descriptor: whatever opened it was recorded then
        if sys._getframe(1).f_code.co_filename.startswith("<frozen importlib"):
            return  # the import system: imported modules are recorded as modules
        path = os.path.abspath(target or ".")
        if path in self._seen or _under(path, self._skip):
            return
        self._note(path, kind)

    def _note(self, path: str, kind: str) -> None:
        try:
            st = os.stat(path)  # raises no audit event: no re-entry
        except OSError:
            return  # it does not exist (the step will fail or handle it): nothing was read
        wanted = stat.S_ISDIR if kind == "dir" else stat.S_ISREG
        if not wanted(st.st_mode):
            return  # a device, a pipe, or a folder opened as a file: nothing to compare later
        self._seen[path] = _Seen(kind, st.st_size, st.st_mtime_ns)

    def finish(self) -> list[TrackedRead]:
        """Stop recording; return what was read, with sizes, mtimes and hashes as left by the step."""
        self.active = False
        now_ns = time.time_ns()
        reads: list[TrackedRead] = []
        modules = local_modules(self._imported)
        module_files: dict[str, str] = {}
        for name, path in sorted(modules.items()):
            module_files.setdefault(path, name)
        for path, name in module_files.items():
            record = _record(path, "module", name, now_ns)
            if record is not None:
                reads.append(record)
        for path, seen in sorted(self._seen.items()):
            if path in module_files:
                continue
            record = _record(path, seen.kind, "", now_ns, seen)
            if record is None:
                # Deleted or rewritten while the step ran: what it read is gone; never reuse.
                reads.append(TrackedRead(kind=seen.kind, path=path, size=-1, mtime_ns=0, sha256=""))
                continue
            reads.append(record)
        return reads


def _record(path: str, kind: str, name: str, now_ns: int, seen: _Seen | None = None) -> TrackedRead | None:
    """The read as it is now; None when it is gone or (a file) changed since the step opened it."""
    try:
        st = os.stat(path)
        if seen is not None and kind == "file" and (st.st_size, st.st_mtime_ns) != (seen.size, seen.mtime_ns):
            return None
        digest = listing_sha256(path) if kind == "dir" else file_sha256(path)
    except OSError:
        return None
    size = 0 if kind == "dir" else st.st_size
    return TrackedRead(kind=kind, path=path, name=name, size=size, mtime_ns=_stamp(st, now_ns), sha256=digest)


@dataclass(frozen=True)
class ReadCheck:
    """The outcome of checking recorded reads against the disk."""

    changed: list[str]  # why the cached result may not be reused (empty: it may)
    restamped: list[TrackedRead] | None  # the reads with fresh mtimes when some were only touched


def describe(read: TrackedRead, what: str) -> str:
    """A reason naming the module, file or folder: ``module 'helper' changed (/nb/helper.py)``."""
    if read.kind == "module":
        return f"module '{read.name}' {what} ({read.path})"
    if read.kind == "dir":
        return f"folder {read.path} {what}"
    return f"file {read.path} {what}"


def check_reads(reads: Sequence[TrackedRead]) -> ReadCheck:
    """Whether every recorded read is unchanged: stat first, hash only when size or mtime moved."""
    changed: list[str] = []
    fresh: list[TrackedRead] = []
    touched = False
    now_ns = time.time_ns()
    for read in reads:
        if read.size < 0:
            changed.append(describe(read, "changed while the step ran"))
            continue
        try:
            st = os.stat(read.path)
        except OSError:
            changed.append(describe(read, "was deleted"))
            continue
        size = 0 if read.kind == "dir" else st.st_size
        if read.mtime_ns and st.st_mtime_ns == read.mtime_ns and size == read.size:
            fresh.append(read)
            continue
        try:
            digest = listing_sha256(read.path) if read.kind == "dir" else file_sha256(read.path)
        except OSError:
            changed.append(describe(read, "can no longer be read"))
            continue
        if digest != read.sha256 or size != read.size:
            changed.append(describe(read, "changed"))
            continue
        touched = True
        fresh.append(replace(read, mtime_ns=_stamp(st, now_ns)))
    return ReadCheck(changed=changed, restamped=fresh if touched and not changed else None)
