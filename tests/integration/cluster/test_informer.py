"""The list-then-watch cache against a real API server: adds, updates, deletes, no relists."""

from __future__ import annotations

import asyncio
import functools
import time

from kfjupyter.k8s.client import Kube
from kfjupyter.k8s.informer import Informer, matching
from tests.support.aio import run_fresh


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
        assert informer.get(f"{namespace}/before") is not None

        core.create_namespaced_config_map(namespace, _configmap("after", "2", app="other"))
        _until(lambda: informer.get(f"{namespace}/after") is not None, informer)
        core.patch_namespaced_config_map("before", namespace, {"data": {"v": "changed"}})
        _until(
            lambda: (informer.get(f"{namespace}/before") or {}).get("data", {}).get("v") == "changed",
            informer,
        )
        core.delete_namespaced_config_map("after", namespace)
        _until(lambda: informer.get(f"{namespace}/after") is None, informer)

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


def test_listeners_and_keyed_async_waiters(kube: Kube, namespace: str) -> None:
    core = kube.core
    core.create_namespaced_config_map(namespace, _configmap("listed", "1"))
    seen: list[tuple[str, str]] = []
    informer = Informer(
        functools.partial(core.list_namespaced_config_map, namespace), name="test", start=False
    )
    informer.add_listener(lambda kind, obj: seen.append((kind, obj["metadata"]["name"])))
    informer.start()

    async def scenario() -> tuple[bool, bool]:
        mine = asyncio.ensure_future(informer.changed(10.0, key=f"{namespace}/mine"))
        await asyncio.sleep(0.05)
        await asyncio.to_thread(core.create_namespaced_config_map, namespace, _configmap("other", "1"))
        await asyncio.to_thread(_until, lambda: informer.get(f"{namespace}/other") is not None, informer)
        await asyncio.sleep(0.1)
        woken_by_other = mine.done()
        await asyncio.to_thread(core.create_namespaced_config_map, namespace, _configmap("mine", "1"))
        await asyncio.wait_for(mine, 10.0)
        return woken_by_other, mine.done()

    try:
        assert informer.wait_synced(10)
        assert run_fresh(scenario()) == (False, True)
        core.delete_namespaced_config_map("other", namespace)
        _until(lambda: ("DELETED", "other") in seen, informer)
        # the first list is reported as ADDED, the watch's changes as they come
        assert ("ADDED", "listed") in seen[: seen.index(("ADDED", "other"))]
        assert ("ADDED", "other") in seen and ("ADDED", "mine") in seen
        assert informer.requests == 2, informer.error
    finally:
        informer.stop()
