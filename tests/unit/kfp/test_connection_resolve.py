"""One precedence for the KFP connection, whichever front door asks."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfjupyter.errors import InvalidInput
from kfjupyter.kfp.connection import DEFAULT_NAMESPACE, configured_host, resolve_connection


@pytest.mark.parametrize(
    ("explicit", "env", "expected"),
    [
        (
            "http://flag",
            {"KFJUPYTER_KFP_HOST": "http://ours", "KF_PIPELINES_ENDPOINT": "http://sdk"},
            "http://flag",
        ),
        (None, {"KFJUPYTER_KFP_HOST": "http://ours", "KF_PIPELINES_ENDPOINT": "http://sdk"}, "http://ours"),
        ("", {"KFJUPYTER_KFP_HOST": "", "KF_PIPELINES_ENDPOINT": "http://sdk"}, "http://sdk"),
        (None, {}, None),
    ],
)
def test_host_precedence(explicit: str | None, env: dict[str, str], expected: str | None) -> None:
    assert configured_host(explicit, env) == expected


def test_credentials_and_defaults(tmp_path: Path) -> None:
    env = {"KF_PIPELINES_ENDPOINT": "https://kfp.example/", "KF_PIPELINES_TOKEN": "env-token"}
    conn = resolve_connection(env=env)
    assert (conn.host, conn.token, conn.cookie, conn.namespace) == (
        "https://kfp.example",
        "env-token",
        None,
        None,
    )
    given = resolve_connection(
        host="http://mine", token="t", cookie="c=1", namespace="team", ui_host="http://ui", env=env
    )
    assert (given.host, given.token, given.cookie, given.namespace, given.ui_host) == (
        "http://mine",
        "t",
        "c=1",
        "team",
        "http://ui",
    )
    # empty settings (a server trait left "") fall back like absent ones
    blank = resolve_connection(host="", token="", cookie="", namespace="", ui_host="", env=env)
    assert (blank.token, blank.namespace, blank.ui_host) == ("env-token", None, None)
    assert DEFAULT_NAMESPACE == "kubeflow"


def test_no_host_says_how_at_this_front_door() -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve_connection(how="pass --host URL", env={})
    assert caught.value.message == (
        "no Kubeflow Pipelines host; pass --host URL or set $KFJUPYTER_KFP_HOST (or $KF_PIPELINES_ENDPOINT)"
    )
    assert caught.value.reason == "no_kfp_host"
    with pytest.raises(InvalidInput, match="must start with http"):
        resolve_connection(host="kfp.example", env={})
