"""Property: over small random notebooks, edits and selections, the plan is what the runner then does.

Every edit changes the value its step produces (a constant goes up, a parameter changes), so a step
the plan runs because an upstream step runs first really gets a new input: the runner cannot reuse
it either. A plan that refuses (a needed step is not cached) makes the run refuse the same way,
before any run is recorded.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kfjupyter.api import plan_notebook, run_notebook
from kfjupyter.errors import InvalidInput
from kfjupyter.store import open_store
from tests.support.notebooks import cell, write_notebook


@dataclass(frozen=True)
class Shape:
    deps: tuple[tuple[int, ...], ...]  # step i reads the values of these earlier steps
    reads_p: tuple[bool, ...]


@st.composite
def shapes(draw: st.DrawFn) -> Shape:
    n = draw(st.integers(2, 5))
    deps = tuple(
        tuple(sorted(draw(st.sets(st.integers(0, i - 1), max_size=2)))) if i else () for i in range(n)
    )
    return Shape(deps, tuple(draw(st.booleans()) for _ in range(n)))


def write(path: Path, shape: Shape, constants: list[int]) -> Path:
    cells = [cell("p = 1", "pipeline-parameters")]
    for i, ups in enumerate(shape.deps):
        terms = [str(constants[i])] + [f"v{j}" for j in ups] + (["p"] if shape.reads_p[i] else [])
        cells.append(cell(f"%%step s{i}\nv{i} = {' + '.join(terms)}"))
    last = len(shape.deps) - 1
    cells.append(cell(f"%%step total\ntotal = {' + '.join(f'v{i}' for i in range(last + 1))}"))
    return write_notebook(path, cells)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=shapes(),
    edited=st.sets(st.integers(0, 4), max_size=2),
    new_p=st.sampled_from([1, 2]),
    option=st.sampled_from(["", "from", "only"]),
    pick=st.integers(0, 5),
    reuse_first=st.booleans(),
)
def test_the_plan_is_what_the_runner_does(
    shape: Shape, edited: set[int], new_p: int, option: str, pick: int, reuse_first: bool
) -> None:
    n = len(shape.deps)
    with tempfile.TemporaryDirectory(prefix="kf-plan-") as tmp, open_store(Path(tmp) / "home") as store:
        nb = write(Path(tmp) / "nb.ipynb", shape, [10 * (i + 1) for i in range(n)])
        first = run_notebook(nb, store=store)
        assert first.status == "succeeded"
        write(nb, shape, [10 * (i + 1) + (1 if i in edited else 0) for i in range(n)])
        names = [f"s{i}" for i in range(n)] + ["total"]
        target = names[pick % len(names)]
        kwargs: dict[str, str | None] = {
            "from_step": target if option == "from" else None,
            "only": target if option == "only" else None,
            "reuse_run": first.id if option and reuse_first else None,
        }
        overrides = [f"p={new_p}"]
        try:
            plan = plan_notebook(nb, overrides=overrides, store=store, **kwargs)  # type: ignore[arg-type]
        except InvalidInput as refused:
            event(f"{option or 'all'}: refused")
            with pytest.raises(InvalidInput) as error:
                run_notebook(nb, overrides=overrides, store=store, **kwargs)  # type: ignore[arg-type]
            assert error.value.message == refused.message
            assert [r.id for r in store.list_runs()] == [first.id]
            return
        run = run_notebook(nb, overrides=overrides, store=store, **kwargs)  # type: ignore[arg-type]
        event(f"{option or 'all'}: ran {sum(p.action == 'run' for p in plan)} of {len(plan)}")
        assert run.status == "succeeded", [s.error for s in run.steps]
        did = {s.name: "cached" if s.cached else "run" for s in run.steps if s.status != "skipped"}
        assert {p.name: p.action for p in plan} == did
        assert [p.name for p in plan] == [s.name for s in run.steps if s.status != "skipped"]
        assert all(p.reasons for p in plan)
