"""The kfjupyter ``ExtensionApp``: configuration and route table of the server extension."""

from __future__ import annotations

from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Unicode

from kfjupyter.kfp.connection import configured_host
from kfjupyter.server.artifact_handlers import artifact_routes
from kfjupyter.server.cancel import cancel_routes
from kfjupyter.server.compare import compare_routes
from kfjupyter.server.handlers import HealthHandler
from kfjupyter.server.kfp_handlers import kfp_routes
from kfjupyter.server.kfp_live import KfpRefresher
from kfjupyter.server.kfp_options import KfpOptions
from kfjupyter.server.lint_handlers import lint_routes
from kfjupyter.server.log_stream import log_stream_routes
from kfjupyter.server.models import Backend
from kfjupyter.server.rerun import rerun_routes
from kfjupyter.server.runs_handlers import run_routes
from kfjupyter.server.step_handlers import step_routes
from kfjupyter.server.training_handlers import training_routes
from kfjupyter.store import Engine

API = "kfjupyter/api"


class KfJupyterApp(ExtensionApp):
    """Serves the kfjupyter REST API under ``<base_url>/kfjupyter/api/``."""

    name = "kfjupyter"
    load_other_extensions = True

    kfp_host = Unicode(
        "",
        config=True,
        help="Kubeflow Pipelines API endpoint; empty: $KFJUPYTER_KFP_HOST, else $KF_PIPELINES_ENDPOINT, "
        "else only local pipelines.",
    )
    kfp_token = Unicode(
        "",
        config=True,
        help="Bearer token for the KFP API; empty: $KF_PIPELINES_TOKEN, else the mounted "
        "service-account token file.",
    )
    kfp_cookie = Unicode(
        "",
        config=True,
        help="Cookie header for the KFP API (e.g. 'authservice_session=...'); empty: $KF_PIPELINES_COOKIE.",
    )
    kfp_namespace = Unicode(
        "", config=True, help="Kubernetes namespace of submitted runs (multi-user Kubeflow); empty: kubeflow."
    )
    kfp_ui_host = Unicode("", config=True, help="Base URL of the KFP UI for run links; empty: kfp_host.")
    kfp_image = Unicode(
        "",
        config=True,
        help="Container image of every compiled or submitted step (it needs kfjupyter installed); "
        "empty: $KFJUPYTER_IMAGE, else each step's own image setting.",
    )

    def backends(self) -> list[Backend]:
        """The backends this server is configured with."""
        found = [
            Backend(name=Engine.LOCAL.value, kind="pipelines", available=True, detail="Runs on this server"),
            Backend(name=Engine.LOCAL.value, kind="training", available=True, detail="Runs on this server"),
        ]
        host = configured_host(self.kfp_host)
        if host:
            found.append(Backend(name=Engine.KFP.value, kind="pipelines", available=True, detail=host))
        return found

    def initialize_settings(self) -> None:
        """Expose the configured backends and KFP settings to handlers."""
        self.settings["kfjupyter_backends"] = self.backends()
        self.settings["kfjupyter_kfp_refresher"] = KfpRefresher(self.kfp_token, self.kfp_cookie)
        self.settings["kfjupyter_kfp"] = KfpOptions(
            host=self.kfp_host,
            token=self.kfp_token,
            cookie=self.kfp_cookie,
            namespace=self.kfp_namespace,
            ui_host=self.kfp_ui_host,
            image=self.kfp_image,
        )

    def initialize_handlers(self) -> None:
        """Register the REST routes."""
        prefix = f"/{API}"
        routes: list[tuple[str, Any]] = [
            (rf"{prefix}/health", HealthHandler),
            *compare_routes(prefix),
            *log_stream_routes(prefix),
            *run_routes(prefix),
            *step_routes(prefix),
            *rerun_routes(prefix),
            *artifact_routes(prefix),
            *cancel_routes(prefix),
            *lint_routes(prefix),
            *kfp_routes(prefix),
            *training_routes(prefix),
        ]
        self.handlers.extend(routes)
