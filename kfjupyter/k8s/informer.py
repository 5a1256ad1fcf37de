"""The one list-then-watch cache: objects of one ``list_*`` call, kept current by a daemon thread.

:class:`Informer` lists once, then follows a watch from the list's ``resourceVersion``; when the
server ends the watch (every :data:`WATCH_TIMEOUT_S`) it resumes from the last version it saw
(bookmarks keep that version fresh), and it lists again only when the server answers 410 Gone,
never on a timer. A failed list or watch keeps the cache and is retried from the same version,
after a back-off that doubles from :data:`BACKOFF_MIN_S` to :data:`BACKOFF_MAX_S`; the last error
is kept in :attr:`Informer.error`. So a reader that looks at the cache costs the API server
nothing, however often it looks.

Objects are plain JSON dicts keyed by ``namespace/name`` (``name`` for cluster-scoped ones, see
:func:`key_of`). Three ways to follow changes, all fed from the one thread:

- :meth:`Informer.wait_changed` (threads) sleeps until the :attr:`~Informer.generation` moves;
- :meth:`Informer.changed` (asyncio) wakes a coroutine when the cache, or one object, changes,
  through its loop's ``call_soon_threadsafe``, so a waiter for one object is not woken by others;
- listeners (:meth:`Informer.add_listener`) are called with ``(type, object)`` for every change;
  a (re)list is reported as the ``ADDED``/``MODIFIED``/``DELETED`` events it implies.

The kfjupyter spawner's cluster view, the Kubernetes training backend and the local cluster's
kubelet all use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from kfjupyter.k8s.client import is_status, list_json, watch_json

log = logging.getLogger(__name__)
Obj = dict[str, Any]
Listener = Callable[[str, Obj], None]

#: How long one watch request stays open before the server ends it and the thread resumes it.
WATCH_TIMEOUT_S = 300
#: First and longest pause before retrying a failed list or watch.
BACKOFF_MIN_S = 0.2
BACKOFF_MAX_S = 10.0


def key_of(obj: Obj) -> str:
    """``namespace/name`` of an object (``name`` for cluster-scoped ones)."""
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    return f"{namespace}/{meta.get('name')}" if namespace else str(meta.get("name"))


class Informer:
    """Objects of one ``list_*`` call (plus its selectors) by ``namespace/name``, kept by a watch."""

    def __init__(
        self, list_call: Callable[..., Any], *, name: str = "informer", start: bool = True, **selectors: Any
    ) -> None:
        """Follow ``list_call(**selectors)``; the thread starts now unless ``start`` is false."""
        self.name = name
        self._call = list_call
        self._selectors = selectors
        self._items: dict[str, Obj] = {}
        self._changed = threading.Condition()
        self._generation = 0
        self._synced = threading.Event()
        self._stop = threading.Event()
        # asyncio waiters by key ("" = any change): a spawn waiting for its own pod is woken by
        # that pod's changes only, not by every pod change in the cluster.
        self._waiters: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._listeners: list[Listener] = []
        self.error: BaseException | None = None
        #: list and watch requests made so far (each watch counts once, however long it streams)
        self.requests = 0
        self._thread = threading.Thread(target=self._run, name=f"kfjupyter-{name}", daemon=True)
        if start:
            self.start()

    def start(self) -> None:
        """Start the thread (once; later calls do nothing)."""
        with self._changed:
            if self._thread.ident is None:
                self._thread.start()

    # -- reading -------------------------------------------------------------------------------

    def get(self, key: str) -> Obj | None:
        """The cached object at ``namespace/name`` (``name`` when cluster-scoped), or ``None``."""
        with self._changed:
            return self._items.get(key)

    def items(self) -> list[Obj]:
        """A snapshot of every cached object."""
        with self._changed:
            return list(self._items.values())

    @property
    def generation(self) -> int:
        """A counter that grows with every change applied to the cache."""
        with self._changed:
            return self._generation

    def wait_synced(self, timeout: float) -> bool:
        """Wait until the first list has landed; ``False`` if it has not within ``timeout``."""
        return self._synced.wait(timeout)

    def wait_changed(self, since: int, timeout: float) -> int:
        """Block until the generation passes ``since`` (or ``timeout``); return the generation."""
        with self._changed:
            self._changed.wait_for(lambda: self._generation > since or self._stop.is_set(), timeout)
            return self._generation

    async def changed(self, timeout_s: float, key: str = "") -> None:
        """Wait until the cache changes (only object ``key``, when given) or ``timeout_s`` passes."""
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._changed:
            self._waiters.setdefault(key, []).append(entry)
        try:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), timeout_s)
        finally:
            with self._changed:
                waiters = self._waiters.get(key, [])
                with contextlib.suppress(ValueError):
                    waiters.remove(entry)
                if not waiters:
                    self._waiters.pop(key, None)

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(type, obj)`` from the thread for every change (add it before starting)."""
        self._listeners.append(listener)

    def stop(self) -> None:
        """Stop following (the thread ends when its open watch next yields or times out)."""
        self._stop.set()
        with self._changed:
            self._changed.notify_all()

    # -- the thread ----------------------------------------------------------------------------

    def _notify(self, kind: str, obj: Obj) -> None:
        """Tell listeners and wake the waiters for ``obj`` and for any change."""
        for listener in self._listeners:
            try:
                listener(kind, obj)
            except Exception:  # one listener's bug must not stop the cache
                log.exception("listener of %s failed on %s %s", self.name, kind, key_of(obj))
        with self._changed:
            woken = [*self._waiters.get("", []), *self._waiters.get(key_of(obj), [])]
        for loop, event in woken:
            with contextlib.suppress(RuntimeError):  # the loop is closed
                loop.call_soon_threadsafe(event.set)

    def _list(self) -> str:
        self.requests += 1
        body = list_json(self._call, **self._selectors)
        fresh = {key_of(item): item for item in body.get("items", [])}
        with self._changed:
            old, self._items = self._items, fresh
            self._generation += 1
            self._changed.notify_all()
        changes = [("DELETED", obj) for key, obj in old.items() if key not in fresh]
        for key, obj in fresh.items():
            before = old.get(key)
            if before is None:
                changes.append(("ADDED", obj))
            elif (before.get("metadata") or {}).get("resourceVersion") != obj["metadata"].get(
                "resourceVersion"
            ):
                changes.append(("MODIFIED", obj))
        for kind, obj in changes:
            self._notify(kind, obj)
        self._synced.set()
        return str(body["metadata"]["resourceVersion"])

    def _watch(self, version: str) -> str | None:
        """Follow one watch; return the version to resume from, or ``None`` to list again."""
        self.requests += 1
        events = watch_json(
            self._call,
            resource_version=version,
            allow_watch_bookmarks=True,
            timeout_seconds=WATCH_TIMEOUT_S,
            **self._selectors,
        )
        for kind, obj in events:
            if self._stop.is_set():
                break
            if kind == "ERROR":
                if obj.get("code") == 410:
                    return None
                raise RuntimeError(f"watch error: {obj.get('message', obj)}")
            version = str(obj["metadata"]["resourceVersion"])
            if kind == "BOOKMARK":
                continue
            with self._changed:
                if kind == "DELETED":
                    self._items.pop(key_of(obj), None)
                else:
                    self._items[key_of(obj)] = obj
                self._generation += 1
                self._changed.notify_all()
            self._notify(kind, obj)
        return version

    def _run(self) -> None:
        version: str | None = None
        backoff = BACKOFF_MIN_S
        while not self._stop.is_set():
            try:
                if version is None:
                    version = self._list()
                version = self._watch(version)
                backoff = BACKOFF_MIN_S
            except Exception as error:  # the client raises many types; retry them all
                if self._stop.is_set():
                    return
                self.error = error
                log.info("%s: list/watch interrupted (%s); retrying in %.1f s", self.name, error, backoff)
                if is_status(error, 410):
                    version = None
                self._stop.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)


def matching(items: list[Obj], selector: str) -> list[Obj]:
    """The objects whose labels satisfy an equality-based ``selector`` (``a=b,c=d``)."""
    wanted = dict(part.split("=", 1) for part in selector.split(",") if part)
    return [
        item
        for item in items
        if all((item["metadata"].get("labels") or {}).get(k) == v for k, v in wanted.items())
    ]
