"""Whose an object is: the exact hub user (and server or volume) recorded on what the spawner makes.

Names are distinct per user (``names``), but a name can still be taken: by an object someone
else made, by an object of an older naming scheme, or by a hash collision. So before the spawner
uses, replaces or deletes an existing pod, PVC or namespace, it checks that the object records the
same user. Labels cannot hold every user name, so the exact name goes into an annotation, and the
label (``names.label_value``, a hash for names that need escaping) is what selects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kfjupyter_spawner.names import LABEL_PREFIX, label_value

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "kfjupyter"
USER_LABEL = f"{LABEL_PREFIX}/user"
SERVER_LABEL = f"{LABEL_PREFIX}/server"
VOLUME_LABEL = f"{LABEL_PREFIX}/volume"
USER_ANNOTATION = f"{LABEL_PREFIX}/username"
SERVER_ANNOTATION = f"{LABEL_PREFIX}/servername"


def owner_labels(user: str) -> dict[str, str]:
    """Labels that mark an object as kfjupyter's, made for ``user``."""
    return {MANAGED_BY: MANAGER, USER_LABEL: label_value(user)}


def owner_annotations(user: str, server: str | None = None) -> dict[str, str]:
    """Annotations with the exact user (and server) names."""
    out = {USER_ANNOTATION: user}
    if server is not None:
        out[SERVER_ANNOTATION] = server
    return out


def server_label(server: str) -> str:
    """The server label value (``default`` for the default server)."""
    return label_value(server or "default")


def owned_by(
    obj: Mapping[str, Any], user: str, *, server: str | None = None, volume: str | None = None
) -> bool:
    """Whether ``obj`` (JSON) is what kfjupyter made for ``user`` (and ``server`` / ``volume``).

    Objects made before the annotation existed carry only labels: they count as the user's when
    the label is the user's exact name (names that needed escaping got other names then).
    """
    meta = obj.get("metadata") or {}
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    if labels.get(MANAGED_BY) != MANAGER or labels.get(USER_LABEL) != label_value(user):
        return False
    recorded = annotations.get(USER_ANNOTATION)
    if recorded is None:
        if label_value(user) != user:
            return False
    elif recorded != user:
        return False
    if server is not None:
        named = annotations.get(SERVER_ANNOTATION)
        if labels.get(SERVER_LABEL) != server_label(server) or (named is not None and named != server):
            return False
    return volume is None or labels.get(VOLUME_LABEL) == volume


def describe_owner(obj: Mapping[str, Any]) -> str:
    """Who ``obj`` belongs to, for error messages and logs."""
    meta = obj.get("metadata") or {}
    labels = meta.get("labels") or {}
    user = (meta.get("annotations") or {}).get(USER_ANNOTATION) or labels.get(USER_LABEL)
    if labels.get(MANAGED_BY) != MANAGER:
        return "not made by kfjupyter"
    return f"made by kfjupyter for user {user!r}" if user else "made by kfjupyter for another user"
