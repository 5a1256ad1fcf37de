"""The run detail's link to a run in its engine's UI is only ever an http(s) URL."""

from __future__ import annotations

import pytest

from kfjupyter.server.views import external_link
from kfjupyter.store import Engine, KfpDetails, RunRecord


def kfp_run(link: str | None) -> RunRecord:
    return RunRecord(kind="pipeline", name="nb", backend=Engine.KFP, details=KfpDetails(link=link))


@pytest.mark.parametrize(
    ("link", "shown"),
    [
        ("https://kfp.example/#/runs/details/abc", "https://kfp.example/#/runs/details/abc"),
        ("http://127.0.0.1:8888/#/runs/details/abc", "http://127.0.0.1:8888/#/runs/details/abc"),
        ("javascript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("//evil.example/x", None),
        ("", None),
    ],
)
def test_only_http_links_are_passed_on(link: str, shown: str | None) -> None:
    assert external_link(kfp_run(link)) == shown


def test_no_link_recorded_no_link() -> None:
    assert external_link(kfp_run(None)) is None
    assert external_link(RunRecord(kind="pipeline", name="nb", backend=Engine.LOCAL)) is None
