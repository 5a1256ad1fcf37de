"""Scale fixes found by bench/spawner_scale.py: one shared view per hub, one write per restart."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest
from kfjupyter_spawner import cluster_view
from kfjupyter_spawner.cluster_view import ClusterView
from kfjupyter_spawner.options import resolve
from kfjupyter_spawner.spawner import KfJupyterSpawner

from tests.unit.spawner.test_profiles import EXAMPLE
from tests.unit.spawner.test_writes import fake_kube


def run_fresh(coro: Any) -> Any:
    """Run ``coro`` on a new event loop in its own thread.

    Browser tests earlier in the session leave an event loop running in the main thread, where
    ``asyncio.run`` is refused.
    """
    result: dict[str, Any] = {}

    def target() -> None:
        result["value"] = asyncio.run(coro)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    return result["value"]


def test_concurrent_first_spawns_share_one_view(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    lock = threading.Lock()

    def fake_init(self: ClusterView, kubeconfig: str, namespace: str) -> None:
        with lock:
            started.append(1)
        time.sleep(0.05)  # starting the watches takes a while
        self.namespace = namespace

    monkeypatch.setattr(ClusterView, "__init__", fake_init)
    monkeypatch.setattr(cluster_view, "_VIEWS", {})

    async def many() -> list[ClusterView]:
        return await asyncio.gather(*(ClusterView.get("kc", "ns") for _ in range(20)))

    views = run_fresh(many())
    assert len(started) == 1
    assert all(v is views[0] for v in views)


def _spawner() -> KfJupyterSpawner:
    user = SimpleNamespace(name="ada", id=1, url="/user/ada/", groups=[], escaped_name="ada")
    hub = SimpleNamespace(
        public_host="hub", url="http://hub:8081/hub/", base_url="/hub/", api_url="http://hub:8081/hub/api"
    )
    return KfJupyterSpawner(user=user, hub=hub, profiles_file=str(EXAMPLE), namespace="default")


def test_a_restart_writes_only_the_pod_and_the_state_remembers_pvcs() -> None:
    spawner = _spawner()
    config = spawner.load_profiles()
    plan = resolve(config, spawner._user_info(None), {"profile": "cpu"})
    kube = fake_kube()
    view: Any = SimpleNamespace(kube=kube, pod=lambda name, namespace: None)
    spawner._create(view, spawner.server_objects(plan))
    spawner.clear_state()  # the hub clears state when the server stops; PVCs outlive servers
    spawner._create(view, spawner.server_objects(plan))
    pvcs = "POST /api/v1/namespaces/default/persistentvolumeclaims"
    pods = "POST /api/v1/namespaces/default/pods"
    assert kube.api_client.writes == [pvcs, pods, pods]
    state = spawner.get_state()
    assert state["pvcs"] == ["default/ada-home"] and "namespace" not in state
    fresh = _spawner()  # after a hub restart
    fresh.load_state(state)
    fresh._create(view, fresh.server_objects(plan))
    assert kube.api_client.writes == [pvcs, pods, pods, pods]


def test_user_namespaces_state_survives_a_hub_restart() -> None:
    from kfjupyter_spawner import writes

    writes.forget_ensured()
    spawner = _spawner()
    spawner.user_namespaces = True
    plan = resolve(spawner.load_profiles(), spawner._user_info(None), {"profile": "cpu"})
    kube = fake_kube()
    view: Any = SimpleNamespace(kube=kube, pod=lambda name, namespace: None)
    spawner._create(view, spawner.server_objects(plan))
    assert len(kube.api_client.writes) == 6
    state = spawner.get_state()
    assert state == {"pvcs": ["kfjupyter-ada/ada-home"], "namespace": "kfjupyter-ada"}
    writes.forget_ensured()
    fresh = _spawner()
    fresh.user_namespaces = True
    fresh.load_state(state)
    fresh._create(view, fresh.server_objects(plan))
    assert kube.api_client.writes[6:] == ["POST /api/v1/namespaces/kfjupyter-ada/pods"]
    assert fresh.pod_namespace == "kfjupyter-ada" and fresh._view_namespace == ""


def test_a_keyed_waiter_wakes_for_its_object_only() -> None:
    from kfjupyter.k8s.informer import Informer

    watch = Informer(lambda **_: None, name="pods", start=False)

    async def scenario() -> tuple[bool, bool, bool]:
        mine = asyncio.ensure_future(watch.changed(5.0, key="ns/mine"))
        anyone = asyncio.ensure_future(watch.changed(5.0))
        await asyncio.sleep(0.01)
        watch._notify("MODIFIED", {"metadata": {"namespace": "ns", "name": "other"}})
        await asyncio.sleep(0.05)
        state = (mine.done(), anyone.done())
        watch._notify("MODIFIED", {"metadata": {"namespace": "ns", "name": "mine"}})
        await asyncio.wait_for(mine, 1.0)
        return state[0], state[1], not watch._waiters

    assert run_fresh(scenario()) == (False, True, True)
