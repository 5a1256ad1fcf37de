"""Pod events indexed by the pod they are about, kept by a listener on the shared events cache.

The caches themselves are :class:`kfjupyter.k8s.informer.Informer` (one list, then one long watch
per resource, shared by every spawner of a hub). :class:`EventIndex` listens to the events cache
so a spawn looks up its pod's events in O(1) instead of scanning every event of the namespace.
"""

from __future__ import annotations

import threading
from typing import Any

from kfjupyter.k8s.informer import Informer

Obj = dict[str, Any]


class EventIndex:
    """Events of an informer indexed by the object they are about (kind/namespace/name)."""

    def __init__(self, events: Informer) -> None:
        """Listen to ``events`` (add the index before the informer starts, to see its first list)."""
        self._by_object: dict[str, dict[str, Obj]] = {}
        self._lock = threading.Lock()
        events.add_listener(self)

    def __call__(self, kind: str, event: Obj) -> None:
        """Listener for the events informer: keep the index in step with the cache."""
        involved = event.get("involvedObject", {})
        target = f"{involved.get('kind')}/{involved.get('namespace')}/{involved.get('name')}"
        uid = event.get("metadata", {}).get("uid", "")
        with self._lock:
            bucket = self._by_object.setdefault(target, {})
            if kind == "DELETED":
                bucket.pop(uid, None)
                if not bucket:
                    self._by_object.pop(target, None)
            else:
                bucket[uid] = event

    def for_pod(self, namespace: str, name: str) -> list[Obj]:
        """Events about one pod, oldest first."""
        with self._lock:
            events = list(self._by_object.get(f"Pod/{namespace}/{name}", {}).values())
        return sorted(events, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
