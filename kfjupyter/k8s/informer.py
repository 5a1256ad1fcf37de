"""A list-then-watch cache of one kind of object in one namespace, kept by a daemon thread.

:class:`Informer` lists once, then follows a watch from the list's ``resourceVersion``; when the
server ends the watch it resumes from the last version it saw (bookmarks keep that version fresh),
and it lists again only when the server answers 410 Gone. So a reader that looks at the cache
costs the API server nothing, however often it looks. :meth:`Informer.wait_changed` lets a
follower sleep until something in the cache changes instead of polling.

The synchronous ``kubernetes`` client is used from the thread; a failed list or watch is retried
with back-off, and the last error is kept for :meth:`Informer.wait_synced` to report.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from kfjupyter.k8s.client import is_status, list_json, watch_json

#: How long one watch request stays open before the server ends it and the thread resumes it.
WATCH_TIMEOUT_S = 240
_BACKOFF_MAX_S = 10.0


class Informer:
    """Objects of one ``list_*`` call (plus its selectors) by name, kept current by a watch."""

    def __init__(self, list_call: Callable[..., Any], *, name: str = "informer", **selectors: Any) -> None:
        self._call = list_call
        self._selectors = selectors
        self._items: dict[str, dict[str, Any]] = {}
        self._changed = threading.Condition()
        self._generation = 0
        self._synced = threading.Event()
        self._stop = threading.Event()
        self.error: BaseException | None = None
        #: list and watch requests made so far (each watch counts once, however long it streams)
        self.requests = 0
        self._thread = threading.Thread(target=self._run, name=f"kfjupyter-{name}", daemon=True)
        self._thread.start()

    # -- reading -------------------------------------------------------------------------------

    def get(self, name: str) -> dict[str, Any] | None:
        """The cached object called ``name``, or ``None``."""
        with self._changed:
            return self._items.get(name)

    def items(self) -> list[dict[str, Any]]:
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

    def stop(self) -> None:
        """Stop following (the thread ends when its open watch next yields or times out)."""
        self._stop.set()
        with self._changed:
            self._changed.notify_all()

    # -- the thread ----------------------------------------------------------------------------

    def _bump(self) -> None:
        self._generation += 1
        self._changed.notify_all()

    def _list(self) -> str:
        self.requests += 1
        body = list_json(self._call, **self._selectors)
        with self._changed:
            self._items = {item["metadata"]["name"]: item for item in body.get("items", [])}
            self._bump()
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
                name = obj["metadata"]["name"]
                if kind == "DELETED":
                    self._items.pop(name, None)
                else:
                    self._items[name] = obj
                self._bump()
        return version

    def _run(self) -> None:
        version: str | None = None
        backoff = 0.2
        while not self._stop.is_set():
            try:
                if version is None:
                    version = self._list()
                version = self._watch(version)
                backoff = 0.2
            except Exception as error:  # the client raises many types; retry them all
                if self._stop.is_set():
                    return
                self.error = error
                if is_status(error, 410):
                    version = None
                self._stop.wait(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX_S)


def matching(items: list[dict[str, Any]], selector: str) -> list[dict[str, Any]]:
    """The objects whose labels satisfy an equality-based ``selector`` (``a=b,c=d``)."""
    wanted = dict(part.split("=", 1) for part in selector.split(",") if part)
    return [
        item
        for item in items
        if all((item["metadata"].get("labels") or {}).get(k) == v for k, v in wanted.items())
    ]
