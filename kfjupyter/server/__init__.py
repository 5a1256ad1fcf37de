"""kfjupyter's jupyter-server extension: the REST API the JupyterLab extension talks to."""

from __future__ import annotations

from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from kfjupyter.server.app import KfJupyterApp

    return [{"module": "kfjupyter.server", "app": KfJupyterApp}]
