"""Fixtures for the KFP integration tests: a private kfjupyter home and run store."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from kfjupyter.store import RunStore, open_store


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("KFJUPYTER_HOME", str(path))
    return path


@pytest.fixture
def store(home: Path) -> Iterator[RunStore]:
    with open_store(home) as s:
        yield s
