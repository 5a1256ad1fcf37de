"""Per-user namespaces: the settings, the namespace's name, and its least-privilege access objects.

Pure: :func:`build_namespace_objects` turns the typed :class:`UserNamespaces` settings and a user
name into the Namespace, the ``notebook`` ServiceAccount, a Role that allows exactly what a
notebook needs to run pipeline pods and training jobs *in that namespace*, the RoleBinding of
the Role to the account, and (when configured) a ResourceQuota. Nothing here is cluster-wide.
``kfjupyter-spawner render`` prints these objects and the spawner creates them, in this order,
on a user's first spawn.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from kubernetes.client import (
    RbacV1Subject,
    V1ClusterRole,
    V1Namespace,
    V1ObjectMeta,
    V1PolicyRule,
    V1ResourceQuota,
    V1ResourceQuotaSpec,
    V1Role,
    V1RoleBinding,
    V1RoleRef,
    V1ServiceAccount,
)
from pydantic import BaseModel, ConfigDict, Field, field_validator

from kfjupyter_spawner.names import MAX_LABEL, MIN_PART, PLAIN, name_part
from kfjupyter_spawner.ownership import MANAGED_BY, USER_LABEL, owner_annotations, owner_labels
from kfjupyter_spawner.profiles import parse_quantity

NOTEBOOK_ACCOUNT = "notebook"
ROLE = "kfjupyter-notebook"
QUOTA = "kfjupyter-quota"
#: Namespaces a template must never produce: granting a user pods there would reach the system.
RESERVED = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
_LABEL_NAME = r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)"
_LABEL_KEY = re.compile(rf"^([a-z0-9]([-a-z0-9.]{{0,251}}[a-z0-9])?/)?{_LABEL_NAME}$")
_LABEL_VALUE = re.compile(rf"^{_LABEL_NAME}?$")
_RESOURCE = re.compile(r"^[a-z0-9]([-a-z0-9./]*[a-z0-9])?$")


class UserNamespaces(BaseModel):
    """Settings of per-user namespaces (``c.KfJupyterSpawner.user_namespace_*``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template: str = Field(
        "kfjupyter-{username}",
        description="Name of a user's namespace; '{username}' is replaced by the user name escaped like "
        "in pod names (a name that is not lowercase letters, digits and single hyphens becomes a readable "
        "part, '---' and a hash, so users never share one). The rest must be lowercase letters, digits "
        "and hyphens, leaving at least 14 characters of the 63 for the user name.",
    )
    labels: dict[str, str] = Field(default_factory=dict, description="Extra labels of each user namespace.")
    pod_security: Literal["", "privileged", "baseline", "restricted"] = Field(
        "baseline",
        description="Pod Security admission level enforced in user namespaces "
        "(label pod-security.kubernetes.io/enforce; Kubernetes >= 1.23); empty: no label.",
    )
    quota: dict[str, str] = Field(
        default_factory=dict,
        description="ResourceQuota 'hard' limits of each user namespace, e.g. "
        "{'requests.nvidia.com/gpu': '4', 'pods': '50'}; empty: no quota.",
    )

    @field_validator("template")
    @classmethod
    def _one_username(cls, value: str) -> str:
        if "{username}" not in value:
            raise ValueError(f"template {value!r} must contain '{{username}}' (one namespace per user)")
        try:
            value.format(username="x")
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"template {value!r} may only use '{{username}}' ({error})") from None
        if _room(value) < MIN_PART:
            raise ValueError(f"template {value!r} leaves less than {MIN_PART} characters for the user name")
        if not PLAIN.fullmatch(value.format(username="x")):
            raise ValueError(
                f"template {value!r} must make a DNS label: lowercase letters, digits and single "
                "hyphens around '{username}', e.g. 'kfjupyter-{username}'"
            )
        return value

    @field_validator("labels")
    @classmethod
    def _valid_labels(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            if not _LABEL_KEY.match(key):
                raise ValueError(f"{key!r} is not a valid label key")
            if not _LABEL_VALUE.match(text):
                raise ValueError(f"label {key}: {text!r} is not a valid label value")
        return value

    @field_validator("quota")
    @classmethod
    def _valid_quota(cls, value: dict[str, str]) -> dict[str, str]:
        for key, amount in value.items():
            if not _RESOURCE.match(key):
                raise ValueError(f"{key!r} is not a resource name (e.g. 'requests.nvidia.com/gpu')")
            parse_quantity(str(amount))
        return value

    def name_for(self, user: str) -> str:
        """The namespace of ``user``: the template filled in with the user name escaped like in pod names."""
        return self.template.format(username=name_part(user, _room(self.template)))


def _room(template: str) -> int:
    """Characters left for each '{username}' of ``template`` in a 63-character name."""
    return (MAX_LABEL - len(template.format(username=""))) // max(1, template.count("{username}"))


def notebook_rules() -> list[V1PolicyRule]:
    """What a notebook may do in its own namespace: run pipeline pods and training jobs, no more."""
    run = ["create", "get", "list", "watch", "delete"]
    return [
        V1PolicyRule(api_groups=[""], resources=["pods"], verbs=run),
        V1PolicyRule(api_groups=[""], resources=["pods/log"], verbs=["get"]),
        V1PolicyRule(api_groups=[""], resources=["configmaps"], verbs=["create", "get", "delete"]),
        V1PolicyRule(api_groups=[""], resources=["persistentvolumeclaims"], verbs=["get", "list"]),
        V1PolicyRule(api_groups=[""], resources=["events"], verbs=["get", "list", "watch"]),
        V1PolicyRule(api_groups=["trainer.kubeflow.org"], resources=["trainjobs"], verbs=run),
        V1PolicyRule(api_groups=["kubeflow.org"], resources=["pytorchjobs"], verbs=run),
    ]


def hub_cluster_role(name: str = "kfjupyter-hub") -> V1ClusterRole:
    """What the hub itself needs with per-user namespaces (bind it to the hub's service account).

    The hub holds every right it grants notebooks: Kubernetes lets it create the Role and bind it
    only then. (The alternative, ``escalate`` on roles, cannot be limited to our Role by name:
    creates are authorized without the new object's name, so it would let the hub write any
    Role anywhere.)
    """
    own = [
        V1PolicyRule(api_groups=[""], resources=["namespaces"], verbs=["create", "get"]),
        V1PolicyRule(
            api_groups=[""],
            resources=["serviceaccounts", "resourcequotas", "persistentvolumeclaims"],
            verbs=["create"],
        ),
        V1PolicyRule(api_groups=[""], resources=["nodes"], verbs=["list", "watch"]),
        V1PolicyRule(
            api_groups=["rbac.authorization.k8s.io"], resources=["roles", "rolebindings"], verbs=["create"]
        ),
    ]
    return V1ClusterRole(
        api_version="rbac.authorization.k8s.io/v1",
        kind="ClusterRole",
        metadata=V1ObjectMeta(name=name, labels={"app.kubernetes.io/managed-by": "kfjupyter"}),
        rules=[*own, *notebook_rules()],
    )


def _meta(name: str, namespace: str | None, user: str) -> V1ObjectMeta:
    return V1ObjectMeta(
        name=name, namespace=namespace, labels=owner_labels(user), annotations=owner_annotations(user)
    )


def namespace_labels(settings: UserNamespaces, user: str) -> dict[str, str]:
    """Labels of a user's namespace (ours last, so an admin's labels cannot hide whose it is)."""
    labels = dict(settings.labels)
    if settings.pod_security:
        labels["pod-security.kubernetes.io/enforce"] = settings.pod_security
    labels.pop(MANAGED_BY, None)
    labels.pop(USER_LABEL, None)
    return {**labels, **owner_labels(user)}


def build_namespace_objects(settings: UserNamespaces, user: str) -> list[Any]:
    """Namespace, ServiceAccount, Role, RoleBinding (and ResourceQuota) of ``user``, in creation order."""
    name = settings.name_for(user)
    objects: list[Any] = [
        V1Namespace(
            api_version="v1",
            kind="Namespace",
            metadata=V1ObjectMeta(
                name=name, labels=namespace_labels(settings, user), annotations=owner_annotations(user)
            ),
        ),
        # No token unless a pod asks for one (the notebook pod does only with cluster_access).
        V1ServiceAccount(
            api_version="v1",
            kind="ServiceAccount",
            metadata=_meta(NOTEBOOK_ACCOUNT, name, user),
            automount_service_account_token=False,
        ),
        V1Role(
            api_version="rbac.authorization.k8s.io/v1",
            kind="Role",
            metadata=_meta(ROLE, name, user),
            rules=notebook_rules(),
        ),
        V1RoleBinding(
            api_version="rbac.authorization.k8s.io/v1",
            kind="RoleBinding",
            metadata=_meta(ROLE, name, user),
            role_ref=V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=ROLE),
            subjects=[RbacV1Subject(kind="ServiceAccount", name=NOTEBOOK_ACCOUNT, namespace=name)],
        ),
    ]
    if settings.quota:
        objects.append(
            V1ResourceQuota(
                api_version="v1",
                kind="ResourceQuota",
                metadata=_meta(QUOTA, name, user),
                spec=V1ResourceQuotaSpec(hard=dict(sorted(settings.quota.items()))),
            )
        )
    return objects
