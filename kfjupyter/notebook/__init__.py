"""kfjupyter.notebook: reading notebooks and what their cells say about themselves.

Modules, lowest first: ``reader`` (.ipynb -> typed cells, with clear errors), ``diagnostics`` (the
Diagnostic model shared with lint), ``marks`` (the one CellMark model and the step-name rule), the
three marker syntaxes ``kale_tags``, ``cell_metadata`` and ``step_magic``, ``nb_settings`` (Kale's
notebook-level metadata), ``shell_lines`` (shell escapes, automagic, pip install lines) and
``segments`` (cells grouped into set-up, parameters, steps and metrics). This layer never imports the
compiler.
"""
