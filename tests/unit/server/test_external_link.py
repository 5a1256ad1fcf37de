"""The run detail's link to a run in its engine's UI is only ever an http(s) URL."""

from __future__ import annotations

import pytest

from kfjupyter.kfp.tracking import LINK_LABEL
from kfjupyter.server.runs_handlers import external_link


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
    assert external_link({LINK_LABEL: link}) == shown


def test_no_label_no_link() -> None:
    assert external_link({}) is None
