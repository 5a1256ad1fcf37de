"""REST handler of live lint: ``POST /kfjupyter/api/notebooks/lint``.

The editor posts the notebook it holds (saved or not) and where it is saved (a path inside the
server's root: steps that run other notebooks find them next to it); the handler compiles it with
:func:`kfjupyter.compiler.lint.compile_notebook` and answers the diagnostics with the step graph of
:func:`kfjupyter.compiler.export.graph_to_json`. A notebook the reader cannot read is a 400 with the
reader's message; problems inside cells are diagnostics, never errors.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from kfjupyter.compiler.export import graph_to_json
from kfjupyter.compiler.lint import compile_notebook
from kfjupyter.errors import InvalidInput, KfJupyterError
from kfjupyter.notebook.reader import read_notebook
from kfjupyter.server import models
from kfjupyter.server.handlers import KfJupyterHandler, api
from kfjupyter.server.paths import confine_file


class LintHandler(KfJupyterHandler):
    """``POST /kfjupyter/api/notebooks/lint``: ``{notebook, target?}`` -> ``{diagnostics, graph}``."""

    @api("read")
    def post(self) -> None:
        """Compile the posted notebook and answer what lint found and the step graph."""
        body = self.parse_body(models.LintRequest)
        try:
            notebook = read_notebook(body.notebook)
            if body.path is not None:
                notebook = replace(notebook, path=self._saved_at(body.path))
            pipeline, diagnostics = compile_notebook(notebook, target=body.target)
        except InvalidInput as error:  # only a notebook the reader cannot read (see compile_notebook)
            raise InvalidInput(f"notebook: {error.message}") from None
        self.reply(models.LintResult(diagnostics=diagnostics, graph=graph_to_json(pipeline)))

    def _saved_at(self, relative: str) -> Path | None:
        """The notebook's file inside the server's root, or None when ``relative`` cannot be one."""
        try:
            return confine_file(
                self.serverapp.root_dir,
                relative,
                suffixes=(".ipynb",),
                kind="notebook",
                must_exist=False,
                allow_hidden=self.allow_hidden,
            )
        except KfJupyterError:
            return None  # e.g. another drive's path: its notebook steps are reported as not checkable


def lint_routes(api_prefix: str) -> list[tuple[str, type[KfJupyterHandler]]]:
    """The routes of this module under ``api_prefix`` (e.g. ``/kfjupyter/api``)."""
    return [(rf"{api_prefix}/notebooks/lint/?", LintHandler)]
