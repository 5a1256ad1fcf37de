"""The writes of a spawn against a recording API client: once-only objects, recovery, retries."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from kfjupyter_spawner import writes
from kfjupyter_spawner.options import resolve
from kfjupyter_spawner.writes import Known, ServerObjects, create_server, server_objects
from kubernetes.client import ApiClient, CoreV1Api, RbacAuthorizationV1Api
from kubernetes.client.exceptions import ApiException

from kfjupyter.errors import Forbidden
from tests.unit.spawner.test_namespaces import SETTINGS, own_ctx
from tests.unit.spawner.test_options import CONFIG, GPU_USER

Answer = Callable[[str, str, Any], Any]


class _Response:
    def __init__(self, body: Any = None) -> None:
        self.data = json.dumps(body or {}).encode()

    def drain_conn(self) -> None:
        return

    def release_conn(self) -> None:
        return


def _error(status: int, body: str = "") -> ApiException:
    error = ApiException(status=status, reason="test")
    error.body = body.encode()
    return error


class RecordingClient(ApiClient):  # type: ignore[misc]
    """Records ``(method, path)`` of every call; ``answer`` may raise or return a body."""

    def __init__(self, answer: Answer | None = None) -> None:
        super().__init__()
        self.calls: list[tuple[str, str]] = []
        self.answer = answer

    def call_api(
        self, resource_path: str, method: str, path_params: Any = None, *args: Any, **kw: Any
    ) -> Any:
        path = resource_path.format(**(path_params or {}))
        self.calls.append((method, path))
        body = self.answer(method, path, kw.get("body")) if self.answer else None
        return _Response(body)

    @property
    def writes(self) -> list[str]:
        return [f"{m} {p}" for m, p in self.calls if m in ("POST", "PUT", "PATCH", "DELETE")]


def fake_kube(answer: Answer | None = None) -> Any:
    client = RecordingClient(answer)
    return SimpleNamespace(api_client=client, core=CoreV1Api(client), rbac=RbacAuthorizationV1Api(client))


@pytest.fixture(autouse=True)
def fresh_process() -> None:
    writes.forget_ensured()


def objects(profile: str = "cpu", user: str = "ada") -> ServerObjects:
    return server_objects(resolve(CONFIG, GPU_USER, {"profile": profile}), own_ctx(user), SETTINGS, "jupyter")


def spawn(kube: Any, known: Known, profile: str = "cpu") -> list[str]:
    return create_server(kube, objects(profile), known, scope="kc", pod_gone=lambda: True)


def test_first_spawn_makes_everything_then_restarts_write_only_the_pod() -> None:
    kube = fake_kube()
    known = Known()
    assert spawn(kube, known) == ["Namespace kfjupyter-ada ready"]
    ns = "/api/v1/namespaces/kfjupyter-ada"
    rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/kfjupyter-ada"
    assert kube.api_client.writes == [
        "POST /api/v1/namespaces",
        f"POST {ns}/serviceaccounts",
        f"POST {rbac}/roles",
        f"POST {rbac}/rolebindings",
        f"POST {ns}/persistentvolumeclaims",
        f"POST {ns}/pods",
    ]
    assert known.namespace == "kfjupyter-ada" and known.pvcs == {"kfjupyter-ada/ada-home"}
    kube.api_client.calls.clear()
    assert spawn(kube, known) == []  # the same process: memory of ensured namespaces
    assert kube.api_client.writes == [f"POST {ns}/pods"]
    writes.forget_ensured()  # a hub restart: the saved state alone is enough
    kube.api_client.calls.clear()
    spawn(kube, Known(set(known.pvcs), known.namespace))
    assert kube.api_client.writes == [f"POST {ns}/pods"]


def test_a_remembered_claim_that_is_gone_is_made_again() -> None:
    # The saved state remembers ada's claim, but the cluster behind the hub no longer has it (a new
    # cluster, or the claim deleted by hand): the spawn makes it again instead of a pod that would
    # wait unschedulable for a claim that does not exist.
    claim = "/api/v1/namespaces/kfjupyter-ada/persistentvolumeclaims/ada-home"

    def answer(method: str, path: str, body: Any) -> Any:
        if method == "GET" and path == claim:
            raise _error(404)
        return None

    kube = fake_kube(answer)
    spawn(kube, Known({"kfjupyter-ada/ada-home"}, "kfjupyter-ada"))
    assert kube.api_client.writes == [
        "POST /api/v1/namespaces/kfjupyter-ada/persistentvolumeclaims",
        "POST /api/v1/namespaces/kfjupyter-ada/pods",
    ]
    assert ("GET", claim) in kube.api_client.calls


class Existing:
    """Answers as an API server where ``objects`` already exist: 409 on create, the object on read."""

    def __init__(self, *objects: dict[str, Any]) -> None:
        self.objects = {self.path(o): o for o in objects}

    @staticmethod
    def path(obj: dict[str, Any]) -> str:
        meta = obj["metadata"]
        if obj["kind"] == "Namespace":
            return f"/api/v1/namespaces/{meta['name']}"
        return f"/api/v1/namespaces/{meta['namespace']}/{obj['kind'].lower()}s/{meta['name']}"

    def __call__(self, method: str, path: str, body: Any) -> Any:
        if method == "POST" and body is not None and self.path(body) in self.objects:
            raise _error(409)
        if method == "GET":
            if path not in self.objects:
                raise _error(404)
            return self.objects[path]
        if method == "DELETE" and path in self.objects:
            self.objects.pop(path)
        return None


def _foreign(obj: dict[str, Any], user: str = "ada-data") -> dict[str, Any]:
    """``obj`` as kfjupyter made it for ``user`` (the name taken over by another user)."""
    other = json.loads(json.dumps(obj))
    other["metadata"]["labels"]["kfjupyter.dev/user"] = user
    other["metadata"]["annotations"]["kfjupyter.dev/username"] = user
    return other


def _legacy(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` as an earlier version made it: labels only, no annotation with the exact user."""
    old = json.loads(json.dumps(obj))
    old["metadata"].pop("annotations", None)
    return old


