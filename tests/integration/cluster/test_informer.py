"""The list-then-watch cache against a real API server: adds, updates, deletes, no relists."""

from __future__ import annotations

import functools
import time

from kfjupyter.k8s.client import Kube
from kfjupyter.k8s.informer import Informer, matching


def _configmap(name: str, value: str, app: str = "demo") -> dict[str, object]:
    return {"metadata": {"name": name, "labels": {"app": app}}, "data": {"v": value}}


def _until(check: object, informer: Informer, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    seen = informer.generation
    while not callable(check) or not check():
        assert time.monotonic() < deadline, "the cache did not catch up"
        seen = informer.wait_changed(seen, 0.5)


def test_the_cache_follows_creates_updates_and_deletes_with_one_list(kube: Kube, namespace: str) -> None:
    core = kube.core
    core.create_namespaced_config_map(namespace, _configmap("before", "1"))
    informer = Informer(functools.partial(core.list_namespaced_config_map, namespace), name="test")
    try:
        assert informer.wait_synced(10)
        assert informer.get("before") is not None

        core.create_namespaced_config_map(namespace, _configmap("after", "2", app="other"))
        _until(lambda: informer.get("after") is not None, informer)
        core.patch_namespaced_config_map("before", namespace, {"data": {"v": "changed"}})
        _until(lambda: (informer.get("before") or {}).get("data", {}).get("v") == "changed", informer)
        core.delete_namespaced_config_map("after", namespace)
        _until(lambda: informer.get("after") is None, informer)

        names = {item["metadata"]["name"] for item in matching(informer.items(), "app=demo")}
        assert "before" in names and "after" not in names
        # one list and one open watch served all of it
        assert informer.requests == 2, informer.error
    finally:
        informer.stop()


def test_wait_changed_wakes_on_a_change_and_times_out_without_one(kube: Kube, namespace: str) -> None:
    informer = Informer(functools.partial(kube.core.list_namespaced_config_map, namespace), name="test")
    try:
        assert informer.wait_synced(10)
        start = informer.generation
        began = time.monotonic()
        assert informer.wait_changed(start, 0.3) == start
        assert time.monotonic() - began >= 0.25
        kube.core.create_namespaced_config_map(namespace, _configmap("wake", "1"))
        assert informer.wait_changed(start, 10) > start
    finally:
        informer.stop()
