"""SQLite plumbing for the run store: connections, transactions and turning sqlite3 errors into ours.

:class:`Database` opens the file in WAL mode (readers never block the one writer, across
processes), with ``synchronous=NORMAL``, a busy timeout and foreign keys on. Each thread gets its
own connection, made on first use and closed by :meth:`Database.close`; a forked child never
reuses its parent's connection. Every sqlite3 error leaves as a one-line :mod:`kfjupyter.errors`
error that names the file and says what to do, never as a raw sqlite3 traceback.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from kfjupyter.errors import (
    Conflict,
    InsufficientStorage,
    InvalidInput,
    KfJupyterError,
    StorageFault,
    Unavailable,
)
from kfjupyter.store.migrations import Migration, migrate

_log = logging.getLogger(__name__)
_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")
_TEMPORARY = ("SQLITE_IOERR", "SQLITE_PROTOCOL")


def translate(exc: sqlite3.Error, path: Path) -> KfJupyterError:
    """Return the kfjupyter error for an sqlite3 error on the store file ``path``."""
    name = getattr(exc, "sqlite_errorname", "")
    text = str(exc)
    if isinstance(exc, sqlite3.IntegrityError):
        return Conflict(
            f"The change clashes with data already in run store {path} ({text}).", reason="conflict"
        )
    if name.startswith(_BUSY) or "locked" in text:
        return Unavailable(
            f"Run store {path} is busy: another process held its write lock too long; try again.",
            detail=repr(exc),
            reason="store_busy",
        )
    if (
        name.startswith("SQLITE_FULL")
        or "is full" in text
        or (name.startswith("SQLITE_IOERR") and _disk_full(path))
    ):
        return InsufficientStorage(
            f"Run store {path} could not be written: the disk is full ({text}); free disk space, then retry.",
            detail=repr(exc),
            reason="store_full",
        )
    if name.startswith(_TEMPORARY) or "disk I/O" in text:
        return Unavailable(
            f"Run store {path} could not be written ({text}); check the disk, then retry.",
            detail=repr(exc),
            reason="store_io",
        )
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_PERM")) or "unable to open" in text:
        return StorageFault(
            f"Cannot open run store {path} for writing ({text}); check its permissions "
            "or set KFJUPYTER_HOME to a writable directory.",
            detail=repr(exc),
            reason="store_unreadable",
        )
    return StorageFault(
        f"Run store {path} is not a readable kfjupyter database ({text}); move it aside "
        f"(mv {path} {path}.bad) and a new one will be created, or set KFJUPYTER_HOME to another directory.",
        detail=repr(exc),
        reason="store_corrupt",
    )


@contextmanager
def _opening(path: Path) -> Iterator[None]:
    """Hold ``<store>.lock`` while the store is opened, so no process sees another's new, still empty file."""
    try:
        fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise StorageFault(
            f"Cannot open run store {path} ({exc.strerror}); check the permissions of {path.parent} "
            "or set KFJUPYTER_HOME to a writable directory.",
            detail=repr(exc),
            reason="store_unreadable",
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def set_aside_if_empty(path: Path) -> Path | None:
    """Move a store file of 0 bytes (and its ``-wal``/``-shm``) aside; return where, or None.

    SQLite would silently treat an empty file as a new database, so a store cut to nothing by a full
    disk or a crash would just look like a store without runs. Instead the file keeps its place
    under a timestamped name (``runs.db.empty-20250101-120000``), a warning says so, and a new store
    is created. Call it only while holding the opening lock.
    """
    try:
        if path.stat().st_size != 0:
            return None
    except FileNotFoundError:
        return None
    aside = path.with_name(f"{path.name}.empty-{time.strftime('%Y%m%d-%H%M%S')}")
    count = 1
    while aside.exists():
        count += 1
        aside = aside.with_name(f"{path.name}.empty-{time.strftime('%Y%m%d-%H%M%S')}-{count}")
    for suffix in ("-wal", "-shm", ""):  # the main file last: until then, nothing looks new
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").rename(f"{aside}{suffix}")
    _log.warning(
        "Run store %s was empty (0 bytes), as a store cut short by a full disk or a crash is; it was "
        "moved aside to %s and a new, empty store is used. Runs recorded before are not listed.",
        path,
        aside,
    )
    return aside


def _shown(text: object, most: int = 60) -> str:
    """``repr`` of an offending text for a message, cut in the middle when long."""
    shown = ascii(text)
    return shown if len(shown) <= most else f"{shown[: most // 2]}...{shown[-most // 2 :]}"


def _disk_full(path: Path, least: int = 256 * 1024) -> bool:
    """Whether the file system holding ``path`` has (almost) no room left: an I/O error there is a full disk.

    SQLite reports a write that fails for want of space in its WAL index as a plain I/O error.
    """
    try:
        info = os.statvfs(path.parent)
    except OSError:
        return False
    return info.f_bavail * info.f_frsize < least


class Database:
    """One SQLite store file shared by threads (a connection each) and processes (WAL)."""

    def __init__(
        self, path: Path, *, timeout: float = 5.0, migrations: Sequence[Migration] | None = None
    ) -> None:
        """Open (creating if needed) the database at ``path`` and bring its schema up to date."""
        self.path = path
        self._timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._inherited: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._pid = os.getpid()
        self._closed = False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageFault(
                f"Cannot create the run store directory {path.parent} ({exc.strerror}); "
                "set KFJUPYTER_HOME to a writable directory.",
                detail=repr(exc),
                reason="store_unreadable",
            ) from exc
        try:
            with self.guard(), _opening(path):
                set_aside_if_empty(path)
                conn = self.connection()
                (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
                if str(mode).lower() != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")
                self.version = migrate(conn, str(path), migrations)
        except BaseException:
            self.close()
            raise

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
        except BaseException:
            conn.close()
            raise
        return conn

    def connection(self) -> sqlite3.Connection:
        """Return this thread's connection, opening it on first use."""
        if self._closed:
            raise Conflict(f"Run store {self.path} is closed.", reason="store_closed")
        if os.getpid() != self._pid:
            self._after_fork()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            current = threading.current_thread()
            with self._lock:
                stale = [c for t, c in self._connections if not t.is_alive()]
                self._connections = [(t, c) for t, c in self._connections if t.is_alive()]
                self._connections.append((current, conn))
            for old in stale:
                old.close()
            self._local.conn = conn
        return conn

    def _after_fork(self) -> None:
        # SQLite connections must not cross fork(); the child starts afresh and leaves the
        # parent's connections alone (closing them here could disturb the parent's locks).
        self._pid = os.getpid()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._inherited = self._connections
        self._connections = []

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Turn any sqlite3 error raised inside into a :mod:`kfjupyter.errors` error."""
        try:
            yield
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from None
        except UnicodeEncodeError as exc:  # a lone surrogate: bytes that were not UTF-8
            raise InvalidInput(
                f"{_shown(exc.object)} is not valid text (it holds bytes that are not UTF-8); "
                "use a valid run id, step or name.",
                detail=repr(exc),
            ) from None
        except OverflowError as exc:  # an int beyond SQLite's 64 bits
            raise InvalidInput(
                f"A number is too large for the run store ({exc}).", detail=repr(exc)
            ) from None

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """Yield this thread's connection for reads (autocommit; each statement sees a snapshot)."""
        with self.guard():
            yield self.connection()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """Yield a connection inside ``BEGIN IMMEDIATE``; commit on success, roll back on error."""
        with self.guard():
            conn = self.connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        """Close every connection this process opened; later use raises ``Conflict``."""
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        if os.getpid() != self._pid:
            return
        for _, conn in connections:
            conn.close()
