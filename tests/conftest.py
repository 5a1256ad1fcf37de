"""Shared fixtures: a real JupyterLab server for integration and browser tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.jupyter import LabServer, running_lab


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """One real `jupyter lab` with kfjupyter installed, shared by the session."""
    with running_lab(tmp_path_factory.mktemp("jlab")) as server:
        yield server
