"""Fuzz every front door with generated input: REST bodies and queries, CLI arguments, %kf and %%step lines.

Hypothesis (the suite's bounded, derandomized "ci" profile) builds the input from the documented
shapes, the names that exist (a good notebook, a finished run) and hostile text (lone surrogates,
huge numbers, deep nesting, paths that leave the root, symlink loops). Every answer must be a
documented one: a REST status from the table in docs/users/rest-api.md with a JSON error body and
no traceback, a CLI exit status from docs/users/pipelines.md with at most one error line, a %kf
line that prints one ``kfjupyter:`` line or its result, and a %%step cell that runs or is refused.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kfjupyter.cli.main import main
from kfjupyter.store import RunRecord, StepRecord, open_store
from tests.support.ipython import kf_shell
from tests.support.jupyter import LabServer, running_lab
from tests.support.notebooks import cell, write_notebook

API = "/kfjupyter/api"
#: Every status the REST API documents; 500 is a bug and never one of them.
REST_STATUSES = {200, 202, 400, 403, 404, 405, 409, 502, 503, 507}
#: Exit statuses the command line documents (argparse's own refusals are 2 as well).
CLI_STATUSES = {0, 1, 2, 73, 74, 75, 141}
RUN_ID = "r-fuzz"

# -- hostile and plausible pieces ---------------------------------------------------------------
HOSTILE_TEXT = [
    "",
    " ",
    "\udcff",
    "s=\udcff\udcfe",
    "../x",
    "../../etc/passwd",
    "/etc/passwd",
    "loop.ipynb",
    "ok.ipynb",
    "folder.ipynb",
    "x" * 5000,
    str(10**23),
    "-1",
    "1e10",
    "nan",
    "inf",
    "[" * 3000 + "]" * 3000,
    '{"a": ' * 100 + "1" + "}" * 100,
    "a\\b",
    "%00",
    "\u202e",
    "é",
    RUN_ID,
    "n=[1,2]",
    "n=" + "[" * 500 + "]" * 500,
    "--json",
    "--limit",
]
texts = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=40))
argv_texts = texts.filter(lambda t: "\x00" not in t)  # a real argv can never hold a NUL
#: The pieces most likely to break a front door: a short list, so that a bounded run tries each often.
SHARP = [
    RUN_ID,
    "ok.ipynb",
    "loop.ipynb",
    "bad.ipynb",
    "\udcff",
    "s=\udcff",
    "n=" + "[" * 500 + "]" * 500,
    str(10**23),
    "../x",
    "A-B",
    "x" * 300,
    "y" * 300 + ".py",
    "",
    "1e10",
]
sharp = st.sampled_from(SHARP)
#: Positional arguments and option values: mostly the sharp pieces (three parts in four), else any text.
positionals = st.one_of(sharp, sharp, sharp, argv_texts)
json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30), st.floats(), texts
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)


def seed(root: Path, home: Path) -> None:
    """A notebook with a parameter, a broken one, a symlink loop, a folder named like a notebook, a run."""
    good = write_notebook(
        root / "ok.ipynb", [cell("n = [1]\ns = 'a'", "pipeline-parameters"), cell("x = len(n)", "step:a")]
    )
    (root / "bad.ipynb").write_text("{not json")
    (root / "folder.ipynb").mkdir(exist_ok=True)
    if not (root / "loop.ipynb").is_symlink():
        (root / "loop.ipynb").symlink_to(root / "loop.ipynb")
    with open_store(home) as store:
        store.create_run(
            RunRecord(
                id=RUN_ID,
                kind="pipeline",
                name="ok",
                notebook=str(good),
                backend="local",
                status="succeeded",
                parameters={"n": [1], "s": "a"},
                started_at=1.0,
                finished_at=2.0,
            )
        )
        store.upsert_steps([StepRecord(run_id=RUN_ID, name="a", status="succeeded")])


# -- REST ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    with running_lab(tmp_path_factory.mktemp("fuzz")) as server:
        seed(server.root, server.root.parent / "kfjupyter")
        yield server


POSTS = {
    "/notebooks/run": ["path", "parameters", "no_cache"],
    "/notebooks/lint": ["notebook"],
    "/notebooks/compile": ["path", "parameters", "output", "image"],
    "/notebooks/submit": ["path", "parameters", "experiment", "image"],
    f"/runs/{RUN_ID}/rerun": ["parameters", "no_cache"],
    f"/runs/{RUN_ID}/cancel": [],
    "/training": ["script", "args", "num_nodes", "procs_per_node", "gpus_per_node", "env", "backend", "name"],
}
FIELD_VALUES = {
    "path": texts,
    "output": texts.map(lambda t: f"{t}.yaml"),
    "parameters": st.dictionaries(st.sampled_from(["n", "s", "x", ""]), texts, max_size=3),
    "notebook": st.one_of(
        json_values, st.just({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []})
    ),
}


@st.composite
def rest_posts(draw: st.DrawFn) -> tuple[str, Any]:
    path = draw(st.sampled_from(sorted(POSTS)))
    fields = POSTS[path]
    body: Any
    if fields and draw(st.booleans()):
        chosen = draw(st.lists(st.sampled_from(fields), unique=True, max_size=len(fields)))
        body = {f: draw(FIELD_VALUES.get(f, json_values)) for f in chosen}
        if draw(st.booleans()):
            body[draw(texts)] = draw(json_values)  # an unknown field
    else:
        body = draw(json_values)
    return path, body


def check_rest(status: int, body: Any, what: object) -> None:
    assert status in REST_STATUSES, (status, body, what)
    if status >= 400:
        assert isinstance(body, dict) and set(body) == {"message", "reason"}, (status, body, what)
        assert "Traceback" not in body["message"], body


@given(request=rest_posts())
def test_rest_bodies(lab: LabServer, request: tuple[str, Any]) -> None:
    path, body = request
    raw = json.dumps(body).encode() if not isinstance(body, str) else body.encode(errors="surrogatepass")
    status, reply = lab.request(f"{API}{path}", token=lab.token, method="POST", body=raw)
    check_rest(status, reply, request)


GETS = [
    "/runs",
    f"/runs/{RUN_ID}",
    f"/runs/{RUN_ID}/logs/a",
    f"/runs/{RUN_ID}/metrics",
    f"/runs/{RUN_ID}/artifacts",
    "/runs/compare",
    "/training",
]
QUERY_NAMES = ["limit", "offset", "q", "status", "kind", "sort", "backend", "notebook", "ids", "offset", "x"]


@given(
    path=st.sampled_from(GETS),
    query=st.lists(st.tuples(st.sampled_from(QUERY_NAMES), texts), max_size=4),
)
def test_rest_queries(lab: LabServer, path: str, query: list[tuple[str, str]]) -> None:
    from urllib.parse import quote

    text = "&".join(f"{quote(k)}={quote(v, errors='surrogatepass')}" for k, v in query)
    status, reply = lab.request(f"{API}{path}?{text}", token=lab.token)
    check_rest(status, reply, (path, query))


@given(
    segment=texts,
    where=st.sampled_from(
        [
            "/runs/{}",
            "/runs/{}/logs/a",
            f"/runs/{RUN_ID}/logs/{{}}",
            f"/runs/{RUN_ID}/artifacts/a/{{}}/download",
            "/training/{}",
            "/training/{}/logs/0",
        ]
    ),
)
def test_rest_path_segments(lab: LabServer, segment: str, where: str) -> None:
    from urllib.parse import quote

    status, reply = lab.request(
        f"{API}{where.format(quote(segment, safe='', errors='surrogatepass'))}", token=lab.token
    )
    if status == 404 and not isinstance(reply, dict):
        return  # tornado's own "no such route" page (an empty segment): not a kfjupyter handler
    check_rest(status, reply, (where, segment))


# -- the command line (main() in this process, output captured) ---------------------------------
@pytest.fixture(scope="module")
def cli_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("cli")
    (base / "root").mkdir()
    seed(base / "root", base / "home")
    before = {k: os.environ.get(k) for k in ("KFJUPYTER_HOME",)}
    os.environ["KFJUPYTER_HOME"] = str(base / "home")
    cwd = Path.cwd()
    os.chdir(base / "root")
    try:
        yield base
    finally:
        os.chdir(cwd)
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@st.composite
def cli_argvs(draw: st.DrawFn) -> list[str]:
    verb = draw(
        st.sampled_from(
            [
                ["run"],
                ["lint"],
                ["graph"],
                ["compile"],
                ["runs", "list"],
                ["runs", "show"],
                ["runs", "logs"],
                ["runs", "artifacts"],
            ]
        )
    )
    # The positionals each verb takes (sometimes one more or one less, for argparse's own refusals).
    count = {"list": 0, "logs": draw(st.integers(1, 2))}.get(verb[-1], 1)
    count = max(0, count + draw(st.sampled_from([0, 0, 0, 0, 1, -1])))
    words = list(verb) + [draw(positionals) for _ in range(count)]
    options = {
        "run": ["-p", "--json", "--max-parallel", "--resume", "--run-id", "--no-cache"],
        "lint": ["--json", "--target"],
        "graph": ["--json", "--dot"],
        "compile": ["-p", "--image"],
        "list": ["--json", "--limit", "--status"],
        "show": ["--json"],
        "logs": ["--follow"],
        "artifacts": ["--json"],
    }[verb[-1]]
    for _ in range(draw(st.integers(0, 3))):
        option = draw(st.sampled_from(options))
        if option == "--follow":
            continue  # follows a live run until it ends; every run here has ended, but keep it quick
        words.append(option)
        if option in ("--limit", "--max-parallel"):
            words.append(draw(st.one_of(st.sampled_from(["1", "0", "-1", str(10**23)]), positionals)))
        elif option == "-p":
            words.append(
                draw(
                    st.one_of(
                        st.sampled_from(["n=[1]", "s=\udcff", "n=" + "[" * 500 + "]" * 500]), positionals
                    )
                )
            )
        elif option not in ("--json", "--dot", "--no-cache"):
            words.append(draw(positionals))
    if verb == ["compile"]:
        words += ["-o", "out.yaml"]  # never a path the fuzz picks: it would write there
    return words


def check_cli(argv: list[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exit_:  # argparse refusing the line: usage and one error line
            status = exit_.code if isinstance(exit_.code, int) else 2
    assert status in CLI_STATUSES, (argv, status, err.getvalue()[-2000:])
    assert "Traceback" not in err.getvalue() and "Traceback" not in out.getvalue(), argv
    errors = [line for line in err.getvalue().splitlines() if "error:" in line]
    assert len(errors) <= 1, (argv, errors)


@given(argv=cli_argvs())
def test_cli_arguments(cli_home: Path, argv: list[str]) -> None:
    check_cli(argv)


CLI_TABLE = [
    *(["run", p] for p in SHARP),
    *(["run", "ok.ipynb", "-p", p] for p in SHARP),
    *(["lint", p] for p in SHARP),
    *(["graph", p, "--json"] for p in SHARP),
    *(["compile", p, "-o", "out.yaml"] for p in SHARP),
    *(["runs", "list", "--limit", p] for p in SHARP),
    *(["runs", verb, p] for verb in ("show", "logs", "artifacts") for p in SHARP),
    *(["runs", "logs", RUN_ID, p] for p in SHARP),
    *(["runs", verb, p, "--json"] for verb in ("cancel", "rerun") for p in SHARP),
    *(["runs", "delete", p, "--json"] for p in SHARP if p != RUN_ID),  # the seeded run stays
    *(["runs", "rerun", RUN_ID, "-p", p, "--json"] for p in SHARP),
    *(["runs", "compare", RUN_ID, p] for p in SHARP),
]


def test_cli_every_verb_with_every_sharp_piece(cli_home: Path) -> None:
    """The same oracle over the whole small table, so each pairing is tried on every run of the suite."""
    failures = []
    for argv in CLI_TABLE:
        try:
            check_cli(argv)
        except Exception as error:  # collect them all: one report names every broken pairing
            failures.append(f"{argv!a}: {type(error).__name__}: {str(error)[:300]!a}")
    assert not failures, "\n".join(failures)


# -- %kf and %%step in a real IPython shell -----------------------------------------------------
@pytest.fixture(scope="module")
def shell(cli_home: Path) -> Iterator[Any]:
    with kf_shell() as sh:
        yield sh


shell_words = positionals.map(lambda t: t.replace("'", ""))


@st.composite
def kf_lines(draw: st.DrawFn) -> str:
    verb = draw(st.sampled_from(["run", "runs", "logs", "metrics", "train", "", "help", "--help"]))
    options = {
        "run": ["-p", "--no-cache", "--notebook", "--widget"],
        "runs": ["--limit", "--kind", "--status"],
        "train": ["--nodes", "--procs", "--gpus", "--backend", "--name", "--image"],
    }.get(verb, [])
    words = [verb] if verb else []
    words += draw(st.lists(shell_words, max_size=2))
    for _ in range(draw(st.integers(0, 3))):
        if not options:
            break
        option = draw(st.sampled_from(options))
        words.append(option)
        if option not in ("--no-cache", "--widget"):
            words.append(draw(shell_words))
    if verb == "run" and "--notebook" not in words:
        words += [
            "--notebook",
            draw(st.sampled_from(["ok.ipynb", "bad.ipynb", "loop.ipynb", "folder.ipynb"])),
        ]
    return " ".join(f"'{w}'" for w in words)


def check_kf(shell: Any, line: str) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        shell.run_line_magic("kf", line)  # anything raised here fails the test
    text = out.getvalue()
    assert "Traceback" not in text, (line, text)
    errors = [x for x in text.splitlines() if x.startswith("kfjupyter:")]
    assert len(errors) <= 1, (line, text)


@given(line=kf_lines())
def test_kf_lines(shell: Any, line: str) -> None:
    check_kf(shell, line)


KF_TABLE = [
    *(f"run --notebook '{p}'" for p in SHARP),
    *(f"run --notebook ok.ipynb -p '{p}'" for p in SHARP),
    *(f"runs --limit '{p}'" for p in SHARP),
    *(f"{verb} '{p}'" for verb in ("logs", "metrics", "train") for p in SHARP),
    *(f"{verb} {RUN_ID} '{p}'" for verb in ("logs", "metrics") for p in SHARP),
    *(f"{verb} '{p}'" for verb in ("cancel", "rerun") for p in SHARP),
    *(f"rerun {RUN_ID} -p '{p}'" for p in SHARP),
]


def test_kf_every_verb_with_every_sharp_piece(shell: Any) -> None:
    failures = []
    for line in KF_TABLE:
        try:
            check_kf(shell, line)
        except Exception as error:
            failures.append(f"{line!a}: {type(error).__name__}: {str(error)[:300]!a}")
    assert not failures, "\n".join(failures)


def refused_by_lint(source: str) -> bool:
    """Whether a pipeline would refuse this cell's %%step line (a malformed line or step name)."""
    from kfjupyter.compiler.lint import lint_notebook

    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
        "cells": [
            {"cell_type": "code", "source": source, "metadata": {}, "outputs": [], "execution_count": None}
        ],
    }
    return any(d.code in ("KF003", "KF201") for d in lint_notebook(notebook))


