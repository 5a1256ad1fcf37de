"""Pipeline parameters: reading them from ``pipeline-parameters`` cells and parsing overrides.

A parameter is a top-level assignment of a literal (``n_rows = 1000``, ``lr: float = 1e-3``,
``cols = ["a", "b"]``). Its type (int, float, str, bool, list, dict) comes from the literal. Anything
else in a parameters cell is reported, never executed. Overrides given as ``NAME=VALUE`` text (CLI,
REST, magics) are parsed to the declared type by :func:`parse_overrides`, and every front door
resolves a run's values with :func:`resolve_parameters`; a ``str`` parameter keeps
the text exactly as given, so quotes, newlines and braces reach the step untouched. Lists and dicts
may nest at most :data:`MAX_PARAMETER_DEPTH` levels deep, in defaults and in overrides alike.
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from kfjupyter.compiler.analysis import parse_source
from kfjupyter.compiler.ir import JsonValue, Parameter, ParamType, Pipeline
from kfjupyter.errors import InvalidInput
from kfjupyter.notebook.diagnostics import Diagnostic, Severity
from kfjupyter.notebook.segments import Source

#: Deepest nesting of lists and dicts in a parameter value (``[[1]]`` is 2 levels).
MAX_PARAMETER_DEPTH = 32


@dataclass
class ParameterSet:
    """Parameters read from the parameters cells, the names they bind and the problems found."""

    parameters: list[Parameter] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def extract_parameters(blocks: Sequence[Source]) -> ParameterSet:
    """Read typed parameters from parameter cells; non-literals and other statements are diagnostics.

    Cells with syntax errors are skipped here (the analysis reports them).
    """
    result = ParameterSet()
    by_name: dict[str, Parameter] = {}
    for block in blocks:
        tree = parse_source(block.source)
        if isinstance(tree, tuple):
            continue
        for stmt in tree.body:
            line = stmt.lineno + block.first_line - 1
            for name, value in _assignments(stmt, block.cell, line, result):
                result.names.add(name)
                param = _parameter(name, value, block.cell, line, result)
                if param is None:
                    continue
                if name in by_name:
                    result.diagnostics.append(
                        _diag(
                            "warning",
                            "KF303",
                            block.cell,
                            line,
                            f"parameter {name!r} is set again (first in cell {by_name[name].cell}); "
                            "the last value wins.",
                            "Keep one assignment per parameter.",
                        )
                    )
                by_name[name] = param
    result.parameters = list(by_name.values())
    return result


def _assignments(stmt: ast.stmt, cell: int, line: int, result: ParameterSet) -> list[tuple[str, ast.expr]]:
    if isinstance(stmt, ast.Assign):
        pairs: list[tuple[str, ast.expr]] = []
        for target in stmt.targets:
            pairs.extend(_pairs(target, stmt.value, cell, line, result))
        return pairs
    if isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        return _pairs(stmt.target, stmt.value, cell, line, result)
    if isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
        return []
    result.diagnostics.append(
        _diag(
            "error",
            "KF301",
            cell,
            line,
            f"a pipeline-parameters cell may only assign literal values; line {line} is a "
            f"{type(stmt).__name__} statement.",
            "Move this code to an 'imports'/'functions' cell or into a step.",
        )
    )
    return []


def _pairs(
    target: ast.expr, value: ast.expr, cell: int, line: int, result: ParameterSet
) -> list[tuple[str, ast.expr]]:
    if isinstance(target, ast.Name):
        return [(target.id, value)]
    if (
        isinstance(target, (ast.Tuple, ast.List))
        and isinstance(value, (ast.Tuple, ast.List))
        and len(target.elts) == len(value.elts)
    ):
        pairs: list[tuple[str, ast.expr]] = []
        for t, v in zip(target.elts, value.elts, strict=True):
            pairs.extend(_pairs(t, v, cell, line, result))
        return pairs
    result.diagnostics.append(
        _diag(
            "error",
            "KF301",
            cell,
            line,
            f"line {line} of a pipeline-parameters cell does not assign a plain name.",
            "Write one 'name = literal' per line.",
        )
    )
    return []


def _parameter(name: str, node: ast.expr, cell: int, line: int, result: ParameterSet) -> Parameter | None:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        result.diagnostics.append(
            _diag(
                "error",
                "KF301",
                cell,
                line,
                f"parameter {name!r} is not a literal value, so it cannot be a pipeline parameter.",
                f"Give it a literal default (e.g. {name} = 10); compute derived values inside a step.",
            )
        )
        return None
    if nesting(value) > MAX_PARAMETER_DEPTH:
        result.diagnostics.append(
            _diag(
                "error",
                "KF302",
                cell,
                line,
                f"parameter {name!r} is nested more than {MAX_PARAMETER_DEPTH} levels deep.",
                "Flatten the value, or compute the nested structure inside a step.",
            )
        )
        return None
    ptype = _type_of(value)
    if ptype is None or not _is_json(value):
        result.diagnostics.append(
            _diag(
                "error",
                "KF302",
                cell,
                line,
                f"parameter {name!r} has a {type(value).__name__} value; parameters must be int, float, "
                "str, bool, list or dict (with JSON-compatible contents).",
                "Use a list instead of a tuple or set, and a typed default instead of None.",
            )
        )
        return None
    return Parameter(name=name, type=ptype, default=value, cell=cell)


def _type_of(value: object) -> ParamType | None:
    types: tuple[tuple[type, ParamType], ...] = (
        (bool, "bool"),
        (int, "int"),
        (float, "float"),
        (str, "str"),
        (list, "list"),
        (dict, "dict"),
    )
    for pytype, name in types:
        if isinstance(value, pytype):
            return name
    return None


def nesting(value: object) -> int:
    """How many levels of lists and dicts ``value`` has (0 for a scalar), without recursion."""
    deepest = 0
    todo: list[tuple[object, int]] = [(value, 0)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, (list, tuple, set, frozenset, dict)):
            depth += 1
            deepest = max(deepest, depth)
            if depth > MAX_PARAMETER_DEPTH:
                return depth  # deep enough to refuse; no need to walk the rest
            children = item.values() if isinstance(item, dict) else item
            todo.extend((child, depth) for child in children)
    return deepest


def check_nesting(name: str, value: object) -> None:
    """Raise InvalidInput when parameter ``name``'s value nests deeper than the limit."""
    if nesting(value) > MAX_PARAMETER_DEPTH:
        raise InvalidInput(_too_deep(name))


