"""Static analysis of one cell: free names, definitions, mutations, one test per scope rule."""

from __future__ import annotations

import pytest

from kfjupyter.compiler.analysis import analyze, is_builtin, parse_source


def free(source: str) -> set[str]:
    info = analyze(source)
    assert info.syntax_error is None, info.syntax_error
    return {name for name, _ in info.reads} | {name for name, _ in info.deferred}


CASES = [
    # (source, free names, defined names)
    ("x = 1\ny = x", set(), {"x", "y"}),
    ("y = x\nx = 1", {"x"}, {"x", "y"}),
    ("x += 1", {"x"}, {"x"}),
    ("x = x + 1", {"x"}, {"x"}),
    ("print(len(xs))", {"xs"}, set()),
    ("import numpy as np\nimport os.path\nfrom a import b as c", set(), {"np", "os", "c"}),
    ("def f(a, *args, b=default, **kw):\n    return a + b + g + args + kw", {"default", "g"}, {"f"}),
    ("def f():\n    v = 1\n    return v", set(), {"f"}),
    ("def f():\n    global G\n    G = 1\n    return G", {"G"}, {"f"}),
    (
        "def outer():\n    v = 1\n    def inner():\n        nonlocal v\n        v += 1\n    return inner",
        set(),
        {"outer"},
    ),
    ("def f():\n    print(late)\nlate = 1", set(), {"f", "late"}),
    ("f = lambda a, b=d: a + b + c", {"c", "d"}, {"f"}),
    (
        "class C(Base):\n    k = 1\n    m = k + j\n    def f(self):\n        return k",
        {"Base", "j", "k"},
        {"C"},
    ),
    ("[y for y in ys if y > lim]", {"ys", "lim"}, set()),
    ("{k: v for k, v in d.items()}", {"d"}, set()),
    ("[a for a in range(3) for b in other(a)]", {"other"}, set()),
    ("[z := w for w in ws]\nprint(z)", {"ws"}, {"z"}),
    ("if (n := size()) > 3:\n    print(n)", {"size"}, {"n"}),
    ("for i in items:\n    total = i", {"items"}, {"i", "total"}),
    ("with open(p) as fh, lock:\n    data = fh.read()", {"p", "lock"}, {"fh", "data"}),
    ("try:\n    go()\nexcept Err as e:\n    print(e)", {"go", "Err"}, set()),
    ("del x", {"x"}, set()),
    ("x = 1\ndel x", set(), set()),
    (
        "match cmd:\n    case [a, *rest] if a > lim:\n        pass\n    case {'k': v, **others}:\n        pass\n"
        "    case Point(x=px) | Other(px):\n        pass",
        {"cmd", "lim", "Point", "Other"},
        {"a", "rest", "v", "others", "px"},
    ),
    ("x: int = 5\ny: Foo", {"Foo"}, {"x"}),
    ("a, (b, *c) = t", {"t"}, {"a", "b", "c"}),
    ("print(__name__, display, get_ipython, _3, _i2, In, Out)", set(), set()),
    ("from m import *", set(), set()),
    ("@decorate\ndef f(x: Ann = dflt) -> Ret:\n    pass", {"decorate", "Ann", "dflt", "Ret"}, {"f"}),
    (
        "async def f():\n    async for q in src():\n        pass\n    async with ctx() as c:\n        pass",
        {"src", "ctx"},
        {"f"},
    ),
]


@pytest.mark.parametrize(("source", "expected_free", "expected_defines"), CASES)
def test_scope_rules(source: str, expected_free: set[str], expected_defines: set[str]) -> None:
    assert free(source) == expected_free
    assert set(analyze(source).defines) == expected_defines


def test_function_reads_are_deferred_and_attributed() -> None:
    info = analyze(
        "def f():\n    return g(df)\n\nclass K:\n    def m(self):\n        return scale\nh = lambda: q"
    )
    assert info.reads == ()
    assert {n for n, _ in info.deferred} == {"g", "df", "scale", "q"}
    assert info.function_reads == {"f": frozenset({"g", "df"}), "K": frozenset({"scale"})}


def test_first_read_line_is_reported() -> None:
    info = analyze("a = 1\n\nprint(b)\nprint(b)")
    assert info.reads == (("b", 3),)


def test_ipython_syntax_is_understood() -> None:
    source = "%matplotlib inline\nfiles = !ls {folder}\n!echo $user\nresult?\n%time out = work(arg)\n"
    info = analyze(source)
    assert info.syntax_error is None
    assert dict(info.reads) == {"folder": 2, "user": 3, "work": 5, "arg": 5}
    assert info.defines == {"files", "out"}


def test_code_cell_magics_are_analysed_with_cell_lines() -> None:
    info = analyze("%%time\nmodel = fit(data)\nscore = model.score(x)\n")
    assert dict(info.reads) == {"fit": 2, "data": 2, "x": 3}
    assert info.defines == {"model", "score"}
    captured = analyze("%%capture out\nprint(v)\n")
    assert dict(captured.reads) == {"v": 2}
    assert captured.defines == {"out"}


def test_leading_blank_lines_keep_line_numbers() -> None:
    info = analyze("\n\n%time x = 1\ny = z\n")
    assert dict(info.reads) == {"z": 4}
    assert analyze("\n\nb = (\n!ls").syntax_error == (3, "'(' was never closed")


def test_opaque_cell_magic_reads_nothing() -> None:
    info = analyze("%%bash\necho $HOME\n")
    assert info.syntax_error is None
    assert info.reads == ()


def test_syntax_error_reports_line() -> None:
    info = analyze("a = 1\nb = (\n")
    assert info.syntax_error is not None
    assert info.syntax_error[0] == 2
    assert isinstance(parse_source("def (:"), tuple)


@pytest.mark.parametrize(
    ("source", "mutated"),
    [
        ("df.drop(columns=['a'], inplace=True)", {"df"}),
        ("df['a'].fillna(0, inplace=True)", {"df"}),
        ("xs.append(1)\nd.update(e=1)\ns.add(2)", {"xs", "d", "s"}),
        ("obj.attr = 1", {"obj"}),
        ("obj.a.b = 1", {"obj"}),
        ("d['k'] = v", {"d"}),
        ("d['k'] += 1", {"d"}),
        ("del d['k']", {"d"}),
        ("a[0], b = 1, 2", {"a"}),
        ("df = load()\ndf.drop(columns=['a'], inplace=True)\ndf['x'] = 1", set()),
        ("df.drop(columns=['a'])", set()),
        ("def f():\n    xs.append(1)", set()),
        ("make().append(1)", set()),
        ("print.x = 1", set()),
    ],
)
def test_in_place_mutations(source: str, mutated: set[str]) -> None:
    assert {n for n, _ in analyze(source).mutations} == mutated


def test_star_import_is_flagged() -> None:
    assert analyze("from numpy import *").star_import


def test_builtins() -> None:
    assert is_builtin("len")
    assert is_builtin("_12")
    assert not is_builtin("df")


def test_results_are_cached() -> None:
    assert analyze("q = 1") is analyze("q = 1")


@pytest.mark.parametrize(
    "source",
    ["x = " + "+".join(["1"] * 20000), "x = " + "(" * 300 + ")" * 300, "a = 1\x00", "[" * 100000],
)
def test_pathological_code_never_raises(source: str) -> None:
    info = analyze(source)
    assert info.syntax_error is not None or "x" in info.defines
