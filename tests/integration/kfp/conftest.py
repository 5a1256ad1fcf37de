"""Fixtures: a private kfjupyter home and run store; no KFP context; the KFP API stand-in."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.kfp_context import checked_standin, without_kfp_context
from tests.support.kfp_standin import KfpStandIn
from tests.support.stores import home, store

__all__ = ["home", "store"]


@pytest.fixture
def no_kfp_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep ~/.config/kfp, real credentials and a default image out of the test."""
    without_kfp_context(monkeypatch, tmp_path)


@pytest.fixture
def standin() -> Iterator[KfpStandIn]:
    """The KFP API stand-in, checked for contract errors at the end."""
    with checked_standin() as server:
        yield server