step_words = st.one_of(
    sharp, st.sampled_from(["--retries", "--timeout", "--gpu", "--after", "a", "b_2"]), argv_texts
)


@given(rest=st.lists(step_words.map(lambda t: t.replace("'", "")), max_size=4))
def test_step_cells(shell: Any, rest: list[str]) -> None:
    shell.user_ns.pop("ran", None)
    out = io.StringIO()
    line = " ".join(f"'{w}'" for w in rest)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        result = shell.run_cell(f"%%step {line}\nran = True", store_history=False)
    assert result.error_before_exec is None and result.error_in_exec is None, (line, out.getvalue())
    assert "Traceback" not in out.getvalue(), (line, out.getvalue())
    ran = bool(shell.user_ns.get("ran"))
    assert ran or out.getvalue().startswith("%%step:"), (line, out.getvalue())
    # The magic runs exactly the cells a pipeline accepts: same parser, same step-name rule.
    assert ran != refused_by_lint(f"%%step {line}\nran = True"), (line, out.getvalue())


def test_compile_with_a_deeply_nested_parameter_is_400(lab: LabServer) -> None:
    deep = "[" * 5000 + "]" * 5000
    body = {"path": "ok.ipynb", "parameters": {"n": deep}}
    status, reply = lab.request(f"{API}/notebooks/compile", token=lab.token, method="POST", body=body)
    assert status == 400 and "nested more than 32 levels" in reply["message"], (status, reply)
