"""Graph export: JSON for the UI and DOT that adversarial names cannot break."""

from __future__ import annotations

import re

import pytest

from kfjupyter.compiler.export import graph_to_dot, graph_to_json
from kfjupyter.compiler.ir import CodeBlock, Pipeline, Resources, Step, StepSettings
from kfjupyter.compiler.lint import compile_notebook
from tests.unit.notebook.nbfactory import code, notebook


def test_json_nodes_and_edges() -> None:
    pipeline, _ = compile_notebook(
        notebook(
            code("n = 3", "pipeline-parameters"),
            code("a = n", "step:a", "limit:nvidia.com/gpu:1"),
            code("b = 1", "step:b", "prev:a"),
            code("c = a + b", "step:c"),
        )
    )
    graph = graph_to_json(pipeline)
    assert graph["parameters"] == [{"name": "n", "type": "int", "default": 3}]
    assert [n["name"] for n in graph["nodes"]] == ["a", "b", "c"]
    assert graph["nodes"][0]["settings"] == {"resources": {"gpu": 1, "gpu_type": "nvidia.com/gpu"}}
    assert graph["nodes"][0]["parameters"] == ["n"]
    assert graph["nodes"][2]["cells"] == [3]
    assert graph["edges"] == [
        {"from": "a", "to": "b", "variables": [], "explicit": True},
        {"from": "a", "to": "c", "variables": ["a"], "explicit": False},
        {"from": "b", "to": "c", "variables": ["b"], "explicit": False},
    ]


DOT_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|->|[{}\[\];=,]|\s+')


def dot_tokens(text: str) -> list[str]:
    """Tokenise DOT; fails if anything is left that is not a token (a broken quote would leave some)."""
    pos, tokens = 0, []
    while pos < len(text):
        match = DOT_TOKEN.match(text, pos)
        assert match is not None, f"unexpected DOT at {pos}: {text[pos : pos + 40]!r}"
        if not match.group().isspace():
            tokens.append(match.group())
        pos = match.end()
    return tokens


@pytest.mark.parametrize(
    "name",
    [
        'a"b',
        "back\\slash",
        'ends with \\"',
        "new\nline",
        "brace } { ] [",
        "semi; -> x",
        "tab\tcr\r",
        "ctrl\x01",
    ],
)
def test_dot_survives_adversarial_names(name: str) -> None:
    steps = [
        Step(name=name, blocks=[CodeBlock(cell=0, source="x = 1")], outputs=["x"]),
        Step(name="down", blocks=[CodeBlock(cell=1, source="y = x")], inputs={"x": name}),
    ]
    dot = graph_to_dot(Pipeline(name=name, steps=steps))
    tokens = dot_tokens(dot)
    assert tokens[0] == "digraph"
    assert tokens[2] == "{"
    assert tokens[-1] == "}"
    assert tokens.count("->") == 1
    assert "\n" not in "".join(t for t in tokens if t.startswith('"'))


def test_dot_shape() -> None:
    steps = [
        Step(name="a", blocks=[CodeBlock(cell=0, source=""), CodeBlock(cell=2, source="")]),
        Step(name="b", blocks=[CodeBlock(cell=3, source="")], after=["a"]),
        Step(
            name="pipeline_metrics",
            kind="metrics",
            blocks=[CodeBlock(cell=4, source="")],
            inputs={"acc": "a"},
            settings=StepSettings(resources=Resources(gpu=1)),
        ),
    ]
    assert graph_to_dot(Pipeline(name="demo", steps=steps)) == (
        'digraph "demo" {\n'
        "  rankdir=TB;\n"
        '  node [shape=box, style="rounded"];\n'
        '  "a" [label="a\\ncells 0, 2"];\n'
        '  "b" [label="b\\ncell 3"];\n'
        '  "pipeline_metrics" [label="pipeline_metrics (metrics)\\ncell 4"];\n'
        '  "a" -> "b" [style=dashed];\n'
        '  "a" -> "pipeline_metrics" [label="acc"];\n'
        "}\n"
    )