def test_existing_objects_are_fine_but_only_our_own_namespace() -> None:
    ours = objects()
    namespace, *_ = ours.namespace_objects
    kube = fake_kube(Existing(namespace, *ours.pvcs))
    spawn(kube, Known())
    assert ("GET", "/api/v1/namespaces/kfjupyter-ada") in kube.api_client.calls
    assert kube.api_client.writes[-1] == "POST /api/v1/namespaces/kfjupyter-ada/pods"

    writes.forget_ensured()
    kube = fake_kube(Existing(_legacy(namespace), *map(_legacy, ours.pvcs)))  # made before annotations
    spawn(kube, Known())
    assert kube.api_client.writes[-1] == "POST /api/v1/namespaces/kfjupyter-ada/pods"

    writes.forget_ensured()
    unmanaged = {"kind": "Namespace", "metadata": {"name": "kfjupyter-ada", "labels": {"team": "platform"}}}
    kube = fake_kube(Existing(unmanaged))
    with pytest.raises(Forbidden, match="not made by kfjupyter for you"):
        spawn(kube, Known())
    assert kube.api_client.writes == ["POST /api/v1/namespaces"]

    writes.forget_ensured()
    kube = fake_kube(Existing(_foreign(namespace)))
    with pytest.raises(Forbidden, match="not made by kfjupyter for you"):
        spawn(kube, Known())


def test_someone_elses_claim_is_refused_and_left_alone() -> None:
    (claim,) = objects().pvcs
    for taken in (_foreign(claim), _legacy(_foreign(claim)), {**claim, "metadata": {**claim["metadata"],
                  "labels": {**claim["metadata"]["labels"], "kfjupyter.dev/volume": "data"}}}):  # fmt: skip
        writes.forget_ensured()
        kube = fake_kube(Existing(taken))
        known = Known()
        with pytest.raises(
            Forbidden, match="'ada-home' for your volume 'home' already exists and is not yours"
        ):
            spawn(kube, known)
        assert not any(w.startswith("DELETE") or w.endswith("/pods") for w in kube.api_client.writes)
        assert not known.pvcs


