"""Fixtures for the run store tests: one store per implementation, in a temporary home."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kfjupyter.store import MemoryRunStore, RunStore, SqliteRunStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunStore]:
    """Every contract test runs once against each implementation."""
    impl: RunStore = MemoryRunStore(tmp_path) if request.param == "memory" else SqliteRunStore(tmp_path)
    with impl:
        yield impl


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteRunStore]:
    with SqliteRunStore(tmp_path) as impl:
        yield impl
