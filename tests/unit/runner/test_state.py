"""Table-driven tests of the pure scheduling state machine (no processes, no clock)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest

from kfjupyter.errors import InvalidInput, KfJupyterError
from kfjupyter.runner.state import InvalidTransitionError, Scheduler, StepState

CHAIN = {"a": [], "b": ["a"], "c": ["b"]}
DIAMOND = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}
FAN = {"src": [], "m1": ["src"], "m2": ["src"], "m3": ["src"], "join": ["m1", "m2", "m3"]}
TWO_BRANCHES = {"a": [], "a2": ["a"], "x": [], "x2": ["x"]}

S = StepState


def run_fake(
    sched: Scheduler, results: Mapping[str, Sequence[str]]
) -> tuple[list[str], int, dict[str, bool]]:
    """Drive the scheduler like an executor: start everything ready, finish the oldest running step.

    ``results`` lists per step what each attempt does: "ok", "cached" or "fail" (default "ok").
    Returns the start order, the highest number of steps running at once and fail() answers.
    """
    started: list[str] = []
    running: list[str] = []
    peak = 0
    retried: dict[str, bool] = {}
    while not sched.done:
        for name in sched.next_ready():
            sched.start(name)
            started.append(name)
            running.append(name)
        peak = max(peak, len(sched.running))
        assert running, "nothing running and nothing ready, but the run is not done"
        name = running.pop(0)
        plan = results.get(name, ())
        result = plan[sched.attempt(name) - 1] if sched.attempt(name) <= len(plan) else "ok"
        if result == "fail":
            retried[f"{name}#{sched.attempt(name)}"] = sched.fail(name, f"{name} broke")
        else:
            sched.succeed(name, cached=result == "cached")
    return started, peak, retried


@dataclass
class Case:
    id: str
    dag: dict[str, list[str]]
    expected: dict[str, StepState]
    outcome: str
    order: list[str]
    results: dict[str, list[str]] = field(default_factory=dict)
    retries: dict[str, int] = field(default_factory=dict)
    max_parallel: int = 4
    done: set[str] = field(default_factory=set)
    peak: int | None = None
    attempts: dict[str, int] = field(default_factory=dict)


CASES = [
    Case("chain", CHAIN, dict.fromkeys(CHAIN, S.SUCCEEDED), "succeeded", ["a", "b", "c"], peak=1),
    Case("diamond", DIAMOND, dict.fromkeys(DIAMOND, S.SUCCEEDED), "succeeded", ["a", "b", "c", "d"], peak=2),
    Case(
        "fan-out/fan-in",
        FAN,
        dict.fromkeys(FAN, S.SUCCEEDED),
        "succeeded",
        ["src", "m1", "m2", "m3", "join"],
        peak=3,
    ),
    Case(
        "max_parallel=2 limits the fan-out",
        FAN,
        dict.fromkeys(FAN, S.SUCCEEDED),
        "succeeded",
        ["src", "m1", "m2", "m3", "join"],
        max_parallel=2,
        peak=2,
    ),
    Case(
        "max_parallel=1 runs one at a time, ready steps in DAG order",
        TWO_BRANCHES,
        dict.fromkeys(TWO_BRANCHES, S.SUCCEEDED),
        "succeeded",
        ["a", "a2", "x", "x2"],
        max_parallel=1,
        peak=1,
    ),
    Case(
        "failure in one diamond branch: the other finishes, the join is upstream_failed",
        DIAMOND,
        {"a": S.SUCCEEDED, "b": S.FAILED, "c": S.SUCCEEDED, "d": S.UPSTREAM_FAILED},
        "failed",
        ["a", "b", "c"],
        results={"b": ["fail"]},
    ),
    Case(
        "failure at the root fails everything below it",
        CHAIN,
        {"a": S.FAILED, "b": S.UPSTREAM_FAILED, "c": S.UPSTREAM_FAILED},
        "failed",
        ["a"],
        results={"a": ["fail"]},
    ),
    Case(
        "unrelated branch goes on after a failure",
        TWO_BRANCHES,
        {"a": S.FAILED, "a2": S.UPSTREAM_FAILED, "x": S.SUCCEEDED, "x2": S.SUCCEEDED},
        "failed",
        ["a", "x", "x2"],
        results={"a": ["fail"]},
    ),
    Case(
        "retry then success",
        CHAIN,
        dict.fromkeys(CHAIN, S.SUCCEEDED),
        "succeeded",
        ["a", "b", "b", "c"],
        results={"b": ["fail", "ok"]},
        retries={"b": 2},
        attempts={"a": 1, "b": 2, "c": 1},
    ),
    Case(
        "retries exhausted",
        CHAIN,
        {"a": S.SUCCEEDED, "b": S.FAILED, "c": S.UPSTREAM_FAILED},
        "failed",
        ["a", "b", "b"],
        results={"b": ["fail", "fail"]},
        retries={"b": 1},
        attempts={"a": 1, "b": 2, "c": 0},
    ),
    Case(
        "cached steps unblock their downstream",
        DIAMOND,
        {"a": S.CACHED, "b": S.SUCCEEDED, "c": S.CACHED, "d": S.SUCCEEDED},
        "succeeded",
        ["a", "b", "c", "d"],
        results={"a": ["cached"], "c": ["cached"]},
    ),
    Case(
        "resume: seeded steps are not run again",
        DIAMOND,
        {"a": S.CACHED, "b": S.CACHED, "c": S.SUCCEEDED, "d": S.SUCCEEDED},
        "succeeded",
        ["c", "d"],
        done={"a", "b"},
        attempts={"a": 0, "b": 0, "c": 1, "d": 1},
    ),
    Case(
        "resume with everything done has nothing to run",
        CHAIN,
        dict.fromkeys(CHAIN, S.CACHED),
        "succeeded",
        [],
        done=set(CHAIN),
    ),
    Case("empty pipeline", {}, {}, "succeeded", []),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_runs(case: Case) -> None:
    sched = Scheduler(case.dag, max_parallel=case.max_parallel, retries=case.retries, done=case.done)
    order, peak, _ = run_fake(sched, case.results)
    assert sched.statuses() == case.expected
    assert sched.outcome == case.outcome
    assert order == case.order
    if case.peak is not None:
        assert peak == case.peak
    for name, count in case.attempts.items():
        assert sched.attempt(name) == count


def test_failure_propagates_before_the_other_branch_finishes() -> None:
    sched = Scheduler(DIAMOND, max_parallel=2)
    sched.start("a")
    sched.succeed("a")
    assert sched.next_ready() == ["b", "c"]
    sched.start("b")
    sched.start("c")
    assert sched.fail("b", "boom") is False
    assert sched.status("d") is S.UPSTREAM_FAILED
    assert sched.error("b") == "boom"
    assert not sched.done
    assert sched.next_ready() == []
    sched.succeed("c")
    assert sched.done
    assert sched.outcome == "failed"


def test_retry_waits_as_pending_and_is_offered_again() -> None:
    sched = Scheduler(CHAIN, max_parallel=1, retries={"a": 1})
    sched.start("a")
    assert sched.fail("a", "flaky") is True
    assert sched.status("a") is S.PENDING
    assert sched.attempt("a") == 1
    assert sched.max_attempts("a") == 2
    assert sched.next_ready() == ["a"]
    sched.start("a")
    assert sched.attempt("a") == 2
    sched.succeed("a")
    assert sched.error("a") is None


def test_cancel_with_running_steps() -> None:
    sched = Scheduler(FAN, max_parallel=2)
    sched.start("src")
    sched.succeed("src")
    sched.start("m1")
    sched.start("m2")
    assert sched.cancel() == ["m1", "m2"]
    assert sched.cancelling
    assert sched.status("m3") is S.CANCELLED
    assert sched.status("join") is S.CANCELLED
    assert sched.next_ready() == []
    assert not sched.done
    assert sched.cancel() == ["m1", "m2"]
    assert sched.fail("m1", "killed") is False
    assert sched.status("m1") is S.CANCELLED
    sched.succeed("m2")
    assert sched.status("m2") is S.SUCCEEDED
    assert sched.done
    assert sched.outcome == "cancelled"


def test_cancel_does_not_retry_the_killed_step() -> None:
    sched = Scheduler(CHAIN, max_parallel=1, retries={"a": 3})
    sched.start("a")
    assert sched.cancel() == ["a"]
    assert sched.fail("a", "killed") is False
    assert sched.statuses() == dict.fromkeys(CHAIN, S.CANCELLED)


def test_cancel_after_the_run_finished_changes_nothing() -> None:
    sched = Scheduler({"a": []}, max_parallel=1)
    sched.start("a")
    sched.succeed("a")
    assert sched.cancel() == []
    assert sched.outcome == "succeeded"


INVALID_EVENTS = [
    ("start twice", lambda s: (s.start("a"), s.start("a")), "cannot start step 'a': it is running"),
    ("start before upstream", lambda s: s.start("b"), "its upstream step 'a' is pending"),
    ("succeed before start", lambda s: s.succeed("a"), "cannot succeed step 'a': it is pending, not running"),
    ("fail before start", lambda s: s.fail("a"), "cannot fail step 'a': it is pending, not running"),
    ("succeed twice", lambda s: (s.start("a"), s.succeed("a"), s.succeed("a")), "it is succeeded"),
    ("unknown step", lambda s: s.status("zz"), "unknown step 'zz'"),
    ("start after cancel", lambda s: (s.cancel(), s.start("a")), "the run is being cancelled"),
    ("outcome before done", lambda s: s.outcome, "steps 'a' (pending)"),
]


@pytest.mark.parametrize(
    ("event", "message"), [(e, m) for _, e, m in INVALID_EVENTS], ids=[i for i, _, _ in INVALID_EVENTS]
)
def test_invalid_transitions(event: object, message: str) -> None:
    sched = Scheduler(DIAMOND, max_parallel=2)
    with pytest.raises(InvalidTransitionError) as info:
        event(sched)  # type: ignore[operator]
    assert message in str(info.value)
    assert isinstance(info.value, KfJupyterError)


def test_start_beyond_max_parallel() -> None:
    sched = Scheduler(FAN, max_parallel=1)
    sched.start("src")
    sched.succeed("src")
    sched.start("m1")
    assert sched.next_ready() == []
    with pytest.raises(InvalidTransitionError, match=r"1 steps already run \(max_parallel\)"):
        sched.start("m2")


INVALID_INPUTS = [
    ("unknown upstream", {"a": ["zz"]}, {}, (), 1, "step 'a' depends on 'zz', which is not a step"),
    ("not topological", {"b": ["a"], "a": []}, {}, (), 1, "comes later"),
    ("self loop", {"a": ["a"]}, {}, (), 1, "depends on itself"),
    ("max_parallel 0", CHAIN, {}, (), 0, "max_parallel must be at least 1"),
    ("negative retries", CHAIN, {"a": -1}, (), 1, "retries cannot be negative"),
    ("retries for unknown step", CHAIN, {"zz": 1}, (), 1, "unknown step 'zz'"),
    ("resume unknown step", CHAIN, {}, ("zz",), 1, "the pipeline has no such step"),
    ("resume without upstream", CHAIN, {}, ("b",), 1, "its upstream step 'a' runs again"),
]


@pytest.mark.parametrize(
    ("dag", "retries", "done", "max_parallel", "message"),
    [case[1:] for case in INVALID_INPUTS],
    ids=[case[0] for case in INVALID_INPUTS],
)
def test_invalid_construction(
    dag: dict[str, list[str]], retries: dict[str, int], done: tuple[str, ...], max_parallel: int, message: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        Scheduler(dag, max_parallel=max_parallel, retries=retries, done=done)
    assert message in str(info.value)


def test_duplicate_upstream_is_harmless() -> None:
    sched = Scheduler({"a": [], "b": ["a", "a"]}, max_parallel=1)
    assert run_fake(sched, {})[0] == ["a", "b"]


def test_state_module_is_pure() -> None:
    import ast
    from pathlib import Path

    import kfjupyter.runner.state as state

    tree = ast.parse(Path(state.__file__).read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {
        (node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    }
    assert not imported & {"subprocess", "asyncio", "threading", "multiprocessing", "os", "time"}


def test_for_pipeline_takes_edges_and_retries_from_the_ir() -> None:
    from kfjupyter.compiler.ir import CodeBlock, Pipeline, Step, StepSettings

    code = [CodeBlock(cell=0, source="pass")]
    pipeline = Pipeline(
        name="p",
        steps=[
            Step(name="load", blocks=code),
            Step(name="clean", blocks=code, inputs={"df": "load"}, settings=StepSettings(retries=2)),
            Step(name="report", blocks=code, after=["load"], inputs={"model": "clean"}),
        ],
    )
    sched = Scheduler.for_pipeline(pipeline, max_parallel=2, done={"load"})
    assert sched.statuses() == {"load": S.CACHED, "clean": S.PENDING, "report": S.PENDING}
    assert sched.max_attempts("clean") == 3
    assert sched.next_ready() == ["clean"]