def test_a_namespace_deleted_behind_the_hubs_back_is_made_again_once() -> None:
    pods = {"n": 0}

    def missing_first(method: str, path: str, body: Any) -> Any:
        if method == "POST" and path.endswith("/pods"):
            pods["n"] += 1
            if pods["n"] == 1:
                raise _error(
                    404, '{"reason": "NotFound", "message": "namespaces \\"kfjupyter-ada\\" not found"}'
                )
        return None

    kube = fake_kube(missing_first)
    known = Known({"kfjupyter-ada/ada-home"}, "kfjupyter-ada")
    spawn(kube, known)
    assert kube.api_client.writes == [
        "POST /api/v1/namespaces/kfjupyter-ada/pods",
        "POST /api/v1/namespaces",
        "POST /api/v1/namespaces/kfjupyter-ada/serviceaccounts",
        "POST /apis/rbac.authorization.k8s.io/v1/namespaces/kfjupyter-ada/roles",
        "POST /apis/rbac.authorization.k8s.io/v1/namespaces/kfjupyter-ada/rolebindings",
        "POST /api/v1/namespaces/kfjupyter-ada/persistentvolumeclaims",
        "POST /api/v1/namespaces/kfjupyter-ada/pods",
    ]


def test_a_token_not_made_yet_is_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writes.time, "sleep", lambda _s: None)
    tries = {"n": 0}

    def token_later(method: str, path: str, body: Any) -> Any:
        if method == "POST" and path.endswith("/pods"):
            tries["n"] += 1
            if tries["n"] < 3:
                raise _error(
                    500,
                    'No API token found for service account "notebook", retry after the token is automatically created',
                )
        return None

    kube = fake_kube(token_later)
    spawn(kube, Known(), profile="gpu")
    assert tries["n"] == 3


def test_a_stale_pod_of_this_server_is_replaced_once() -> None:
    pod = {**objects().pod, "metadata": {**objects().pod["metadata"], "uid": "u-1"}}
    known = Known({"kfjupyter-ada/ada-home"}, "kfjupyter-ada")
    kube = fake_kube(Existing(pod, *objects().pvcs))
    spawn(kube, known)
    assert kube.api_client.writes == [
        "POST /api/v1/namespaces/kfjupyter-ada/pods",
        "DELETE /api/v1/namespaces/kfjupyter-ada/pods/jupyter-ada",
        "POST /api/v1/namespaces/kfjupyter-ada/pods",
    ]

    def conflict(method: str, path: str, body: Any) -> Any:
        if method == "POST" and path.endswith("/pods"):
            raise _error(409)
        return pod if method == "GET" else None

    kube = fake_kube(conflict)
    with pytest.raises(ApiException):
        spawn(kube, known)
    assert [w.split()[0] for w in kube.api_client.writes] == ["POST", "DELETE", "POST"]


def test_someone_elses_pod_is_never_deleted() -> None:
    ours = objects()
    known = Known({"kfjupyter-ada/ada-home"}, "kfjupyter-ada")
    named = {**ours.pod, "metadata": {**ours.pod["metadata"], "annotations": {
        **ours.pod["metadata"]["annotations"], "kfjupyter.dev/servername": "x"}}}  # fmt: skip
    for taken in (_foreign(ours.pod), _legacy(_foreign(ours.pod)), named):
        kube = fake_kube(Existing(taken, *ours.pvcs))
        with pytest.raises(Forbidden, match=r"'jupyter-ada' already exists .* and is not this server's"):
            spawn(kube, known)
        assert kube.api_client.writes == ["POST /api/v1/namespaces/kfjupyter-ada/pods"]


def test_terminating_namespace_is_a_temporary_error() -> None:
    from kfjupyter.errors import Unavailable

    def terminating(method: str, path: str, body: Any) -> Any:
        if path.endswith("/serviceaccounts"):
            raise _error(
                403, "unable to create new content in namespace kfjupyter-ada because it is being terminated"
            )
        return None

    with pytest.raises(Unavailable, match="being deleted"):
        spawn(fake_kube(terminating), Known())
