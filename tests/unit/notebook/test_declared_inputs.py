"""Declared inputs of a step: ``--depends-on``/``--depends-on-env`` and ``depends_on``/``depends_on_env``."""

from __future__ import annotations

import pytest

from kfjupyter.errors import InvalidInput
from kfjupyter.notebook.cell_metadata import parse_cell_metadata
from kfjupyter.notebook.step_magic import parse_step_line


def test_the_step_line_takes_files_globs_and_variables() -> None:
    mark = parse_step_line("%%step train --depends-on data/*.csv 'my file.txt' --depends-on-env SEED MODE")
    assert mark.settings.depends_on == ("data/*.csv", "my file.txt")
    assert mark.settings.depends_on_env == ("SEED", "MODE")


def test_the_step_line_refuses_a_bad_variable_name_naming_the_cell_and_option() -> None:
    with pytest.raises(InvalidInput, match=r"cell 3: %%step: --depends-on-env '1X' is not"):
        parse_step_line("%%step s --depends-on-env 1X", cell=3)
    with pytest.raises(InvalidInput, match=r"cell 3: .*--depends-on needs a file"):
        parse_step_line("%%step s --depends-on ''", cell=3)


def test_cell_metadata_takes_them_and_names_the_bad_field() -> None:
    mark = parse_cell_metadata(
        {"kfjupyter": {"step": "s", "depends_on": ["x.bin"], "depends_on_env": ["A"]}}, 0
    )
    assert (
        mark is not None and mark.settings.depends_on == ("x.bin",) and mark.settings.depends_on_env == ("A",)
    )
    with pytest.raises(InvalidInput, match=r"cell 2: metadata.kfjupyter.depends_on_env: .*'A-B'"):
        parse_cell_metadata({"kfjupyter": {"step": "s", "depends_on_env": ["A-B"]}}, 2)
    with pytest.raises(InvalidInput, match="only allowed on a step"):
        parse_cell_metadata({"kfjupyter": {"role": "imports", "depends_on": ["x"]}}, 1)