def _too_deep(name: str) -> str:
    return (
        f"parameter {name!r} is nested more than {MAX_PARAMETER_DEPTH} levels deep; "
        "send a flatter list or dict."
    )


def _is_json(value: object) -> bool:
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_is_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False


def resolve_parameters(
    pipeline: Pipeline, parameters: Mapping[str, JsonValue] | None, overrides: Sequence[str] = ()
) -> dict[str, JsonValue]:
    """A run's parameter values: defaults, then ``parameters`` (typed values), then ``NAME=VALUE`` overrides.

    The one resolution for local runs, KFP submissions, compiles and re-runs; an unknown name or a
    value nested too deep is ``InvalidInput`` naming it.
    """
    values: dict[str, JsonValue] = {p.name: p.default for p in pipeline.parameters}
    for name, value in (parameters or {}).items():
        if name not in values:
            raise InvalidInput(
                f"unknown parameter {name!r}; the notebook's parameters are: {', '.join(sorted(values)) or 'none'}"
            )
        check_nesting(name, value)
        values[name] = value
    values.update(parse_overrides(pipeline, list(overrides)))
    return values


def parse_overrides(pipeline: Pipeline, overrides: Sequence[str]) -> dict[str, JsonValue]:
    """Parse ``NAME=VALUE`` strings into typed values of the pipeline's parameters.

    The last override of a name wins. Raises InvalidInput naming the parameter, its type and an
    example for an unknown name, a missing ``=`` or a value of the wrong type.
    """
    params = {p.name: p for p in pipeline.parameters}
    values: dict[str, JsonValue] = {}
    for item in overrides:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name:
            example = (
                f"{next(iter(params))}={_example(next(iter(params.values())))}" if params else "n_rows=100"
            )
            raise InvalidInput(f"parameter override {item!r} must look like NAME=VALUE, e.g. {example}.")
        param = params.get(name)
        if param is None:
            known = ", ".join(sorted(params)) or "none"
            raise InvalidInput(f"unknown parameter {name!r}; this pipeline's parameters are: {known}.")
        values[name] = coerce_value(param, raw)
    return values


def coerce_value(param: Parameter, raw: str) -> JsonValue:
    """Convert text to ``param``'s type; InvalidInput with the expected type and an example if it fails."""
    if param.type == "str":
        return raw
    text = raw.strip()
    try:
        value = _convert(param.type, text)
    except RecursionError:  # json.loads of thousands of brackets
        raise InvalidInput(_too_deep(param.name)) from None
    check_nesting(param.name, value)
    if value is _INVALID:
        raise InvalidInput(
            f"parameter {param.name!r} expects {_ARTICLE[param.type]} {param.type}, got {raw!r}; "
            f"e.g. {param.name}={_example(param)}."
        )
    return cast(JsonValue, value)


_INVALID = object()
_ARTICLE = {"int": "an", "float": "a", "bool": "a", "str": "a", "list": "a", "dict": "a"}


def _convert(ptype: ParamType, text: str) -> object:
    if ptype == "bool":
        lowered = text.lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        return _INVALID
    if ptype in ("list", "dict"):
        try:
            value = json.loads(text)
        except ValueError:
            value = _literal(text)
        wanted = list if ptype == "list" else dict
        if nesting(value) > MAX_PARAMETER_DEPTH:
            return value  # refused by the caller, before _is_json recurses into it
        return value if isinstance(value, wanted) and _is_json(value) else _INVALID
    value = _literal(text)
    if isinstance(value, bool):
        return _INVALID
    if ptype == "int":
        return value if isinstance(value, int) else _INVALID
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return _INVALID


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except RecursionError:
        raise
    except (ValueError, TypeError, SyntaxError, MemoryError):
        return _INVALID


def _example(param: Parameter) -> str:
    if param.type == "str":
        return str(param.default)
    if param.type == "bool":
        return "true" if param.default else "false"
    return json.dumps(param.default)


def _diag(severity: Severity, code: str, cell: int, line: int, message: str, hint: str) -> Diagnostic:
    return Diagnostic(severity=severity, code=code, cell=cell, line=line, message=message, hint=hint)
