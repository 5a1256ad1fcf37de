"""Settings and values the runner cannot honour are lint errors, not crashes at run time.

A step name longer than the run store and Kubernetes accept, a timeout beyond what a timer can
wait, a retry count that never ends, a parameter nested deeper than anything a pipeline needs:
each is a diagnostic naming the cell and the setting, and the IR refuses it too.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from kfjupyter.compiler.ir import Step, StepSettings
from kfjupyter.compiler.lint import compile_notebook, lint_notebook
from kfjupyter.compiler.parameters import MAX_PARAMETER_DEPTH, resolve_parameters
from kfjupyter.errors import InvalidInput
from kfjupyter.notebook.diagnostics import Diagnostic
from kfjupyter.notebook.marks import MAX_RETRIES, MAX_STEP_NAME_LENGTH, MAX_TIMEOUT_S
from tests.unit.notebook.nbfactory import code, notebook


def errors(*cells: Any) -> list[Diagnostic]:
    return [d for d in lint_notebook(notebook(*cells), target="cluster") if d.severity == "error"]


def one_error(*cells: Any) -> Diagnostic:
    found = errors(*cells)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    "first",
    [f"%%step {'s' * 300}", f"%%step {'s' * (MAX_STEP_NAME_LENGTH + 1)}"],
)
def test_a_step_name_too_long_is_kf201_naming_the_limit(first: str) -> None:
    d = one_error(code(f"{first}\nx = 1"))
    assert (d.code, d.cell) == ("KF201", 0)
    assert f"at most {MAX_STEP_NAME_LENGTH} characters" in d.message


def test_a_step_name_too_long_in_tags_and_metadata() -> None:
    long = "s" * 300
    assert one_error(code("x = 1", f"step:{long}")).code == "KF201"
    assert one_error(code("x = 1", kf={"step": long})).code == "KF201"
    # a prev: naming it does not crash either
    assert {
        d.code for d in errors(code("x = 1", f"step:{long}"), code("y = x", "step:b", f"prev:{long}"))
    } >= {"KF201"}


def test_the_longest_step_name_is_fine() -> None:
    pipeline, diags = compile_notebook(notebook(code(f"%%step {'s' * MAX_STEP_NAME_LENGTH}\nx = 1")))
    assert [d for d in diags if d.severity == "error"] == []
    assert len(pipeline.steps[0].name) == MAX_STEP_NAME_LENGTH


@pytest.mark.parametrize("value", ["1e10", "inf", str(MAX_TIMEOUT_S * 2)])
def test_a_timeout_too_long_on_the_step_line_is_kf003(value: str) -> None:
    d = one_error(code(f"%%step a --timeout {value}\nx = 1"))
    assert (d.code, d.cell) == ("KF003", 0)
    assert "--timeout" in d.message and f"at most {MAX_TIMEOUT_S}" in d.message


def test_a_timeout_too_long_in_metadata_is_kf003() -> None:
    d = one_error(code("x = 1", kf={"step": "a", "timeout": 1e10}))
    assert (d.code, d.cell) == ("KF003", 0)
    assert "metadata.kfjupyter.timeout" in d.message


@pytest.mark.parametrize("value", [str(10**23), str(MAX_RETRIES + 1)])
def test_too_many_retries_on_the_step_line_is_kf003(value: str) -> None:
    d = one_error(code(f"%%step a --retries {value}\nx = 1"))
    assert (d.code, d.cell) == ("KF003", 0)
    assert "--retries" in d.message and f"at most {MAX_RETRIES}" in d.message


def test_too_many_retries_in_metadata_is_kf003() -> None:
    d = one_error(code("x = 1", kf={"step": "a", "retries": 10**23}))
    assert (d.code, d.cell) == ("KF003", 0)
    assert "metadata.kfjupyter.retries" in d.message


def test_the_largest_settings_are_fine() -> None:
    line = f"%%step a --timeout {MAX_TIMEOUT_S} --retries {MAX_RETRIES}\nx = 1"
    pipeline, diags = compile_notebook(notebook(code(line)), target="cluster")
    assert diags == []
    assert (pipeline.steps[0].settings.timeout_s, pipeline.steps[0].settings.retries) == (
        MAX_TIMEOUT_S,
        MAX_RETRIES,
    )


def test_the_ir_itself_refuses_out_of_range_settings() -> None:
    with pytest.raises(ValidationError):
        StepSettings(retries=MAX_RETRIES + 1)
    with pytest.raises(ValidationError):
        StepSettings(timeout_s=1e10)
    with pytest.raises(ValidationError):
        Step(name="s" * (MAX_STEP_NAME_LENGTH + 1), blocks=[])
    assert "at most" in (StepSettings.model_fields["retries"].description or "")


def _nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


def _list_param_pipeline() -> Any:
    return compile_notebook(notebook(code("n = [1]", "pipeline-parameters"), code("x = n", "step:a")))[0]


@pytest.mark.parametrize("depth", [MAX_PARAMETER_DEPTH + 1, 5000, 100_000])
def test_a_deeply_nested_override_is_refused_clearly(depth: int) -> None:
    with pytest.raises(InvalidInput, match=f"nested more than {MAX_PARAMETER_DEPTH} levels"):
        resolve_parameters(_list_param_pipeline(), None, [f"n={_nested(depth)}"])


def test_a_nested_override_within_the_limit_is_fine() -> None:
    values = resolve_parameters(_list_param_pipeline(), None, [f"n={_nested(MAX_PARAMETER_DEPTH)}"])
    assert isinstance(values["n"], list)


def test_a_deeply_nested_typed_value_is_refused_clearly() -> None:
    deep: Any = 1
    for _ in range(MAX_PARAMETER_DEPTH + 5):
        deep = [deep]
    with pytest.raises(InvalidInput, match="nested more than"):
        resolve_parameters(_list_param_pipeline(), {"n": deep})


def test_a_deeply_nested_default_is_kf302() -> None:
    d = one_error(
        code(f"n = {_nested(MAX_PARAMETER_DEPTH + 1)}", "pipeline-parameters"), code("x = n", "step:a")
    )
    assert (d.code, d.cell) == ("KF302", 0)
    assert "nested" in d.message


def test_a_step_name_with_undecodable_bytes_is_kf201() -> None:
    # JSON may spell a lone surrogate ("\udcff"); the name is refused, not a crash of the IR.
    d = one_error(code("%%step \udcff\nx = 1"))
    assert (d.code, d.cell) == ("KF201", 0)
    assert one_error(code("x = 1", "step:a\udcff")).code == "KF201"


def test_an_empty_step_name_is_kf201() -> None:
    assert one_error(code("%%step ''\nx = 1")).code == "KF201"
