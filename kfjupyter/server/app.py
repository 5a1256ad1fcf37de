"""The kfjupyter ``ExtensionApp``: configuration and route table of the server extension."""

from __future__ import annotations

from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Unicode

from kfjupyter.server.artifact_handlers import artifact_routes
from kfjupyter.server.cancel import cancel_routes
from kfjupyter.server.compare import compare_routes
from kfjupyter.server.handlers import HealthHandler
from kfjupyter.server.lint_handlers import lint_routes
from kfjupyter.server.models import Backend
from kfjupyter.server.runs_handlers import run_routes

API = "kfjupyter/api"


class KfJupyterApp(ExtensionApp):
    """Serves the kfjupyter REST API under ``<base_url>/kfjupyter/api/``."""

    name = "kfjupyter"
    load_other_extensions = True

    kfp_host = Unicode(
        "", config=True, help="Kubeflow Pipelines API endpoint; empty means only local pipelines."
    )

    def backends(self) -> list[Backend]:
        """The backends this server is configured with."""
        found = [
            Backend(name="local", kind="pipelines", available=True, detail="Runs on this server"),
            Backend(name="local", kind="training", available=True, detail="Runs on this server"),
        ]
        if self.kfp_host:
            found.append(Backend(name="kfp", kind="pipelines", available=True, detail=self.kfp_host))
        return found

    def initialize_settings(self) -> None:
        """Expose the configured backends to handlers."""
        self.settings["kfjupyter_backends"] = self.backends()

    def initialize_handlers(self) -> None:
        """Register the REST routes."""
        prefix = f"/{API}"
        routes: list[tuple[str, Any]] = [
            (rf"{prefix}/health", HealthHandler),
            *compare_routes(prefix),
            *run_routes(prefix),
            *artifact_routes(prefix),
            *cancel_routes(prefix),
            *lint_routes(prefix),
        ]
        self.handlers.extend(routes)
