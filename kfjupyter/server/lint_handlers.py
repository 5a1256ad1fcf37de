"""REST handler of live lint: ``POST /kfjupyter/api/notebooks/lint``.

The editor posts the notebook it holds (saved or not); the handler compiles it with
:func:`kfjupyter.compiler.lint.compile_notebook` and answers the diagnostics with the step graph of
:func:`kfjupyter.compiler.export.graph_to_json`. A notebook the reader cannot read is a 400 with the
reader's message; problems inside cells are diagnostics, never errors.
"""

from __future__ import annotations

from kfjupyter.compiler.export import graph_to_json
from kfjupyter.compiler.lint import compile_notebook
from kfjupyter.errors import InvalidInput
from kfjupyter.server import models
from kfjupyter.server.handlers import KfJupyterHandler, api


class LintHandler(KfJupyterHandler):
    """``POST /kfjupyter/api/notebooks/lint``: ``{notebook, target?}`` -> ``{diagnostics, graph}``."""

    @api("read")
    def post(self) -> None:
        """Compile the posted notebook and answer what lint found and the step graph."""
        body = self.parse_body(models.LintRequest)
        try:
            pipeline, diagnostics = compile_notebook(body.notebook, target=body.target)
        except InvalidInput as error:  # only a notebook the reader cannot read (see compile_notebook)
            raise InvalidInput(f"notebook: {error.message}") from None
        self.reply(models.LintResult(diagnostics=diagnostics, graph=graph_to_json(pipeline)))


def lint_routes(api_prefix: str) -> list[tuple[str, type[KfJupyterHandler]]]:
    """The routes of this module under ``api_prefix`` (e.g. ``/kfjupyter/api``)."""
    return [(rf"{api_prefix}/notebooks/lint/?", LintHandler)]
