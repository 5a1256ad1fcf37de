"""kfjupyter's JupyterHub spawner: notebook pods on Kubernetes from typed, admin-defined profiles."""

from __future__ import annotations

__all__ = ["KfJupyterSpawner"]


def __getattr__(name: str) -> object:
    if name == "KfJupyterSpawner":
        from kfjupyter_spawner.spawner import KfJupyterSpawner

        return KfJupyterSpawner
    raise AttributeError(name)
