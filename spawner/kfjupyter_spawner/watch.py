"""Shared watches: one list, then one long watch per resource, shared by every spawner of a hub.

Each :class:`SharedWatch` lists its resource once, then follows a watch that resumes from the last
resource version it saw (bookmarks on). It lists again only when the server says that version is
gone (410), never on a timer. Objects are kept as plain JSON dicts keyed by namespace/name; events
are indexed by the object they are about, so a spawn looks up its pod's events in O(1). Waiters
in the hub's asyncio loop are woken from the watch thread through ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kfjupyter.k8s.client import list_json, watch_json

log = logging.getLogger(__name__)
Obj = dict[str, Any]
WATCH_TIMEOUT_S = 300
RETRY_S = 1.0


def key_of(obj: Obj) -> str:
    """``namespace/name`` of an object (``name`` for cluster-scoped ones)."""
    meta = obj.get("metadata", {})
    ns = meta.get("namespace")
    return f"{ns}/{meta.get('name')}" if ns else str(meta.get("name"))


class SharedWatch:
    """A live cache of one resource, fed by a single list-then-watch loop in a thread."""

    def __init__(self, name: str, list_call: Callable[..., Any], **selectors: Any) -> None:
        self.name = name
        self._call = list_call
        self._selectors = selectors
        self.objects: dict[str, Obj] = {}
        self.requests = 0  # API requests made (lists + watch connections), for the benchmarks
        self._rv = ""
        self._lock = threading.Lock()
        # Waiters by key ("" = any change): a spawn waiting for its own pod is woken by that pod's
        # changes only, not by every pod change in the cluster (O(changes), not O(changes x spawns)).
        self._waiters: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._listeners: list[Callable[[str, Obj], None]] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"kfjupyter-watch-{name}", daemon=True)

    def start(self, timeout_s: float = 30.0) -> None:
        """Start the loop and wait for the first list."""
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise TimeoutError(f"listing {self.name} took more than {timeout_s:g} s")

    def stop(self) -> None:
        """Ask the loop to end (it notices at its next event or timeout)."""
        self._stop.set()

    def add_listener(self, listener: Callable[[str, Obj], None]) -> None:
        """Call ``listener(type, obj)`` from the watch thread for every change."""
        self._listeners.append(listener)

    def get(self, key: str) -> Obj | None:
        """The cached object at ``namespace/name``."""
        with self._lock:
            return self.objects.get(key)

    def values(self) -> list[Obj]:
        """A snapshot of every cached object."""
        with self._lock:
            return list(self.objects.values())

    async def changed(self, timeout_s: float, key: str = "") -> None:
        """Wait until the cache changes (only object ``key``, when given) or ``timeout_s`` passes."""
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            self._waiters.setdefault(key, []).append(entry)
        try:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), timeout_s)
        finally:
            with self._lock:
                waiters = self._waiters.get(key, [])
                with contextlib.suppress(ValueError):
                    waiters.remove(entry)
                if not waiters:
                    self._waiters.pop(key, None)

    def _notify(self, kind: str, obj: Obj) -> None:
        for listener in self._listeners:
            listener(kind, obj)
        with self._lock:
            if kind == "SYNC":
                woken = [w for waiters in self._waiters.values() for w in waiters]
            else:
                woken = [*self._waiters.get("", []), *self._waiters.get(key_of(obj), [])]
        for loop, event in woken:
            with contextlib.suppress(RuntimeError):  # the loop is closed
                loop.call_soon_threadsafe(event.set)

    def _list(self) -> None:
        self.requests += 1
        body = list_json(self._call, **self._selectors)
        with self._lock:
            self.objects = {key_of(o): o for o in body.get("items", [])}
            self._rv = body.get("metadata", {}).get("resourceVersion", "")
        self._ready.set()
        self._notify("SYNC", {})

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self._rv:
                    self._list()
                self._follow()
            except Exception as error:  # network trouble: keep the cache, retry from the same version
                log.warning("watch of %s interrupted (%s); resuming", self.name, error)
                time.sleep(RETRY_S)

    def _follow(self) -> None:
        self.requests += 1
        for kind, obj in watch_json(
            self._call,
            resource_version=self._rv,
            allow_watch_bookmarks=True,
            timeout_seconds=WATCH_TIMEOUT_S,
            **self._selectors,
        ):
            if self._stop.is_set():
                return
            if kind == "ERROR":
                if obj.get("code") == 410:
                    self._rv = ""  # too old: list once more
                return
            with self._lock:
                self._rv = obj.get("metadata", {}).get("resourceVersion", self._rv)
                if kind == "DELETED":
                    self.objects.pop(key_of(obj), None)
                elif kind in ("ADDED", "MODIFIED"):
                    self.objects[key_of(obj)] = obj
            if kind != "BOOKMARK":
                self._notify(kind, obj)


class EventIndex:
    """Events of a watch indexed by the object they are about (kind/namespace/name)."""

    def __init__(self, watch: SharedWatch) -> None:
        self._watch = watch
        self._by_object: dict[str, dict[str, Obj]] = {}
        self._lock = threading.Lock()
        watch.add_listener(self)

    def __call__(self, kind: str, event: Obj) -> None:
        """Listener for the events watch: keep the index in step with the cache."""
        if kind == "SYNC":
            with self._lock:
                self._by_object = {}
            for item in self._watch.values():
                self("ADDED", item)
            return
        involved = event.get("involvedObject", {})
        target = f"{involved.get('kind')}/{involved.get('namespace')}/{involved.get('name')}"
        uid = event.get("metadata", {}).get("uid", "")
        with self._lock:
            bucket = self._by_object.setdefault(target, {})
            if kind == "DELETED":
                bucket.pop(uid, None)
            else:
                bucket[uid] = event

    def for_pod(self, namespace: str, name: str) -> list[Obj]:
        """Events about one pod, oldest first."""
        with self._lock:
            events = list(self._by_object.get(f"Pod/{namespace}/{name}", {}).values())
        return sorted(events, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
