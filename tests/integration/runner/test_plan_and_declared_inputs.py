"""``kfjupyter run --plan`` names why each step runs, and says what the runner then does;
steps may declare files and environment variables the cache cannot see them read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kfjupyter.api import plan_notebook, run_notebook
from kfjupyter.store import RunStore
from tests.integration.runner.test_cache_reads import project, rewrite
from tests.support.cli import kf
from tests.support.notebooks import cell, write_notebook


def planned(home: Path, nb: Path, *extra: str) -> dict[str, Any]:
    done = kf(home, "run", str(nb), "--plan", "--json", *extra)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert set(body) == {"steps"}
    return {s["name"]: s for s in body["steps"]}


def ran(home: Path, nb: Path) -> dict[str, bool]:
    done = kf(home, "run", str(nb), "--json")
    assert done.returncode == 0, done.stderr
    return {s["name"]: s["cached"] for s in json.loads(done.stdout)["steps"]}


def test_the_plan_names_the_changed_module_and_file_and_matches_the_run(tmp_path: Path) -> None:
    home = tmp_path / "home"
    nb = project(tmp_path, setup_import=False)
    first = planned(home, nb)
    assert {n: s["action"] for n, s in first.items()} == dict.fromkeys(first, "run")
    assert all(s["reasons"] for s in first.values())
    assert not (home / "runs").exists() or not any((home / "runs").iterdir())  # the plan ran nothing
    ran(home, nb)
    again = planned(home, nb)
    assert {n: s["action"] for n, s in again.items()} == dict.fromkeys(again, "cached")
    assert all(s["reasons"][0].startswith("unchanged since run ") for s in again.values())

    rewrite(tmp_path / "inner.py", "def base():\n    return 7\n")
    rewrite(tmp_path / "data.txt", "2\n")
    plan = planned(home, nb)
    helper_reasons = plan["uses_helper"]["reasons"]
    assert any(f"module 'inner' changed ({tmp_path / 'inner.py'})" == r for r in helper_reasons)
    assert plan["reads_data"]["reasons"] == [f"file {tmp_path / 'data.txt'} changed"]
    assert plan["join"]["action"] == "run" and "upstream step" in plan["join"]["reasons"][0]
    assert plan["unrelated"]["action"] == "cached"
    # What the runner then does is what the plan said, step by step.
    assert ran(home, nb) == {n: s["action"] == "cached" for n, s in plan.items()}

    (tmp_path / "data.txt").unlink()
    gone = planned(home, nb)
    assert gone["reads_data"] == {
        "name": "reads_data",
        "action": "run",
        "reasons": [f"file {tmp_path / 'data.txt'} was deleted"],
    }
    text = kf(home, "run", str(nb), "--plan")
    assert text.returncode == 0 and f"file {tmp_path / 'data.txt'} was deleted" in text.stdout
    assert planned(home, nb, "--no-cache")["unrelated"]["reasons"] == [
        "caching is off for this run (--no-cache)"
    ]


def test_declared_files_and_environment_variables_join_the_cache_key(
    tmp_path: Path, store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "a.cfg").write_text("1")
    # Read by a subprocess: the step's own process never opens the file, so only a declaration helps.
    blind = "out = !cat conf/*.cfg\nvalue = sum(int(x) for x in out) + int(os.environ.get('SCALE', '1'))"
    nb = write_notebook(
        tmp_path / "declared.ipynb",
        [
            cell("import os", "imports"),
            cell(f"%%step declared --depends-on 'conf/*.cfg' --depends-on-env SCALE\n{blind}"),
            cell(f"%%step undeclared\n{blind.replace('value', 'other')}"),
        ],
    )
    monkeypatch.setenv("SCALE", "1")
    run_notebook(nb, store=store)
    (tmp_path / "conf" / "b.cfg").write_text("10")
    after_new_file = {s.name: s.cached for s in run_notebook(nb, store=store).steps}
    assert after_new_file == {"declared": False, "undeclared": True}  # the undeclared one is blind to it
    monkeypatch.setenv("SCALE", "2")
    after_env = {s.name: s.cached for s in run_notebook(nb, store=store).steps}
    assert after_env == {"declared": False, "undeclared": True}
    assert plan_notebook(nb, store=store)[0].action == "cached"
    rewrite(tmp_path / "conf" / "a.cfg", "5")
    (step,) = [p for p in plan_notebook(nb, store=store) if p.name == "declared"]
    assert step.action == "run"
