"""Parameters: typed extraction and NAME=VALUE overrides."""

from __future__ import annotations

import pytest

from kfjupyter.compiler.ir import Parameter, Pipeline
from kfjupyter.compiler.parameters import coerce_value, extract_parameters, parse_overrides
from kfjupyter.errors import InvalidInput
from kfjupyter.notebook.segments import Source


def params(source: str, first_line: int = 1) -> list[Parameter]:
    result = extract_parameters([Source(4, source, first_line)])
    assert result.diagnostics == []
    return result.parameters


def test_literal_types() -> None:
    found = params(
        "i = 3\nf = 1e-3\nneg = -2\ns = 'it\\'s'\nb = True\nl = [1, 'a', None]\nd = {'k': [1.5]}\n"
        "typed: int = 4\nx, y = 1, 2.0\n'''docstring'''\npass"
    )
    assert [(p.name, p.type, p.default, p.cell) for p in found] == [
        ("i", "int", 3, 4),
        ("f", "float", 0.001, 4),
        ("neg", "int", -2, 4),
        ("s", "str", "it's", 4),
        ("b", "bool", True, 4),
        ("l", "list", [1, "a", None], 4),
        ("d", "dict", {"k": [1.5]}, 4),
        ("typed", "int", 4, 4),
        ("x", "int", 1, 4),
        ("y", "float", 2.0, 4),
    ]


def test_problems_are_diagnostics_with_lines() -> None:
    result = extract_parameters(
        [Source(2, "a = 1\nb = a + 1\nfor i in []: pass\nc = {1, 2}\nd = {1: 'x'}\na = 2\ne.f = 1", 2)]
    )
    assert [(d.code, d.cell, d.line) for d in result.diagnostics] == [
        ("KF301", 2, 3),
        ("KF301", 2, 4),
        ("KF302", 2, 5),
        ("KF302", 2, 6),
        ("KF303", 2, 7),
        ("KF301", 2, 8),
    ]
    assert [(p.name, p.default) for p in result.parameters] == [("a", 2)]
    assert result.names == {"a", "b", "c", "d"}


PIPE = Pipeline(
    name="p",
    parameters=[
        Parameter(name="n", type="int", default=1, cell=0),
        Parameter(name="lr", type="float", default=0.1, cell=0),
        Parameter(name="flag", type="bool", default=False, cell=0),
        Parameter(name="text", type="str", default="a", cell=0),
        Parameter(name="cols", type="list", default=["a"], cell=0),
        Parameter(name="opts", type="dict", default={}, cell=0),
    ],
)


def test_overrides_parse_to_declared_types() -> None:
    values = parse_overrides(
        PIPE,
        [
            "n=42",
            "lr=3",
            "flag=true",
            'cols=["x", 2]',
            "opts={'a': {'b': null_free}}".replace("null_free", "1"),
        ],
    )
    assert values == {"n": 42, "lr": 3.0, "flag": True, "cols": ["x", 2], "opts": {"a": {"b": 1}}}
    assert isinstance(values["lr"], float)


@pytest.mark.parametrize(
    "raw",
    ['it\'s "quoted"', "line1\nline2\n", "{braces} and {{doubled}}", "  padded  ", "", "a=b=c", "'''", "\\n"],
)
def test_string_overrides_keep_the_text_exactly(raw: str) -> None:
    assert parse_overrides(PIPE, [f"text={raw}"]) == {"text": raw}


@pytest.mark.parametrize(
    ("text", "expected"), [("False", False), ("0", False), ("YES", True), (" on ", True)]
)
def test_bool_spellings(text: str, expected: bool) -> None:
    assert coerce_value(PIPE.parameters[2], text) is expected


def test_json_and_python_literals_for_containers() -> None:
    assert parse_overrides(PIPE, ['opts={"a": true, "b": null}']) == {"opts": {"a": True, "b": None}}
    assert parse_overrides(PIPE, ["opts={'a': True, 'b': None}"]) == {"opts": {"a": True, "b": None}}


def test_last_override_wins() -> None:
    assert parse_overrides(PIPE, ["n=1", "n=2"]) == {"n": 2}


def test_unknown_name() -> None:
    with pytest.raises(
        InvalidInput, match=r"unknown parameter 'm'; this pipeline's parameters are: cols, flag"
    ):
        parse_overrides(PIPE, ["m=1"])


def test_missing_equals() -> None:
    with pytest.raises(InvalidInput, match=r"'n' must look like NAME=VALUE, e\.g\. n=1"):
        parse_overrides(PIPE, ["n"])


@pytest.mark.parametrize(
    ("item", "match"),
    [
        ("n=1.5", r"parameter 'n' expects an int, got '1\.5'; e\.g\. n=1"),
        ("n=true", r"parameter 'n' expects an int"),
        ("n=abc", r"parameter 'n' expects an int, got 'abc'"),
        ("lr=fast", r"parameter 'lr' expects a float, got 'fast'; e\.g\. lr=0\.1"),
        ("lr=True", r"parameter 'lr' expects a float"),
        ("lr=1e999", r"parameter 'lr' expects a float"),
        ("flag=maybe", r"parameter 'flag' expects a bool, got 'maybe'; e\.g\. flag=false"),
        ("cols={}", r"parameter 'cols' expects a list, got '\{\}'; e\.g\. cols=\[\"a\"\]"),
        ("cols=(1, 2)", r"parameter 'cols' expects a list"),
        ("opts=[1]", r"parameter 'opts' expects a dict, got '\[1\]'; e\.g\. opts=\{\}"),
        ("opts={1: 2}", r"parameter 'opts' expects a dict"),
    ],
)
def test_wrong_type_names_parameter_type_and_example(item: str, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        parse_overrides(PIPE, [item])
