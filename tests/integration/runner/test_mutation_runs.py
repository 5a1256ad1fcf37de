"""A step that changes an object it received hands the changed object on, as the notebook would."""

from __future__ import annotations

import json
from pathlib import Path

from kfjupyter.api import run_notebook
from kfjupyter.store import RunStore
from tests.support.notebooks import cell, write_notebook


def final_value(store: RunStore, run_id: str, step: str) -> object:
    """What a step printed as its last stdout line, parsed as JSON."""
    lines = [ln for ln in store.read_log(run_id, step).text.splitlines() if " stdout " in ln]
    return json.loads(lines[-1].split(" stdout ", 1)[1])


def test_item_assignment_in_a_later_step_reaches_the_readers_after_it(
    tmp_path: Path, store: RunStore
) -> None:
    nb = write_notebook(
        tmp_path / "setitem.ipynb",
        [
            cell("import json", "imports"),
            cell("df = {'a': 1}", "step:load"),
            cell("df['x'] = 1", "step:add_column"),
            cell("print(json.dumps(df, sort_keys=True))", "step:report"),
        ],
    )
    run = run_notebook(nb, store=store)
    assert run.status == "succeeded", run.to_json()
    assert final_value(store, run.id, "report") == {"a": 1, "x": 1}


def test_changes_through_a_loop_alias_reach_later_steps(tmp_path: Path, store: RunStore) -> None:
    nb = write_notebook(
        tmp_path / "alias.ipynb",
        [
            cell("import json", "imports"),
            cell("a = {'n': 1}\nb = {'n': 2}", "step:load"),
            cell("for d in [a, b]:\n    d['c'] = d['n'] * 10", "step:enrich"),
            cell("print(json.dumps([a, b], sort_keys=True))", "step:report"),
        ],
    )
    run = run_notebook(nb, store=store)
    assert run.status == "succeeded", run.to_json()
    assert final_value(store, run.id, "report") == [{"c": 10, "n": 1}, {"c": 20, "n": 2}]


def test_a_reader_before_the_change_still_sees_the_old_value(tmp_path: Path, store: RunStore) -> None:
    nb = write_notebook(
        tmp_path / "order.ipynb",
        [
            cell("import json", "imports"),
            cell("xs = [1]", "step:load"),
            cell("print(json.dumps(xs))", "step:before"),
            cell("xs.append(2)\nxs += [3]", "step:grow"),
            cell("print(json.dumps(xs))", "step:after"),
        ],
    )
    run = run_notebook(nb, store=store)
    assert run.status == "succeeded", run.to_json()
    assert final_value(store, run.id, "before") == [1]
    assert final_value(store, run.id, "after") == [1, 2, 3]


def test_changed_setup_objects_and_functions_changing_arguments(tmp_path: Path, store: RunStore) -> None:
    nb = write_notebook(
        tmp_path / "setup.ipynb",
        [
            cell("import json\nCONFIG = {'mode': 'fast'}", "imports"),
            cell(
                "def tag(d, value):\n    d['tag'] = value\n\ndef mode():\n    return CONFIG['mode']",
                "functions",
            ),
            cell("rows = [{'id': 1}]", "step:load"),
            cell("CONFIG['mode'] = 'slow'\nfor r in rows:\n    tag(r, 'seen')", "step:configure"),
            cell("print(json.dumps({'mode': mode(), 'rows': rows}, sort_keys=True))", "step:report"),
        ],
    )
    run = run_notebook(nb, store=store)
    assert run.status == "succeeded", run.to_json()
    assert final_value(store, run.id, "report") == {"mode": "slow", "rows": [{"id": 1, "tag": "seen"}]}


def test_a_change_the_analysis_cannot_see_fails_the_step_naming_it(tmp_path: Path, store: RunStore) -> None:
    nb = write_notebook(
        tmp_path / "hidden.ipynb",
        [
            cell("settings = {'k': 1}\nrows = [1]", "step:load"),
            cell("exec(\"settings['k'] = 2\")\nn = len(rows) + len(settings)", "step:sneaky"),
            cell("print(settings['k'], n)", "step:report"),
        ],
    )
    run = run_notebook(nb, store=store)
    assert run.status == "failed"
    sneaky = next(s for s in run.steps if s.name == "sneaky")
    assert sneaky.status == "failed"
    assert sneaky.error is not None
    assert "step 'sneaky' changed its input 'settings' in place" in sneaky.error
    assert "step 'report' reads 'settings' as made by step 'load'" in sneaky.error


def test_a_step_declared_pure_that_changes_an_input_fails(tmp_path: Path, store: RunStore) -> None:
    nb = write_notebook(
        tmp_path / "pure.ipynb",
        [
            cell(
                "class Box:\n    def __init__(self):\n        self.items = []\n\n    def grow(self):\n        self.items.append(1)",
                "functions",
            ),
            cell("box = Box()", "step:load"),
            cell("%%step look --pure\nbox.grow()"),
            cell("%%step count --pure\nn = len(box.items)"),
        ],
    )
    run = run_notebook(nb, store=store)
    look = next(s for s in run.steps if s.name == "look")
    assert look.status == "failed" and "changed its input 'box'" in (look.error or "")
    assert next(s for s in run.steps if s.name == "count").status == "succeeded"


def test_a_container_of_named_objects_made_in_one_step_and_changed_in_another(
    tmp_path: Path, store: RunStore
) -> None:
    nb = write_notebook(
        tmp_path / "combine.ipynb",
        [
            cell("import json", "imports"),
            cell("train = {'sex': 'male'}\ntest = {'sex': 'female'}\ncombine = [train, test]", "step:load"),
            cell(
                "for dataset in combine:\n    dataset['sex'] = 1 if dataset['sex'] == 'female' else 0",
                "step:encode",
            ),
            cell("train['age'] = 30", "step:fill"),
            cell("print(json.dumps([train, test, combine], sort_keys=True))", "step:report"),
        ],
    )
    run = run_notebook(nb, store=store)
    assert run.status == "succeeded", run.to_json()
    train, test = {"age": 30, "sex": 0}, {"sex": 1}
    assert final_value(store, run.id, "report") == [train, test, [train, test]]
