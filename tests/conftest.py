"""Shared fixtures: a real JupyterLab server for integration and browser tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.support.jupyter import LabServer, running_lab

# Property and fuzz tests: a bounded number of examples, derandomized (a fixed seed) so that every
# run of the suite tries the same cases; `--hypothesis-profile=explore` searches wider, locally.
settings.register_profile(
    "ci", max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("explore", max_examples=2000, deadline=None)
settings.load_profile("ci")


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """One real `jupyter lab` with kfjupyter installed, shared by the session."""
    with running_lab(tmp_path_factory.mktemp("jlab")) as server:
        yield server
