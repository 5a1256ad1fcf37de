"""A step that changes an object it received is that object's producer for the steps after it."""

from __future__ import annotations

from typing import Any

import pytest

from kfjupyter.compiler.ir import Pipeline
from kfjupyter.compiler.lint import compile_notebook
from kfjupyter.notebook.diagnostics import Diagnostic
from tests.unit.notebook.nbfactory import code, notebook


def build(*cells: Any) -> tuple[Pipeline, list[Diagnostic]]:
    return compile_notebook(notebook(*cells), target="cluster")


@pytest.mark.parametrize(
    "change",
    [
        "df['x'] = 1",
        "df.attr = 1",
        "df.append(1)",
        "del df['k']",
        "df += [1]",
        "df['k'] += 1",
        "df.drop(columns=['a'], inplace=True)",
        "df['a'].fillna(0, inplace=True)",
        "y = df\ny[0] = 1",
        "y = df['inner']\ny.append(1)",
        "for d in [df, other]:\n    d['c'] = 1",
        "for row in df:\n    row['c'] = 1",
        "with_df = [df]\nwith_df[0]['c'] = 1",
        "v = df.reshape(-1)\nv[0] = 1",
        "if True:\n    df.update(a=1)",
        "for i, d in enumerate([df, other]):\n    d['c'] = i",
    ],
)
def test_direct_and_aliased_changes_make_the_step_the_producer(change: str) -> None:
    p, diags = build(
        code("df = {'inner': []}\nother = {}", "step:load"),
        code(change, "step:change"),
        code("out = df", "step:read"),
    )
    assert [d for d in diags if d.severity == "error"] == []
    assert p.step("read").inputs == {"df": "change"}
    assert "df" in p.step("change").outputs
    assert "df" in p.step("change").changes


@pytest.mark.parametrize(
    "reader",
    [
        "n = len(df)",
        "print(df)",
        "y = df.copy()\ny['x'] = 1",
        "y = list(df)\ny.append(1)",
        "s = df.head()",
        "t = sorted(df)",
        "df2 = df\ndf2 = {}\ndf2['a'] = 1",
        "total = sum(v for v in df)",
        "import kfjupyter\nfor i, v in enumerate(df):\n    kfjupyter.log_metric('m', float(len(v)), step=i)",
    ],
)
def test_readers_do_not_become_producers(reader: str) -> None:
    p, diags = build(
        code("df = {'a': 1}", "step:load"), code(reader, "step:look"), code("out = df", "step:read")
    )
    assert diags == []
    assert p.step("read").inputs == {"df": "load"}
    assert p.step("look").changes == []


def test_aliases_carry_across_the_cells_of_a_step() -> None:
    p, _ = build(
        code("a = {}\nb = {}", "step:load"),
        code("pair = [a, b]", "step:change"),
        code("for d in pair:\n    d['c'] = 1"),
        code("out = (a, b)", "step:read"),
    )
    assert p.step("read").inputs == {"a": "change", "b": "change"}


def test_notebook_functions_that_change_their_argument_or_a_global() -> None:
    p, diags = build(
        code(
            "def tag(d, value):\n    d['tag'] = value\n\ndef tag_all(items):\n    for d in items:\n        tag(d, 1)",
            "functions",
        ),
        code("def reset():\n    registry.clear()", "functions"),
        code("a = {}\nb = {}\nregistry = {'x': 1}\nkeep = {}", "step:load"),
        code("tag(a, 2)", "step:one"),
        code("tag_all([b])\nreset()", "step:two"),
        code("tag(value=3, d=keep.copy())", "step:three"),
        code("out = (a, b, registry, keep)", "step:read"),
    )
    assert diags == []
    assert p.step("read").inputs == {"a": "one", "b": "two", "keep": "load", "registry": "two"}


def test_a_function_defined_in_a_step_is_followed_too() -> None:
    p, _ = build(
        code("xs = []", "step:load"),
        code("def grow(target):\n    target.append(1)\ngrow(xs)", "step:change"),
        code("out = xs", "step:read"),
    )
    assert p.step("read").inputs == {"xs": "change"}


