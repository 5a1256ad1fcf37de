"""Fixtures for real containers: the project's docker daemon, started (never skipped) on first use."""

from __future__ import annotations

import subprocess

import pytest

from kfjupyter.cluster import dockerd
from tests.support.stores import home, store

__all__ = ["docker", "home", "store"]


@pytest.fixture(scope="session")
def docker_env() -> dict[str, str]:
    """The environment of a docker client pointed at the project's daemon (started when down)."""
    dockerd.start()
    return dockerd.client_env()


def docker(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run Debian's docker CLI against the project's daemon."""
    return subprocess.run(
        ["/usr/bin/docker", *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="session")
def notebook_image(docker_env: dict[str, str]) -> str:
    """The notebook image, built by the project's build when missing or out of date (cached)."""
    from kfjupyter.cluster import images

    images.build()
    return images.notebook_tags()[1]  # the version tag: what a deployment pins


@pytest.fixture(scope="session")
def hub_image(docker_env: dict[str, str]) -> str:
    """The hub image (built like ``notebook_image``)."""
    from kfjupyter.cluster import images

    images.build()
    return images.hub_tags()[1]
