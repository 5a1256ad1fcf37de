"""Authentication and authorization of every kfjupyter route, against a real jupyter server.

The server runs with a custom jupyter_server ``Authorizer`` whose policy the tests switch through a
file: ``allow`` (everything), ``deny`` (every kfjupyter action; only the status API the fixture
polls stays open), ``read-only`` (kfjupyter ``read`` only) or ``no-execute`` (everything but
``execute``). The authorizer also records every ``(action, resource)`` it is asked, so the tests
check the @api mapping of each route: GET is ``read``; POST and DELETE are ``write``, or ``execute``
where they run the user's code (run, re-run, submit, train); lint, which changes nothing, is
``read``.

The route table below must cover every route and method of ``KfJupyterApp``; a test fails when a
route is added without a row.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.web import RequestHandler

from kfjupyter.server.app import KfJupyterApp
from tests.support.jupyter import LabServer, running_lab

API = "/kfjupyter/api"
#: (method, sample path, action the route must authorize).
ROUTES: list[tuple[str, str, str]] = [
    ("GET", f"{API}/health", "read"),
    ("GET", f"{API}/runs", "read"),
    ("GET", f"{API}/runs/compare?ids=a,b", "read"),
    ("GET", f"{API}/runs/r-1", "read"),
    ("DELETE", f"{API}/runs/r-1", "write"),
    ("GET", f"{API}/runs/r-1/logs/s", "read"),
    ("GET", f"{API}/runs/r-1/logs/s/stream", "read"),
    ("GET", f"{API}/runs/r-1/metrics", "read"),
    ("GET", f"{API}/runs/r-1/artifacts", "read"),
    ("GET", f"{API}/runs/r-1/artifacts/s/a/download", "read"),
    ("POST", f"{API}/runs/r-1/cancel", "write"),
    ("POST", f"{API}/runs/r-1/rerun", "execute"),
    ("POST", f"{API}/notebooks/run", "execute"),
    ("POST", f"{API}/notebooks/lint", "read"),
    ("POST", f"{API}/notebooks/plan", "read"),
    ("GET", f"{API}/runs/r-1/steps/s/values", "read"),
    ("POST", f"{API}/notebooks/compile", "write"),
    ("POST", f"{API}/notebooks/submit", "execute"),
    ("GET", f"{API}/training", "read"),
    ("POST", f"{API}/training", "execute"),
    ("GET", f"{API}/training/j-1", "read"),
    ("GET", f"{API}/training/j-1/logs/0", "read"),
    ("POST", f"{API}/training/j-1/cancel", "write"),
]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
IDS = [f"{method} {path}" for method, path, _ in ROUTES]

AUTHORIZER = '''
from pathlib import Path
from jupyter_server.auth.authorizer import Authorizer

POLICY = Path({policy!r})
ASKED = Path({asked!r})


class SwitchableAuthorizer(Authorizer):
    """Allows, denies or allows only kfjupyter reads, as the policy file says; records each question."""

    def is_authorized(self, handler, user, action, resource):
        with ASKED.open("a") as fh:
            fh.write(f"{{handler.request.method}} {{handler.request.path}} {{action}} {{resource}}\\n")
        if resource == "api" and action == "read":
            return True  # the fixture's readiness poll of /api/status
        policy = POLICY.read_text().strip()
        if policy == "deny":
            return False
        if policy == "read-only":
            return resource != "kfjupyter" or action == "read"
        if policy == "no-execute":
            return resource != "kfjupyter" or action != "execute"
        return True


c.ServerApp.authorizer_class = SwitchableAuthorizer
'''


class AuthzLab:
    """The server, its policy switch and the authorizer's record of questions."""

    def __init__(self, lab: LabServer, policy: Path, asked: Path) -> None:
        self.lab, self.policy_file, self.asked = lab, policy, asked

    def policy(self, name: str) -> None:
        self.policy_file.write_text(name)

    def questions(self) -> list[str]:
        return self.asked.read_text().splitlines() if self.asked.exists() else []


@pytest.fixture(scope="module")
def authz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthzLab]:
    home = tmp_path_factory.mktemp("authz")
    policy, asked = home / "policy", home / "asked.log"
    policy.write_text("allow")
    config = home / "config"
    config.mkdir()
    (config / "jupyter_server_config.py").write_text(AUTHORIZER.format(policy=str(policy), asked=str(asked)))
    with running_lab(home) as lab:
        yield AuthzLab(lab, policy, asked)


def send(
    lab: LabServer,
    method: str,
    path: str,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    opener: urllib.request.OpenerDirector | None = None,
) -> tuple[int, Any]:
    """One request with a JSON object body for writes; the status and the decoded body."""
    all_headers = {"Authorization": f"token {token}"} if token else {}
    all_headers.update(headers or {})
    data = b"{}" if method in ("POST", "PUT", "PATCH") else None
    if data is not None:
        all_headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(f"{lab.base}{path}", data=data, headers=all_headers, method=method)
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=30) as resp:
            raw, status = resp.read(), resp.status
    except urllib.error.HTTPError as err:
        raw, status = err.read(), err.code
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode(errors="replace")


def implemented(handler: type[RequestHandler]) -> set[str]:
    """The HTTP methods ``handler`` answers (tornado's own stubs answer 405)."""
    return {m for m in METHODS if getattr(handler, m.lower()) is not getattr(RequestHandler, m.lower())}


