"""The server's checks of user input, without a server: paths, request models, messages, run files."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from kfjupyter.errors import Forbidden, InvalidInput, KfJupyterError, NotFound
from kfjupyter.runs.launch import spawn as _spawn
from kfjupyter.server.artifact_handlers import disposition, safe_media_type
from kfjupyter.server.errors import validation_message
from kfjupyter.server.kfp_handlers import write_whole
from kfjupyter.server.models import RunListQuery, RunNotebookRequest
from kfjupyter.server.models_pipelines import CompileRequest, LogQuery, RerunRequest, SubmitRequest
from kfjupyter.server.models_training import TrainingRequest
from kfjupyter.server.paths import confine, confine_file, relative_to_root, shown
from kfjupyter.server.run_files import checked_log_path, inside_run_dir, real_run_dir
from kfjupyter.store import RunRecord, RunStore, open_store


@pytest.fixture
def root(tmp_path: Path) -> Path:
    base = tmp_path / "root"
    (base / "sub").mkdir(parents=True)
    (base / "sub" / "ok.ipynb").write_text(
        '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}'
    )
    (base / "bad.ipynb").write_text("{nope")
    (base / "dir.ipynb").mkdir()
    (tmp_path / "outside.ipynb").write_text("{}")
    (base / "out.ipynb").symlink_to(tmp_path / "outside.ipynb")
    (base / "loop.ipynb").symlink_to(base / "loop.ipynb")
    (base / "inner.ipynb").symlink_to(base / "sub" / "ok.ipynb")
    return base


@pytest.mark.parametrize(
    ("relative", "error", "words"),
    [
        ("../outside.ipynb", Forbidden, "outside"),
        ("sub/../../outside.ipynb", Forbidden, "outside"),
        ("out.ipynb", Forbidden, "outside"),
        ("/etc/passwd.ipynb", InvalidInput, "must be relative"),
        ("\\\\server\\share\\x.ipynb", InvalidInput, "must be relative"),
        ("sub\\ok.ipynb", InvalidInput, "separate folders with '/'"),
        ("ok.ipynb\x00", InvalidInput, "must be relative"),
        ("notes.txt", InvalidInput, "is not a notebook"),
        ("dir.ipynb", InvalidInput, "is a directory"),
        ("loop.ipynb", InvalidInput, "loop"),
        ("x" * 5000 + ".ipynb", InvalidInput, "cannot be used"),
        ("missing.ipynb", NotFound, "no notebook at"),
        ("%2e%2e/outside.ipynb", NotFound, "no notebook at"),
        ("\ud800.ipynb", InvalidInput, "not valid Unicode"),
        ("bad.ipynb", InvalidInput, "path: notebook 'bad.ipynb' is not valid JSON"),
    ],
)
def test_confine_refuses_paths_with_a_message_naming_the_field(
    root: Path, relative: str, error: type[KfJupyterError], words: str
) -> None:
    with pytest.raises(error) as caught:
        confine(root, relative)
    assert caught.value.message.startswith("path: ")
    assert words in caught.value.message
    assert len(caught.value.message) < 400  # a huge path is shortened in the message


def test_confine_accepts_notebooks_inside_the_root(root: Path) -> None:
    assert confine(root, "sub/ok.ipynb") == root / "sub" / "ok.ipynb"
    assert confine(root, "sub/../inner.ipynb") == root / "sub" / "ok.ipynb"


def test_an_output_may_be_new_but_not_a_folder(root: Path) -> None:
    made = confine_file(
        root, "new/x.yaml", suffixes=(".yaml",), kind="YAML file", field="output", must_exist=False
    )
    assert made == root / "new" / "x.yaml"
    (root / "d.yaml").mkdir()
    with pytest.raises(InvalidInput, match=r"^output: 'd.yaml' is a directory"):
        confine_file(root, "d.yaml", suffixes=(".yaml",), kind="YAML file", field="output", must_exist=False)


def test_relative_to_root_of_a_symlink_loop_is_not_found(root: Path) -> None:
    with pytest.raises(NotFound):
        relative_to_root(root, root / "loop.ipynb")
    assert relative_to_root(root, root / "inner.ipynb") == "sub/ok.ipynb"


def test_shown_keeps_short_paths_and_cuts_long_ones() -> None:
    assert shown("a/b.ipynb") == "'a/b.ipynb'"
    assert len(shown("y" * 10_000)) < 130


def test_spawn_turns_argument_problems_into_user_errors(tmp_path: Path) -> None:
    with (tmp_path / "err").open("w+b") as err:
        with pytest.raises(InvalidInput, match="too long for a command line"):
            _spawn([sys.executable, "-c", "1", "x" * 300_000], err)
        with pytest.raises(InvalidInput, match=r"^parameters:"):
            _spawn([sys.executable, "-c", "1", "a\x00b"], err)


def test_write_whole_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out" / "p.yaml"
    write_whole(target, "first\n")
    write_whole(target, "second\n")
    assert target.read_text() == "second\n"
    assert [p.name for p in target.parent.iterdir()] == ["p.yaml"]


def test_concurrent_writes_of_one_output_never_mix(tmp_path: Path) -> None:
    target = tmp_path / "p.yaml"
    texts = [f"{i}\n" * 200_000 for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda text: write_whole(target, text), texts))
    assert target.read_text() in texts
    assert [p.name for p in tmp_path.iterdir()] == ["p.yaml"]


def test_write_whole_under_a_file_is_invalid_input(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidInput, match=r"^output: a folder on the way"):
        write_whole(tmp_path / "file" / "p.yaml", "x")
    with pytest.raises(InvalidInput, match=r"^output: cannot write"):
        write_whole(tmp_path / ("y" * 300 + ".yaml"), "x")


@pytest.mark.parametrize(
    ("model", "body", "field"),
    [
        (RunNotebookRequest, {"path": "a.ipynb", "parameters": {"a": "\x00"}}, "parameters"),
        (RunNotebookRequest, {"path": "a.ipynb", "parameters": {"1a": "x"}}, "parameters"),
        (RerunRequest, {"parameters": {"a": "x\x00"}}, "parameters"),
        (CompileRequest, {"path": "a.ipynb", "parameters": {"a": "\x00"}}, "parameters"),
        (CompileRequest, {"path": "a.ipynb", "image": "a b"}, "image"),
        (SubmitRequest, {"path": "a.ipynb", "image": "img\n"}, "image"),
        (TrainingRequest, {"script": "t.py", "args": ["ok", "x\x00"]}, "args"),
        (TrainingRequest, {"script": "t.py", "env": {"A": "\x00"}}, "env"),
        (TrainingRequest, {"script": "t.py", "env": {"A\x00": "1"}}, "env"),
        (TrainingRequest, {"script": "t.py", "env": {"A": "é" * 40_000}}, "env"),
        (TrainingRequest, {"script": "t.py", "args": ["x" * 60_000] * 10}, "args"),
        (RunListQuery, {"offset": str(2**63)}, "offset"),
        (LogQuery, {"offset": "-1"}, "offset"),
        (LogQuery, {"offset": str(2**41)}, "offset"),
        (LogQuery, {"offset": "\u00b2"}, "offset"),
    ],
)
def test_request_models_refuse_what_cannot_be_used(model: type[BaseModel], body: object, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    assert validation_message(caught.value).startswith(f"Invalid request body: {field}")


def test_an_unknown_field_is_named_with_the_accepted_ones() -> None:
    with pytest.raises(ValidationError) as caught:
        RerunRequest.model_validate({"nocache": True})
    message = validation_message(caught.value, RerunRequest.model_fields)
    assert (
        message
        == "Invalid request body: nocache: unknown field; remove it (accepted: from_step, no_cache, only, parameters)"
    )
    assert validation_message(caught.value, what="query").startswith("Invalid query: nocache")


def test_a_deep_location_is_shortened() -> None:
    class Deep(BaseModel):
        model_config = ConfigDict(extra="forbid")
        value: list[list[list[list[list[list[list[list[list[int]]]]]]]]]

    with pytest.raises(ValidationError) as caught:
        Deep.model_validate({"value": [[[[[[[[["x"]]]]]]]]]})
    assert "value.0.0.0...0.0.0.0: " in validation_message(caught.value)


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    s = open_store(tmp_path / "home")
    s.create_run(RunRecord(id="r-1", kind="pipeline", name="p", backend="local"))
    return s


def test_a_log_symlinked_out_of_its_run_is_forbidden(store: RunStore, tmp_path: Path) -> None:
    log = store.log_path("r-1", "a", create_dir=True)
    assert checked_log_path(store, "r-1", "a") == log  # not written yet: fine
    (tmp_path / "secret").write_text("s")
    log.symlink_to(tmp_path / "secret")
    with pytest.raises(Forbidden, match="leads outside the run's directory"):
        checked_log_path(store, "r-1", "a")
    store.close()


def test_a_run_directory_symlinked_out_of_the_store_is_forbidden(store: RunStore, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    store.run_dir("r-1").parent.mkdir(parents=True, exist_ok=True)
    store.run_dir("r-1").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(Forbidden, match="outside the run store"):
        real_run_dir(store, "r-1")
    store.close()


def test_files_inside_the_run_directory_are_inside(store: RunStore) -> None:
    run_dir = store.run_dir("r-1", create=True)
    (run_dir / "f").write_text("x")
    (run_dir / "loop").symlink_to(run_dir / "loop")
    assert inside_run_dir(store, "r-1", run_dir / "f") == (run_dir / "f").resolve()
    assert inside_run_dir(store, "r-1", run_dir / "loop") is None
    store.close()


@pytest.mark.parametrize(
    ("recorded", "sent"),
    [
        ("image/png", "image/png"),
        ("text/plain; charset=utf-8", "text/plain; charset=utf-8"),
        ("text/html\r\nX-Injected: 1", "application/octet-stream"),
        ('text/plain; name="x"', "application/octet-stream"),
        ("", "application/octet-stream"),
        ("x" * 1000 + "/y", "application/octet-stream"),
    ],
)
def test_only_plain_media_types_reach_the_header(recorded: str, sent: str) -> None:
    assert safe_media_type(recorded) == sent


def test_disposition_is_inline_only_for_passive_types() -> None:
    assert disposition("text/plain; charset=utf-8", 'a"b.txt') == 'inline; filename="a_b.txt"'
    assert disposition("text/html", "page.html").startswith("attachment;")
    assert disposition("image/svg+xml", "x.svg").startswith("attachment;")


def test_hidden_paths_are_refused_unless_the_server_shows_hidden_files(root: Path) -> None:
    (root / ".hidden").mkdir()
    (root / ".hidden" / "h.ipynb").write_text((root / "sub" / "ok.ipynb").read_text())
    (root / "link.ipynb").symlink_to(root / ".hidden" / "h.ipynb")
    for relative in (".hidden/h.ipynb", "link.ipynb", "sub/../.hidden/h.ipynb"):
        with pytest.raises(Forbidden, match="is hidden"):
            confine(root, relative)
        assert confine(root, relative, allow_hidden=True) == root.resolve() / ".hidden" / "h.ipynb"
    with pytest.raises(Forbidden, match=r"output: '\.bashrc\.yaml' is hidden"):
        confine_file(
            root, ".bashrc.yaml", suffixes=(".yaml",), kind="YAML file", field="output", must_exist=False
        )
    assert confine(root, "sub/../sub/ok.ipynb") == root.resolve() / "sub" / "ok.ipynb"
