"""The REST API of a real jupyter server with the kfjupyter extension."""

from __future__ import annotations

import os

from kfjupyter import __version__
from kfjupyter.server.models import Health
from tests.support.jupyter import LabServer


def test_health_reports_version_user_and_backends(lab_server: LabServer) -> None:
    status, body = lab_server.request("/kfjupyter/api/health", token=lab_server.token)
    assert status == 200
    health = Health.model_validate(body)
    assert health.version == __version__
    assert health.user  # the token user has a generated name
    assert {(b.kind, b.name) for b in health.backends} >= {("pipelines", "local"), ("training", "local")}
    # no c.KfJupyterApp.kfp_image here: the default image is $KFJUPYTER_IMAGE, if the server has it
    assert health.kfp_image == (os.environ.get("KFJUPYTER_IMAGE") or None)


def test_health_refuses_anonymous_callers(lab_server: LabServer) -> None:
    status, body = lab_server.request("/kfjupyter/api/health")
    assert status == 403
    assert set(body) == {"message", "reason"}


def test_health_refuses_a_wrong_token(lab_server: LabServer) -> None:
    status, _ = lab_server.request("/kfjupyter/api/health", token="not-the-token")
    assert status == 403


def test_unknown_route_is_a_json_404(lab_server: LabServer) -> None:
    status, _ = lab_server.request("/kfjupyter/api/no-such-thing", token=lab_server.token)
    assert status == 404


def test_server_and_lab_extensions_are_enabled(lab_server: LabServer) -> None:
    status, body = lab_server.request("/lab/api/extensions", token=lab_server.token)
    assert status == 200
    ours = [e for e in body if e["name"] == "kfjupyter"]
    assert ours and ours[0]["enabled"] and ours[0]["status"] == "ok"
