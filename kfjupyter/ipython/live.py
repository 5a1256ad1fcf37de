"""Keeping a widget live: a daemon thread that re-reads the run store until nothing is active.

The runner writes the store from another thread or process; a :class:`Follower` opens its own
connection in its thread (SQLite connections belong to one thread), calls the widget's
``refresh(store)`` every ``poll_s`` seconds and stops when it returns ``False`` or on
:meth:`Follower.stop`. The kernel stays free for other cells meanwhile. A store error (locked,
unreadable) is handed to ``on_error`` once and ends the loop; anything else is a bug and is raised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from kfjupyter.errors import KfJupyterError
from kfjupyter.store import RunStore, open_store


class Follower:
    """Calls ``refresh(store)`` from a daemon thread until it returns ``False``."""

    def __init__(
        self,
        name: str,
        refresh: Callable[[RunStore], bool],
        *,
        home: Path,
        poll_s: float = 0.5,
        on_error: Callable[[KfJupyterError], None] | None = None,
    ) -> None:
        self.name = name
        self.home = home
        self.poll_s = poll_s
        self._refresh = refresh
        self._on_error = on_error
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """Whether the thread is following now."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start following (no-op while already following)."""
        with self._lock:
            if self.running:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end after its current refresh."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the thread has ended (or ``timeout`` seconds passed)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _loop(self) -> None:
        try:
            with open_store(self.home) as store:
                while not self._stop.is_set() and self._refresh(store):
                    self._stop.wait(self.poll_s)
        except KfJupyterError as error:
            if self._on_error is None:
                raise
            self._on_error(error)


class LiveView:
    """Base of the widgets kept live by a :class:`Follower` (set as ``self._follower``)."""

    _follower: Follower

    def follow(self) -> None:
        """Update from a background thread until nothing shown is active."""
        self._follower.start()

    def stop(self) -> None:
        """Stop updating."""
        self._follower.stop()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the background thread has ended (or ``timeout`` seconds passed)."""
        self._follower.wait(timeout)