def test_the_route_table_covers_every_route_and_method() -> None:
    app = KfJupyterApp()
    app.initialize_handlers()
    registered = {(method, handler) for _, handler in app.handlers for method in implemented(handler)}
    covered = set()
    for method, path, _ in ROUTES:
        bare = path.split("?")[0]
        handler = next(h for pattern, h in app.handlers if re.fullmatch(pattern, bare))
        covered.add((method, handler))
    assert covered == registered


@pytest.mark.parametrize(("method", "path", "action"), ROUTES, ids=IDS)
def test_no_token_is_403(authz: AuthzLab, method: str, path: str, action: str) -> None:
    authz.policy("allow")
    status, body = send(authz.lab, method, path)
    assert status == 403, body
    assert set(body) == {"message", "reason"}


@pytest.mark.parametrize(("method", "path", "action"), ROUTES, ids=IDS)
def test_a_wrong_token_is_403(authz: AuthzLab, method: str, path: str, action: str) -> None:
    authz.policy("allow")
    status, body = send(authz.lab, method, path, token="not-the-token")
    assert status == 403, body


@pytest.mark.parametrize(("method", "path", "action"), ROUTES, ids=IDS)
def test_an_authorizer_that_refuses_kfjupyter_gets_403_everywhere(
    authz: AuthzLab, method: str, path: str, action: str
) -> None:
    authz.policy("deny")
    status, body = send(authz.lab, method, path, token=authz.lab.token)
    assert status == 403, body
    assert "kfjupyter" in body["message"] and action in body["message"]


@pytest.mark.parametrize(("method", "path", "action"), ROUTES, ids=IDS)
def test_each_route_asks_for_its_action_on_kfjupyter(
    authz: AuthzLab, method: str, path: str, action: str
) -> None:
    authz.policy("deny")
    before = len(authz.questions())
    send(authz.lab, method, path, token=authz.lab.token)
    bare = path.split("?")[0]
    asked = [q.split()[2:] for q in authz.questions()[before:] if q.split()[:2] == [method, bare]]
    assert asked == [[action, "kfjupyter"]]


@pytest.mark.parametrize(("method", "path", "action"), ROUTES, ids=IDS)
def test_a_read_only_user_may_read_but_not_write(
    authz: AuthzLab, method: str, path: str, action: str
) -> None:
    authz.policy("read-only")
    status, body = send(authz.lab, method, path, token=authz.lab.token)
    if action != "read":
        assert status == 403, body
    else:  # allowed through: whatever the route answers for a made-up id, it is not a refusal
        assert status != 403 and status < 500, body


@pytest.mark.parametrize(("method", "path", "action"), ROUTES, ids=IDS)
def test_a_user_who_may_not_execute_runs_nothing(
    authz: AuthzLab, method: str, path: str, action: str
) -> None:
    authz.policy("no-execute")
    status, body = send(authz.lab, method, path, token=authz.lab.token)
    if action == "execute":
        assert status == 403 and "execute" in body["message"], body
    else:
        assert status != 403 and status < 500, body


@pytest.mark.parametrize(("method", "path", "action"), ROUTES, ids=IDS)
def test_methods_a_route_does_not_have_are_405(authz: AuthzLab, method: str, path: str, action: str) -> None:
    authz.policy("allow")
    mine = {m for m, p, _ in ROUTES if p == path}
    for other in sorted(set(METHODS) - mine):
        status, body = send(authz.lab, other, path, token=authz.lab.token)
        assert status == 405, (other, body)
        assert set(body) == {"message", "reason"}


def cookie_session(lab: LabServer) -> tuple[urllib.request.OpenerDirector, str]:
    """Log in once with the token in the URL; the opener then carries only cookies. Returns the _xsrf value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{lab.base}/lab?token={lab.token}", timeout=30) as resp:
        assert resp.status == 200
    cookies = {c.name: c.value for c in jar}
    assert any(name.startswith("username-") for name in cookies), cookies
    return opener, cookies["_xsrf"]


def test_cookie_authenticated_reads_work_without_xsrf(authz: AuthzLab) -> None:
    authz.policy("allow")
    opener, _ = cookie_session(authz.lab)
    status, body = send(authz.lab, "GET", f"{API}/health", opener=opener)
    assert status == 200, body


@pytest.mark.parametrize(
    ("method", "path"),
    [(m, p) for m, p, _ in ROUTES if m != "GET"],
    ids=[i for i in IDS if not i.startswith("GET")],
)
def test_cookie_authenticated_writes_need_the_xsrf_token(authz: AuthzLab, method: str, path: str) -> None:
    authz.policy("allow")
    opener, xsrf = cookie_session(authz.lab)
    status, body = send(authz.lab, method, path, opener=opener)
    assert status == 403 and "_xsrf" in body["message"], body
    status, body = send(authz.lab, method, path, opener=opener, headers={"X-XSRFToken": xsrf})
    assert status != 403 and status < 500, body  # past the check; the made-up ids and bodies decide


def test_a_preflight_tells_nothing(authz: AuthzLab) -> None:
    authz.policy("allow")
    status, body = send(authz.lab, "OPTIONS", f"{API}/runs")
    assert status in (200, 204) and not body
