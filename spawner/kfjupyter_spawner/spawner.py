"""The ``kfjupyter`` spawner class registered under the ``jupyterhub.spawners`` entry point.

This module is the thin JupyterHub-facing shell; profiles, pod builders and watches live in
their own modules of this package. Until a Kubernetes backend is configured, starting a server
fails fast with a message that says so, rather than hanging.
"""

from __future__ import annotations

from jupyterhub.spawner import Spawner


class SpawnerNotConfigured(RuntimeError):
    """The spawner was asked to start a server without a Kubernetes backend."""


class KfJupyterSpawner(Spawner):  # type: ignore[misc]
    """Spawns a user's notebook server as a Kubernetes pod chosen from typed profiles."""

    async def start(self) -> tuple[str, int]:
        """Start the user's pod."""
        raise SpawnerNotConfigured(
            "kfjupyter spawner has no Kubernetes backend configured in this version; "
            "set c.JupyterHub.spawner_class to another spawner for now"
        )

    async def stop(self, now: bool = False) -> None:
        """Stop the user's pod; nothing is running when none was started."""

    async def poll(self) -> int | None:
        """Report the server as stopped (exit status 0): this spawner starts none yet."""
        return 0