def test_unsure_changes_are_safe_and_pure_steps_run_in_parallel() -> None:
    load = code("model = object()\nX = [1]", "step:load")
    unsure = build(load, code("model.fit(X)", "step:train"), code("p = model.predict(X)", "step:use"))[0]
    assert unsure.step("use").inputs == {"X": "train", "model": "train"}
    declared = build(
        load,
        code("%%step train --pure\nmodel.fit(X)"),
        code("p = model.predict(X)", kf={"step": "use", "pure": True}),
    )[0]
    assert declared.step("use").inputs == {"X": "load", "model": "load"}
    assert declared.step("train").changes == []


def test_unknown_functions_may_change_their_arguments_but_known_readers_do_not() -> None:
    p, _ = build(
        code("import numpy as np\nimport random", "imports"),
        code("xs = [3, 1]\nys = [1]\nzs = [2]", "step:load"),
        code("m = np.mean(xs)\nrandom.shuffle(ys)\nmystery(zs)", "step:use"),
        code("out = (xs, ys, zs)", "step:read"),
    )
    assert p.step("read").inputs == {"xs": "load", "ys": "use", "zs": "use"}


def test_a_reader_before_a_change_does_not_wait_for_it() -> None:
    p, _ = build(
        code("xs = [1]", "step:load"),
        code("n = len(xs)", "step:before"),
        code("xs.append(2)", "step:grow"),
        code("m = len(xs)", "step:after"),
    )
    assert {s.name: s.upstream for s in p.steps} == {
        "load": [],
        "before": ["load"],
        "grow": ["load"],
        "after": ["grow"],
    }


def test_changed_setup_objects_and_parameters_travel() -> None:
    p, diags = build(
        code("CONFIG = {}\ndef lookup(k):\n    return CONFIG[k]", "functions"),
        code("sizes = [1, 2]", "pipeline-parameters"),
        code("CONFIG['k'] = 1\nsizes.append(3)", "step:a"),
        code("v = lookup('k')\nn = len(sizes)", "step:b"),
    )
    assert diags == []
    assert p.step("b").inputs == {"CONFIG": "a", "sizes": "a"}
    assert p.step("b").parameters == []


def test_calling_something_computed_from_an_object_may_change_it() -> None:
    p, _ = build(
        code("d = {}", "step:load"),
        code("getattr(d, 'update')(k=1)", "step:change"),
        code("out = d", "step:read"),
    )
    assert p.step("read").inputs == {"d": "change"}


def test_a_container_of_named_objects_links_them_in_later_steps() -> None:
    p, _ = build(
        code("train = {}\ntest = {}\ncombine = [train, test]", "step:load"),
        code("for d in combine:\n    d['x'] = 1", "step:encode"),
        code("train['y'] = 2", "step:fill"),
        code("out = (train, test, combine)", "step:read"),
    )
    assert p.step("encode").relink == {"combine": ["train", "test"]}
    assert p.step("encode").changes == ["combine", "test", "train"]
    assert p.step("fill").inputs == {"combine": "encode", "test": "encode", "train": "encode"}
    assert p.step("read").inputs == {"combine": "fill", "test": "fill", "train": "fill"}


def test_rebinding_a_member_unlinks_only_that_member() -> None:
    p, _ = build(
        code("a = []\nb = []\ng = [a, b]", "step:load"),
        code("a = [9]", "step:rebind"),
        code("a.append(1)", "step:grow_a"),
        code("b.append(1)", "step:grow_b"),
        code("out = (a, b, g)", "step:read"),
    )
    assert p.step("grow_a").relink == {}
    assert p.step("grow_b").relink == {"g": ["", "b"]}
    assert p.step("read").inputs == {"a": "grow_a", "b": "grow_b", "g": "grow_b"}


def test_a_scalar_parameter_passed_to_an_unknown_function_is_not_a_change() -> None:
    p, diags = build(
        code("CANDIES = 5\nNAMES = ['a']", "pipeline-parameters"),
        code("import random\nkid = random.randint(0, CANDIES)\npick = random.choices(NAMES)", "step:kid1"),
        code("total = CANDIES * 2\nnames = NAMES", "step:count"),
    )
    assert [d.code for d in diags if d.code == "KF104"] == ["KF104"]  # NAMES, a list, may change
    assert "CANDIES" not in p.step("kid1").changes
    assert "NAMES" in p.step("kid1").changes
    assert p.step("count").inputs == {"NAMES": "kid1"}
