"""kfjupyter.compiler: from a segmented notebook to the typed pipeline IR, lint and graph exports.

Entry points: :func:`kfjupyter.compiler.lint.compile_notebook` and ``lint_notebook``;
:func:`kfjupyter.compiler.parameters.parse_overrides`; :func:`kfjupyter.compiler.export.graph_to_json`
and ``graph_to_dot``. Inside: ``ir`` (the typed model), ``pysyntax`` + ``scopes`` + ``analysis``
(what each cell reads, defines and mutates), ``parameters`` and ``graph`` (data flow, edges, order),
``metrics`` (the names a pipeline-metrics cell records).
"""
