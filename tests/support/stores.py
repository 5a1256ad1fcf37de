"""Fixtures for tests that run pipelines: a private kfjupyter home and its run store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kfjupyter.store import RunStore, open_store


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty KFJUPYTER_HOME for this test (also set in the environment)."""
    path = tmp_path / "home"
    monkeypatch.setenv("KFJUPYTER_HOME", str(path))
    return path


@pytest.fixture
def store(home: Path) -> Iterator[RunStore]:
    """The run store under ``home``."""
    with open_store(home) as s:
        yield s
