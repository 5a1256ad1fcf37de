"""Object names from user, server and volume names: valid for Kubernetes, and never shared.

The regression cases are pairs that used to get one name; the property tests draw user, server
and volume names (plain, odd, long, and names built from other names' escaped forms, the way
someone would try to take another user's name) and check every name is valid and distinct.
"""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kfjupyter_spawner.names import label_value, name_part, pod_name, pvc_name
from kfjupyter_spawner.namespaces import UserNamespaces

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")
TEMPLATES = ("kfjupyter-{username}", "{username}", "team-{username}-nb")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (("a.b", ""), ("a-b-bf13c540", "")),  # the hash of an escaped name used as a raw name
        (("ada", "x"), ("ada--x", "")),  # a server separator inside a user name
        (("Ada.L", ""), ("ada-l", "")),
    ],
)
def test_pods_that_used_to_share_a_name_no_longer_do(one: tuple[str, str], other: tuple[str, str]) -> None:
    assert pod_name(*one) != pod_name(*other)


def test_volumes_that_used_to_share_a_claim_no_longer_do() -> None:
    # ada's "data-home" and user ada-data's "home" were both "ada-data-home".
    assert pvc_name("ada", "data-home") != pvc_name("ada-data", "home")
    assert pvc_name("ada", "data-home") == "ada--data-home"
    assert pvc_name("ada-data", "home") == "ada-data-home"


def test_namespaces_and_quota_labels_that_used_to_be_shared_no_longer_are() -> None:
    settings_ = UserNamespaces()
    assert settings_.name_for("a.b") != settings_.name_for("a-b-e484d7de")  # was kfjupyter-a-b-e484d7de
    assert label_value("a b") != label_value("a-b-c8687a08")  # was one GPU quota for both


def test_plain_names_keep_their_names() -> None:
    assert pod_name("ada") == "jupyter-ada"
    assert pod_name("ada", "gpu1") == "jupyter-ada--gpu1"
    assert pod_name("user-20240601") == "jupyter-user-20240601"
    assert pvc_name("ada", "home") == "ada-home"
    assert UserNamespaces().name_for("ada") == "kfjupyter-ada"
    assert label_value("Ada.Lovelace") == "Ada.Lovelace"
    assert pod_name("x" * 55) == "jupyter-" + "x" * 55
    assert pod_name("x" * 39, "y" * 14) == f"jupyter-{'x' * 39}--{'y' * 14}"


def test_escaped_names_are_readable_and_marked() -> None:
    escaped = name_part("Ada.Lovelace@example.org")
    assert escaped.startswith("ada-lovelace-example-org---") and len(escaped) == 24 + 3 + 10
    assert name_part("@@@").startswith("x---")
    assert name_part(escaped) != escaped  # an escaped-looking raw name is escaped again
    assert len(name_part("u" * 500, 20)) == 20


# Names someone might pick: plain, odd characters, long, and near-misses of the separators.
_odd = st.text(alphabet="ab-.@_ A", min_size=0, max_size=12)
_plain = st.from_regex(r"[a-z0-9]{1,6}(-[a-z0-9]{1,6}){0,3}", fullmatch=True)
_any = st.text(min_size=0, max_size=20)
_long = st.text(alphabet="ab-", min_size=50, max_size=80)
_names = st.one_of(_plain, _odd, _any, _long)
_volumes = st.from_regex(r"[a-z0-9]{1,6}(-[a-z0-9]{1,6}){0,2}", fullmatch=True)


def _with_lookalikes(names: list[str], volumes: list[str], *, joins: bool = True) -> list[str]:
    """``names`` plus raw names built from their escaped forms and joins (to take others' names)."""
    out = set(names)
    for name in names:
        out.add(name_part(name))
        out.add(pod_name(name).removeprefix("jupyter-"))
        out.add(label_value(name))
        for volume in volumes:
            out.add(pvc_name(name, volume).rsplit("-", 1)[0])
    for one, two in itertools.product(names[:3] if joins else [], repeat=2):
        for joint in ("-", "--", "---"):
            out.add(f"{name_part(one)}{joint}{name_part(two)}")
    return sorted(out)


@given(users=st.lists(_names, min_size=1, max_size=5), servers=st.lists(_names, max_size=3))
def test_no_two_servers_share_a_pod_and_every_pod_name_is_valid(users: list[str], servers: list[str]) -> None:
    users = _with_lookalikes(users, [])
    servers = [s for s in _with_lookalikes(servers, [], joins=False) if s] + [""]
    seen: dict[str, tuple[str, str]] = {}
    for user, server in itertools.product(users, servers):
        name = pod_name(user, server)
        assert DNS_LABEL.fullmatch(name), (user, server, name)
        assert seen.setdefault(name, (user, server)) == (user, server), name


@given(users=st.lists(_names, min_size=1, max_size=5), volumes=st.lists(_volumes, min_size=1, max_size=3))
def test_no_two_user_volumes_share_a_claim_and_every_claim_name_is_valid(
    users: list[str], volumes: list[str]
) -> None:
    volumes = sorted(set(volumes) | {v.rsplit("-", 1)[-1] for v in volumes})
    seen: dict[str, tuple[str, str]] = {}
    for user, volume in itertools.product(_with_lookalikes(users, volumes), volumes):
        name = pvc_name(user, volume)
        assert DNS_SUBDOMAIN.fullmatch(name) and len(name) <= 253, (user, volume, name)
        assert seen.setdefault(name, (user, volume)) == (user, volume), name


@given(users=st.lists(_names, min_size=1, max_size=8))
def test_no_two_users_share_a_namespace_or_a_quota_label(users: list[str]) -> None:
    users = _with_lookalikes(users, ["home"])
    for template in TEMPLATES:
        names = [UserNamespaces(template=template).name_for(u) for u in users]
        assert all(DNS_LABEL.fullmatch(n) for n in names), names
        assert len(set(names)) == len(users), template
    labels = [label_value(u) for u in users]
    assert all(LABEL_VALUE.fullmatch(v) for v in labels), labels
    assert len(set(labels)) == len(users)
