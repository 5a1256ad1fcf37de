"""The cache looks at the local modules a step imports and the files it reads (real runs)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from kfjupyter.api import Run, run_notebook
from kfjupyter.runner import forkserver
from kfjupyter.store import RunStore
from tests.support.notebooks import cell, write_notebook


def cached(run: Run) -> dict[str, bool]:
    """Step -> taken from the cache, for the notebook's own steps."""
    return {s.name: s.cached for s in run.steps if s.name != "pipeline_metrics"}


def same_as_fresh(nb: Path, store: RunStore) -> Run:
    """Run with the cache, check its metrics equal a ``--no-cache`` run's, return the cached run."""
    run = run_notebook(nb, store=store)
    fresh = run_notebook(nb, store=store, cache=False)
    assert run.status == fresh.status
    assert run.last_metrics() == fresh.last_metrics()
    return run


def rewrite(path: Path, text: str) -> None:
    """Change a file's content, with a later mtime even on coarse clocks."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    if path.stat().st_mtime_ns <= before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def project(tmp_path: Path, *, setup_import: bool) -> Path:
    (tmp_path / "inner.py").write_text("def base():\n    return 5\n")
    (tmp_path / "helper.py").write_text("from inner import base\n\ndef f(x):\n    return x + base()\n")
    (tmp_path / "data.txt").write_text("1\n")
    cells = [cell("import helper", "imports")] if setup_import else []
    body = "a = helper.f(0)" if setup_import else "import helper\na = helper.f(0)"
    cells += [
        cell(body, "step:uses_helper"),
        cell("with open('data.txt') as fh:\n    b = int(fh.read())", "step:reads_data"),
        cell("other = 3", "step:unrelated"),
        cell("c = a + b + other", "step:join"),
        cell("c", "pipeline-metrics"),
    ]
    return write_notebook(tmp_path / "nb.ipynb", cells)


def test_editing_an_imported_module_directly_or_through_another_reruns_the_step(
    tmp_path: Path, store: RunStore
) -> None:
    nb = project(tmp_path, setup_import=False)
    assert run_notebook(nb, store=store).last_metrics() == {"c": 9.0}
    rewrite(tmp_path / "helper.py", "from inner import base\n\ndef f(x):\n    return x + base() + 100\n")
    run = same_as_fresh(nb, store)
    assert run.last_metrics() == {"c": 109.0}
    assert cached(run) == {"uses_helper": False, "reads_data": True, "unrelated": True, "join": False}
    rewrite(tmp_path / "inner.py", "def base():\n    return 50\n")
    run = same_as_fresh(nb, store)
    assert run.last_metrics() == {"c": 154.0}
    assert cached(run)["uses_helper"] is False and cached(run)["reads_data"] is True


def test_a_module_imported_by_the_set_up_cells_is_tracked_and_never_stale(
    tmp_path: Path, store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The set-up imports are preloaded in the pooled step server, which (as in a kernel started
    # next to the notebook) finds the notebook's modules: an edit must still be seen.
    monkeypatch.chdir(tmp_path)
    forkserver._close_pool()
    nb = project(tmp_path, setup_import=True)
    assert run_notebook(nb, store=store).last_metrics() == {"c": 9.0}
    rewrite(tmp_path / "inner.py", "def base():\n    return 105\n")
    run = same_as_fresh(nb, store)
    assert run.last_metrics() == {"c": 109.0}
    assert cached(run)["uses_helper"] is False


def test_editing_a_read_file_reruns_the_reader(tmp_path: Path, store: RunStore) -> None:
    nb = project(tmp_path, setup_import=False)
    run_notebook(nb, store=store)
    rewrite(tmp_path / "data.txt", "101\n")
    run = same_as_fresh(nb, store)
    assert run.last_metrics() == {"c": 109.0}
    assert cached(run) == {"uses_helper": True, "reads_data": False, "unrelated": True, "join": False}


def test_touching_a_file_without_changing_it_keeps_the_cache(tmp_path: Path, store: RunStore) -> None:
    nb = project(tmp_path, setup_import=False)
    run_notebook(nb, store=store)
    later = time.time() + 5
    for name in ("data.txt", "helper.py", "inner.py"):
        os.utime(tmp_path / name, (later, later))
    run = same_as_fresh(nb, store)
    assert all(cached(run).values())
    assert run.last_metrics() == {"c": 9.0}


def test_deleting_a_read_file_runs_the_step_which_fails_clearly(tmp_path: Path, store: RunStore) -> None:
    nb = project(tmp_path, setup_import=False)
    run_notebook(nb, store=store)
    (tmp_path / "data.txt").unlink()
    run = run_notebook(nb, store=store)
    fresh = run_notebook(nb, store=store, cache=False)
    assert run.status == fresh.status == "failed"
    step = next(s for s in run.steps if s.name == "reads_data")
    assert not step.cached and step.status == "failed"
    assert "FileNotFoundError" in (step.error or "") and "data.txt" in (step.error or "")


def test_a_new_file_in_a_listed_folder_reruns_the_step(tmp_path: Path, store: RunStore) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "a.txt").write_text("1")
    nb = write_notebook(
        tmp_path / "glob.ipynb",
        [
            cell(
                "import glob\ntotal = sum(int(open(p).read()) for p in sorted(glob.glob('parts/*.txt')))",
                "step:add_up",
            ),
            cell("total", "pipeline-metrics"),
        ],
    )
    assert run_notebook(nb, store=store).last_metrics() == {"total": 1.0}
    (folder / "b.txt").write_text("10")
    run = same_as_fresh(nb, store)
    assert run.last_metrics() == {"total": 11.0} and cached(run) == {"add_up": False}


def test_a_module_imported_only_by_unpickling_an_input_is_tracked(tmp_path: Path, store: RunStore) -> None:
    # The object travels pickled by reference to its class in shapes.py; the consumer never imports
    # shapes itself, yet runs its methods.
    (tmp_path / "shapes.py").write_text("class Square:\n    def area(self):\n        return 4\n")
    nb = write_notebook(
        tmp_path / "objects.ipynb",
        [
            cell("import shapes\nsq = shapes.Square()", "step:make"),
            cell("area = sq.area()", "step:use"),
            cell("area", "pipeline-metrics"),
        ],
    )
    assert run_notebook(nb, store=store).last_metrics() == {"area": 4.0}
    rewrite(tmp_path / "shapes.py", "class Square:\n    def area(self):\n        return 9\n")
    run = same_as_fresh(nb, store)
    assert run.last_metrics() == {"area": 9.0}
    assert cached(run) == {"make": False, "use": False}
