"""Debugging a step from the command line: run, fail, see the plan, re-run from the step, ``--only``,
``--reuse``; the plan names what changed and is what the runner then does."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import nbformat
import pytest

from kfjupyter.api import plan_notebook, run_notebook
from kfjupyter.errors import InvalidInput
from kfjupyter.store import RunStore
from tests.support.cli import kf
from tests.support.notebooks import cell, write_notebook


def as_json(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.stdout, done.stderr
    body: dict[str, Any] = json.loads(done.stdout)
    return body


def pipeline_nb(
    path: Path, train: str = "model = x.sum()\nassert model < 0, 'model is not negative'"
) -> Path:
    return write_notebook(
        path,
        [
            cell("import numpy as np", "imports"),
            cell("scale = 2", "pipeline-parameters"),
            cell("%%step load\ndata = np.arange(10.0)"),
            cell("%%step prep\nx = data * scale"),
            cell(f"%%step train\n{train}"),
            cell("%%step report\nsummary = float(model) + 1"),
        ],
    )


def set_cell(nb: Path, index: int, source: str) -> None:
    notebook = nbformat.read(str(nb), as_version=4)
    notebook.cells[index].source = source
    nbformat.write(notebook, str(nb))


def statuses(body: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    return {s["name"]: (s["status"], s["cached"]) for s in body["steps"]}


def test_run_fail_fix_the_cell_and_rerun_from_the_step(tmp_path: Path) -> None:
    home, nb = tmp_path / "home", pipeline_nb(tmp_path / "nb.ipynb")
    failed = kf(home, "run", str(nb), "--json")
    assert failed.returncode == 1
    first = as_json(failed)
    assert statuses(first)["train"] == ("failed", False)
    assert statuses(first)["report"][0] == "upstream_failed"

    set_cell(nb, 4, "%%step train\nmodel = -x.sum()")
    plan = as_json(kf(home, "run", str(nb), "--plan", "--json", "--from", "train"))
    assert plan == {
        "steps": [
            {"name": "load", "action": "cached", "reasons": [f"unchanged since run {first['run_id']}"]},
            {"name": "prep", "action": "cached", "reasons": [f"unchanged since run {first['run_id']}"]},
            {
                "name": "train",
                "action": "run",
                "reasons": ["--from train: it runs again", f"cell 4 changed since run {first['run_id']}"],
            },
            {"name": "report", "action": "run", "reasons": ["--from train: it runs again"]},
        ]
    }
    done = kf(home, "run", str(nb), "--from", "train", "--json")
    assert done.returncode == 0, done.stderr
    again = as_json(done)
    assert statuses(again) == {
        "load": ("cached", True),
        "prep": ("cached", True),
        "train": ("succeeded", False),
        "report": ("succeeded", False),
    }


def test_the_plan_without_options_names_the_changed_cell_parameter_and_input(tmp_path: Path) -> None:
    home, nb = tmp_path / "home", pipeline_nb(tmp_path / "nb.ipynb", train="model = x.sum()")
    first = as_json(kf(home, "run", str(nb), "--json"))
    rid = first["run_id"]
    set_cell(nb, 2, "%%step load\ndata = np.arange(12.0)")
    plan = {
        s["name"]: s for s in as_json(kf(home, "run", str(nb), "--plan", "--json", "-p", "scale=3"))["steps"]
    }
    assert plan["load"]["reasons"] == [f"cell 2 changed since run {rid}"]
    assert plan["prep"]["action"] == "run"
    assert plan["prep"]["reasons"][0].startswith(
        "input 'data' comes from upstream step 'load', which runs first"
    )
    set_cell(nb, 2, "%%step load\ndata = np.arange(10.0)")
    plan = {
        s["name"]: s for s in as_json(kf(home, "run", str(nb), "--plan", "--json", "-p", "scale=3"))["steps"]
    }
    assert plan["load"]["action"] == "cached"
    assert plan["prep"]["reasons"] == [f"parameter 'scale' changed (2 -> 3) since run {rid}"]
    as_json(kf(home, "run", str(nb), "--json", "-p", "scale=3"))
    plan = {s["name"]: s for s in as_json(kf(home, "run", str(nb), "--plan", "--json"))["steps"]}
    # prep ran last with scale=3: back at 2 it is cached from the first run, and says so
    assert plan["prep"] == {"name": "prep", "action": "cached", "reasons": [f"unchanged since run {rid}"]}


def test_only_runs_one_step_and_skips_the_ones_below(tmp_path: Path) -> None:
    home, nb = tmp_path / "home", pipeline_nb(tmp_path / "nb.ipynb", train="model = x.sum()")
    as_json(kf(home, "run", str(nb), "--json"))
    plan = as_json(kf(home, "run", str(nb), "--plan", "--json", "--only", "prep"))
    assert [(s["name"], s["action"]) for s in plan["steps"]] == [("load", "cached"), ("prep", "run")]
    body = as_json(kf(home, "run", str(nb), "--only", "prep", "--json"))
    assert body["status"] == "succeeded"
    assert statuses(body) == {
        "load": ("cached", True),
        "prep": ("succeeded", False),
        "train": ("skipped", False),
        "report": ("skipped", False),
    }


def test_an_upstream_step_not_in_the_cache_is_refused_before_anything_runs(tmp_path: Path) -> None:
    home, nb = tmp_path / "home", pipeline_nb(tmp_path / "nb.ipynb", train="model = x.sum()")
    first = as_json(kf(home, "run", str(nb), "--json"))
    set_cell(nb, 3, "%%step prep\nx = data * scale * 10")
    done = kf(home, "run", str(nb), "--from", "train", "--json")
    assert done.returncode == 2
    assert as_json(done)["error"]["message"] == (
        "--from train: upstream step 'prep' is needed, but the cache does not have its "
        f"outputs (cell 3 changed since run {first['run_id']}); run the whole notebook, or start from "
        "'prep' (or name an earlier run that has them with --reuse RUN)"
    )
    plan = kf(home, "run", str(nb), "--plan", "--from", "train")
    assert plan.returncode == 2 and "upstream step 'prep' is needed" in plan.stderr
    listed = json.loads(kf(home, "runs", "list", "--json").stdout)
    assert [r["id"] for r in listed["runs"]] == [first["run_id"]]


def test_reuse_takes_the_upstream_steps_from_the_named_run(tmp_path: Path) -> None:
    home, nb = tmp_path / "home", pipeline_nb(tmp_path / "nb.ipynb", train="model = x.sum()")
    first = as_json(kf(home, "run", str(nb), "--json"))
    rid = first["run_id"]
    set_cell(nb, 3, "%%step prep\nx = data * scale * 10")  # the cache no longer fits prep
    set_cell(nb, 4, "%%step train\nmodel = x.sum() + 1")
    plan = as_json(kf(home, "run", str(nb), "--plan", "--json", "--only", "train", "--reuse", rid))
    reused = f"taken from run {rid} (--reuse {rid})"
    assert plan["steps"][:2] == [
        {"name": "load", "action": "cached", "reasons": [reused]},
        {"name": "prep", "action": "cached", "reasons": [reused]},
    ]
    body = as_json(kf(home, "run", str(nb), "--only", "train", "--reuse", rid, "--json"))
    assert statuses(body)["prep"] == ("cached", True) and statuses(body)["train"] == ("succeeded", False)
    out = kf(home, "runs", "show", body["run_id"], "--json")
    assert out.returncode == 0
    missing = kf(home, "run", str(nb), "--only", "train", "--reuse", "260101-000000-none")
    assert missing.returncode == 2 and "--reuse: there is no run '260101-000000-none'" in missing.stderr
    alone = kf(home, "run", str(nb), "--reuse", rid)
    assert alone.returncode == 2 and "--reuse RUN goes with --from STEP or --only STEP" in alone.stderr


def test_the_environment_changing_is_named(
    tmp_path: Path, store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = pipeline_nb(tmp_path / "nb.ipynb", train="model = x.sum()")
    run = run_notebook(nb, store=store)
    from kfjupyter.runner import cache, stepinputs

    monkeypatch.setattr(cache, "environment_fingerprint", lambda: "another environment")
    monkeypatch.setattr(stepinputs, "environment_fingerprint", lambda: "another environment")
    plan = plan_notebook(nb, store=store)
    assert plan[0].reasons == [
        f"the environment changed (Python, kfjupyter or installed packages) since run {run.id}"
    ]
    with pytest.raises(InvalidInput, match="upstream step 'load' is needed"):
        plan_notebook(nb, store=store, only="report")


def test_a_run_says_what_changed_for_each_step_it_runs(tmp_path: Path, store: RunStore) -> None:
    """The live progress and the cache_miss event name the change, as the plan does."""
    nb = pipeline_nb(tmp_path / "nb.ipynb", train="model = x.sum()")
    first = run_notebook(nb, store=store)
    set_cell(nb, 4, "%%step train\nmodel = x.sum() * 2")
    seen: list[tuple[str, str, str]] = []
    second = run_notebook(nb, store=store, on_event=lambda *event: seen.append(event))
    assert ("train", "running", f"cell 4 changed since run {first.id}") in seen
    misses = [e for e in store.list_events(second.id) if e.type == "cache_miss"]
    assert [(e.step, e.payload["reasons"]) for e in misses] == [
        ("train", [f"cell 4 changed since run {first.id}"]),
        # the run knows the new value it hands on, so it names the input (the plan could only say
        # that 'train' runs first)
        ("report", [f"input 'model' from step 'train' changed since run {first.id}"]),
    ]
