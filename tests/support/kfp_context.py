"""Tests against the KFP API stand-in without the user's KFP context, and a stand-in that checks itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.kfp_standin import KfpStandIn

#: What would point the kfp client or kfjupyter at a real server, log in to one, or pick a default image.
KFP_CONTEXT = (
    "KF_PIPELINES_TOKEN",
    "KF_PIPELINES_COOKIE",
    "KF_PIPELINES_ENDPOINT",
    "KFJUPYTER_KFP_HOST",
    "KFJUPYTER_IMAGE",
)


def without_kfp_context(env: pytest.MonkeyPatch, root: Path) -> None:
    """HOME under ``root`` (no ``~/.config/kfp``), none of :data:`KFP_CONTEXT`, no service-account token."""
    env.setenv("HOME", str(root / "user"))
    for name in KFP_CONTEXT:
        env.delenv(name, raising=False)
    env.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(root / "no-sa-token"))


@contextmanager
def checked_standin(**options: Any) -> Iterator[KfpStandIn]:
    """A running :class:`KfpStandIn`; on leaving, fails if it saw a request or response off the contract."""
    with KfpStandIn(**options) as server:
        yield server
    assert server.errors == []
