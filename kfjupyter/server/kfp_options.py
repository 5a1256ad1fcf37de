"""The server's Kubeflow Pipelines settings (``c.KfJupyterApp.kfp_*``) and the connection they make."""

from __future__ import annotations

import os
from dataclasses import dataclass

from kfjupyter.errors import Conflict, InvalidInput
from kfjupyter.kfp.connection import KfpConnection, configured_host, resolve_connection
from kfjupyter.runs.kfp_submit import IMAGE_ENV

NO_HOST = (
    "No Kubeflow Pipelines endpoint is configured: set c.KfJupyterApp.kfp_host to the KFP API URL "
    "(e.g. http://ml-pipeline-ui.kubeflow) in jupyter_server_config.py, or $KFJUPYTER_KFP_HOST "
    "(or $KF_PIPELINES_ENDPOINT) in the server's environment, and restart the server"
)


@dataclass(frozen=True)
class KfpOptions:
    """The server's Kubeflow Pipelines settings (``c.KfJupyterApp.kfp_*``)."""

    host: str = ""
    token: str = ""
    cookie: str = ""
    namespace: str = ""
    ui_host: str = ""
    image: str = ""

    def default_image(self) -> str | None:
        """The image every step gets unless a request names one: ``kfp_image``, else ``$KFJUPYTER_IMAGE``."""
        return self.image or os.environ.get(IMAGE_ENV) or None

    def connection(self) -> KfpConnection:
        """The connection these settings describe; ``Conflict`` when there is no usable host.

        Empty settings fall back as for every front door
        (:func:`~kfjupyter.kfp.connection.resolve_connection`).
        """
        if not configured_host(self.host):
            raise Conflict(NO_HOST, reason="no_kfp_host")
        try:
            return resolve_connection(
                host=self.host,
                token=self.token,
                cookie=self.cookie,
                namespace=self.namespace,
                ui_host=self.ui_host,
                how="set c.KfJupyterApp.kfp_host",
            )
        except InvalidInput as error:
            raise Conflict(f"c.KfJupyterApp.kfp_host is not usable: {error.message}") from None
