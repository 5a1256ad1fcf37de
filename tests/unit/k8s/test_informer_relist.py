"""A relist (after 410 Gone) is reported to listeners as the changes it implies, deletions included."""

from __future__ import annotations

import json
from typing import Any

from kfjupyter.k8s.informer import Informer, key_of


class _Response:
    """The two methods of an urllib3 response that ``list_json`` uses."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.data = json.dumps(body).encode()

    def release_conn(self) -> None:
        """Nothing to release."""


def _obj(name: str, version: str, namespace: str | None = "ns") -> dict[str, Any]:
    meta = {"name": name, "resourceVersion": version}
    if namespace:
        meta["namespace"] = namespace
    return {"metadata": meta}


def test_relist_reports_added_modified_and_deleted() -> None:
    listings = [
        [_obj("kept", "1"), _obj("changed", "1"), _obj("gone", "1")],
        [_obj("kept", "1"), _obj("changed", "2"), _obj("new", "3")],
    ]

    def list_call(**_: Any) -> _Response:
        return _Response({"metadata": {"resourceVersion": "9"}, "items": listings.pop(0)})

    informer = Informer(list_call, name="test", start=False)
    seen: list[tuple[str, str]] = []
    informer.add_listener(lambda kind, obj: seen.append((kind, key_of(obj))))
    informer._list()
    assert sorted(seen) == [("ADDED", "ns/changed"), ("ADDED", "ns/gone"), ("ADDED", "ns/kept")]
    seen.clear()
    before = informer.generation
    informer._list()
    assert sorted(seen) == [("ADDED", "ns/new"), ("DELETED", "ns/gone"), ("MODIFIED", "ns/changed")]
    assert informer.generation > before and informer.get("ns/gone") is None
    assert informer.wait_synced(0)


def test_a_failing_listener_does_not_stop_the_others() -> None:
    def list_call(**_: Any) -> _Response:
        return _Response({"metadata": {"resourceVersion": "1"}, "items": [_obj("node-a", "1", None)]})

    informer = Informer(list_call, name="test", start=False)
    seen: list[str] = []

    def broken(kind: str, obj: dict[str, Any]) -> None:
        raise RuntimeError("a bug in a listener")

    informer.add_listener(broken)
    informer.add_listener(lambda kind, obj: seen.append(key_of(obj)))
    informer._list()
    assert seen == ["node-a"] and informer.get("node-a") is not None
