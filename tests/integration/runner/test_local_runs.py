"""Real notebooks run end to end in real processes by the local runner."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from kfjupyter.api import run_notebook
from kfjupyter.errors import InvalidInput
from kfjupyter.store import RunStore
from tests.support.notebooks import cell, write_notebook


def statuses(run) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {s.name: s.status for s in run.steps}


def test_diamond_passes_values_and_metrics(tmp_path: Path, store: RunStore) -> None:
    nb = write_notebook(
        tmp_path / "diamond.ipynb",
        [
            cell("import numpy as np\nimport kfjupyter", "imports"),
            cell("n = 4", "pipeline-parameters"),
            cell("a = np.arange(n)", "step:make"),
            cell("b = a * 2\nkfjupyter.log_metric('b_sum', float(b.sum()))", "step:double"),
            cell("c = a + 1", "step:inc"),
            cell("total = int(b.sum() + c.sum())\nprint('total is', total)", "step:join"),
            cell("total", "pipeline-metrics"),
        ],
    )
    run = run_notebook(nb, overrides=["n=5"], store=store)
    assert run.status == "succeeded", run.to_json()
    assert set(statuses(run).values()) == {"succeeded"}
    assert run.last_metrics() == {"b_sum": 20.0, "total": 35.0}
    log = store.read_log(run.id, "join").text
    assert "stdout total is 35" in log
    values = {(a.step, a.name) for a in store.list_artifacts(run.id) if a.kind == "value"}
    assert ("make", "a") in values and ("join", "total") in values


def test_rerun_hits_the_cache_and_a_parameter_change_reruns_only_readers(
    tmp_path: Path, store: RunStore
) -> None:
    nb = write_notebook(
        tmp_path / "p.ipynb",
        [
            cell("x = 1\ny = 2", "pipeline-parameters"),
            cell("a = x + 1", "step:uses_x"),
            cell("b = y + 1", "step:uses_y"),
        ],
    )
    first = run_notebook(nb, store=store)
    assert first.status == "succeeded"
    again = run_notebook(nb, store=store)
    assert all(s.cached for s in again.steps)
    changed = run_notebook(nb, overrides=["y=5"], store=store)
    assert {s.name: s.cached for s in changed.steps} == {"uses_x": True, "uses_y": False}
    uncached = run_notebook(nb, store=store, cache=False)
    assert not any(s.cached for s in uncached.steps)


def test_failure_marks_downstream_and_lets_other_branches_finish(tmp_path: Path, store: RunStore) -> None:
    nb = write_notebook(
        tmp_path / "fail.ipynb",
        [
            cell("a = 1", "step:root"),
            cell("b = a / 0", "step:broken"),
            cell("c = b + 1", "step:after_broken"),
            cell("import time\ntime.sleep(0.3)\nd = a + 1", "step:other"),
        ],
    )
    run = run_notebook(nb, store=store)
    assert run.status == "failed"
    assert statuses(run) == {
        "root": "succeeded",
        "broken": "failed",
        "after_broken": "upstream_failed",
        "other": "succeeded",
    }
    broken = next(s for s in run.steps if s.name == "broken")
    assert broken.error is not None and "ZeroDivisionError" in broken.error and "cell 1" in broken.error


def test_a_failing_step_logs_its_traceback_once_naming_the_cell_one_way(
    tmp_path: Path, store: RunStore
) -> None:
    nb = write_notebook(
        tmp_path / "once.ipynb",
        [
            cell("rows = [1, 2, 3]", "step:extract"),
            cell("def check(r):\n    raise ValueError('3 negative values')", "functions"),
            cell("print('validating', len(rows))\ncheck(rows)", "step:validate"),
        ],
    )
    run = run_notebook(nb, store=store)
    assert statuses(run)["validate"] == "failed"
    log = store.read_log(run.id, "validate").text
    assert log.count("Traceback (most recent call last)") == 1
    stderr = [line.split(" stderr ", 1)[1] for line in log.splitlines() if " stderr " in line]
    assert stderr[0] == "cell 2 of step 'validate' raised ValueError: 3 negative values"
    assert '  File "cell 2", line 2, in <module>' in stderr
    assert '  File "cell 1", line 2, in check' in stderr  # the set-up cell that defined it
    assert "ipython-input" not in log and "Cell In[" not in log
    assert " stdout validating 3" in log and not any(
        "Traceback" in line for line in log.splitlines() if " stdout " in line
    )


def test_fixing_a_failed_step_reruns_only_what_changed_or_failed(tmp_path: Path, store: RunStore) -> None:
    cells = [
        cell("a = 41", "step:root"),
        cell("b = a + undefined_yet", "step:add"),
        cell("c = b", "step:last"),
    ]
    cells[1] = cell("b = a + int('x')", "step:add")
    nb = write_notebook(tmp_path / "fix.ipynb", cells)
    assert run_notebook(nb, store=store).status == "failed"
    cells[1] = cell("b = a + 1", "step:add")
    write_notebook(nb, cells)
    run = run_notebook(nb, store=store)
    assert run.status == "succeeded"
    assert {s.name: s.cached for s in run.steps} == {"root": True, "add": False, "last": False}


def test_retries_and_timeouts(tmp_path: Path, store: RunStore) -> None:
    marker = tmp_path / "attempts"
    nb = write_notebook(
        tmp_path / "retry.ipynb",
        [
            cell(
                "%%step flaky --retries 2\n"
                f"p = {str(marker)!r}\n"
                "import os\n"
                "n = len(open(p).read()) if os.path.exists(p) else 0\n"
                "open(p, 'a').write('x')\n"
                "assert n >= 1, 'first attempt fails'\n"
                "ok = True"
            ),
            cell("%%step slow --timeout 0.5\nimport time\ntime.sleep(30)"),
        ],
    )
    started = time.monotonic()
    run = run_notebook(nb, store=store)
    assert time.monotonic() - started < 15
    flaky = next(s for s in run.steps if s.name == "flaky")
    slow = next(s for s in run.steps if s.name == "slow")
    assert flaky.status == "succeeded" and flaky.attempt == 2
    assert slow.status == "failed" and "timed out after 0.5 s" in (slow.error or "")


def test_a_step_killed_by_a_signal_is_reported_with_the_signal(tmp_path: Path, store: RunStore) -> None:
    nb = write_notebook(
        tmp_path / "kill.ipynb",
        [cell("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "step:suicide")],
    )
    run = run_notebook(nb, store=store)
    (step,) = run.steps
    assert step.status == "failed" and step.error == "step 'suicide' was killed by SIGKILL"


def test_magics_and_shell_work_in_steps(tmp_path: Path, store: RunStore) -> None:
    nb = write_notebook(
        tmp_path / "magic.ipynb",
        [
            cell("%time x = 21\nout = !echo hello\nword = out[0]", "step:m"),
            cell("y = x * 2\nprint(word)", "step:n"),
        ],
    )
    run = run_notebook(nb, store=store)
    assert run.status == "succeeded", run.to_json()
    assert "hello" in store.read_log(run.id, "n").text


def test_lint_errors_stop_the_run_before_anything_runs(tmp_path: Path, store: RunStore) -> None:
    nb = write_notebook(
        tmp_path / "bad.ipynb", [cell("a = 1", "step:one"), cell("b = nowhere + 1", "step:two")]
    )
    with pytest.raises(InvalidInput, match="nowhere"):
        run_notebook(nb, store=store)
    assert store.list_runs() == []


def test_an_unknown_or_mistyped_parameter_is_refused(tmp_path: Path, store: RunStore) -> None:
    nb = write_notebook(tmp_path / "p.ipynb", [cell("n = 3", "pipeline-parameters"), cell("m = n", "step:s")])
    with pytest.raises(InvalidInput, match="nope"):
        run_notebook(nb, overrides=["nope=1"], store=store)
    with pytest.raises(InvalidInput, match="n"):
        run_notebook(nb, overrides=["n=three"], store=store)


def test_figures_become_artifacts(tmp_path: Path, store: RunStore) -> None:
    nb = write_notebook(
        tmp_path / "fig.ipynb",
        [
            cell("import matplotlib.pyplot as plt", "imports"),
            cell("fig, ax = plt.subplots()\nax.plot([1, 2, 3], [3, 1, 2])\npoints = 3", "step:plot"),
        ],
    )
    run = run_notebook(nb, store=store)
    assert run.status == "succeeded", run.to_json()
    (figure,) = [a for a in store.list_artifacts(run.id) if a.kind == "figure"]
    assert figure.media_type == "image/png" and figure.step == "plot"
    assert store.resolve(figure.path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_caller_chosen_run_id_is_used_and_checked(tmp_path: Path, store: RunStore) -> None:
    nb = write_notebook(tmp_path / "id.ipynb", [cell("a = 1", "step:one")])
    run = run_notebook(nb, store=store, run_id="my-run.1")
    assert run.id == "my-run.1" and store.get_run("my-run.1").status == "succeeded"
    with pytest.raises(InvalidInput, match="not valid"):
        run_notebook(nb, store=store, run_id="../etc")


def test_pooled_step_servers_run_steps_in_the_callers_current_environment(
    tmp_path: Path, store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = write_notebook(
        tmp_path / "env.ipynb", [cell("import os\nprint('value', os.environ.get('KFJ_PROBE'))", "step:show")]
    )
    seen = []
    for value in ("first", "second"):
        monkeypatch.setenv("KFJ_PROBE", value)
        run = run_notebook(nb, store=store, cache=False)
        seen.append(store.read_log(run.id, "show").text.split("value ", 1)[1].strip())
    assert seen == ["first", "second"]


def test_outputs_pass_through_scratch_and_end_up_in_the_run_folder(
    tmp_path: Path, store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "shm"
    scratch.mkdir()
    monkeypatch.setenv("KFJUPYTER_SCRATCH", str(scratch))
    nb = write_notebook(
        tmp_path / "s.ipynb",
        [
            cell("import numpy as np\na = np.arange(1000.0)", "step:make"),
            cell("total = float(a.sum())", "step:use"),
        ],
    )
    run = run_notebook(nb, store=store)
    assert run.status == "succeeded"
    (value,) = [x for x in store.list_artifacts(run.id) if x.kind == "value" and x.name == "a"]
    kept = store.resolve(value.path)
    assert kept.is_relative_to(store.run_dir(run.id)) and kept.exists()
    assert not any((scratch / f"kfjupyter-{os.getuid()}").iterdir())  # the run's scratch is gone
    again = run_notebook(nb, store=store)
    assert all(s.cached for s in again.steps)  # the cache points at the kept copies


def test_without_scratch_outputs_go_straight_to_disk(
    tmp_path: Path, store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KFJUPYTER_SCRATCH", "off")
    nb = write_notebook(
        tmp_path / "d.ipynb", [cell("a = [1, 2]", "step:make"), cell("b = a + [3]", "step:use")]
    )
    run = run_notebook(nb, store=store)
    assert run.status == "succeeded"
    assert any(x.name == "a" and x.kind == "value" for x in store.list_artifacts(run.id))
