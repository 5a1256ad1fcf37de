"""Whether a step's cached outputs may be reused, and if not, why it runs.

One function decides, :func:`decide`; the local runner calls it for every ready step and the plan
(``kfjupyter run --plan``) calls it for every step whose inputs are known, so the plan says what
the runner then does. A hit needs caching on (for the run and the step), an entry under the step's
cache key, every output file still there, and everything the step read when it ran (local modules,
files, folders; see :mod:`kfjupyter.runner.tracking`) unchanged.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kfjupyter.compiler.ir import JsonValue, Pipeline, Step
from kfjupyter.errors import InvalidInput, NotFound
from kfjupyter.runner import planning, stepinputs
from kfjupyter.runner.job import SavedOutput, TrackedRead
from kfjupyter.runner.selection import EVERYTHING, Selection
from kfjupyter.runner.tracking import check_reads
from kfjupyter.store import CachedRead, CacheEntry, RunStore

NO_ENTRY = "no cached result for this step's code, set-up, parameters and inputs"
NO_CACHE_RUN = "caching is off for this run (--no-cache)"
NO_CACHE_STEP = "caching is off for this step (its cache setting)"
#: Reasons not worth a line in the live progress (the plan still lists them).
ROUTINE = frozenset({NO_ENTRY, NO_CACHE_RUN, NO_CACHE_STEP})


@dataclass
class Decision:
    """Run the step, or reuse ``entry`` (with ``outputs``); ``reasons`` say why."""

    key: str
    entry: CacheEntry | None = None
    outputs: list[SavedOutput] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def cached(self) -> bool:
        """Whether the cached outputs are reused."""
        return self.entry is not None


def to_tracked(read: CachedRead) -> TrackedRead:
    """A stored read as the runner's dataclass."""
    return TrackedRead(
        kind=read.kind,
        path=read.path,
        size=read.size,
        mtime_ns=read.mtime_ns,
        sha256=read.sha256,
        name=read.name,
    )


def to_cached(read: TrackedRead) -> CachedRead:
    """A recorded read as the store's record."""
    return CachedRead.model_validate(dataclasses.asdict(read))


def decide(store: RunStore, step: Step, key: str, *, use_cache: bool) -> Decision:
    """Whether ``step``, whose cache key is ``key``, is taken from the cache; refreshes touched reads."""
    if not use_cache:
        return Decision(key, reasons=[NO_CACHE_RUN])
    if not step.settings.cache:
        return Decision(key, reasons=[NO_CACHE_STEP])
    entry = store.get_cache(key)
    if entry is None:
        return Decision(key, reasons=[NO_ENTRY])
    if entry.reads is None:
        return Decision(key, reasons=["the cached result does not say what the step read; it runs again"])
    outputs = []
    for out in entry.outputs:
        path = store.resolve(out.path)
        try:
            size = path.stat().st_size
        except OSError:
            return Decision(key, reasons=[f"the cached output '{out.name}' is gone ({out.path})"])
        outputs.append(
            SavedOutput(name=out.name, path=str(path), serializer="", size=size, sha256=out.sha256)
        )
    check = check_reads([to_tracked(r) for r in entry.reads])
    if check.changed:
        return Decision(key, reasons=check.changed)
    if check.restamped is not None:  # only touched: remember the new mtimes, so the next check is a stat
        entry = entry.model_copy(update={"reads": [to_cached(r) for r in check.restamped]})
        with contextlib.suppress(NotFound):  # its run was deleted meanwhile: reuse it this once
            store.put_cache(entry)
    return Decision(key, entry=entry, outputs=outputs, reasons=[f"unchanged since run {entry.run_id}"])


@dataclass
class PlannedStep:
    """What a run would do with one step, and why."""

    name: str
    action: str  # "run" or "cached"
    reasons: list[str]

    def to_json(self) -> dict[str, object]:
        """The step as ``--plan --json`` prints it."""
        return {"name": self.name, "action": self.action, "reasons": list(self.reasons)}


def plan(
    store: RunStore,
    pipeline: Pipeline,
    parameters: Mapping[str, JsonValue],
    *,
    use_cache: bool,
    workdir: Path,
    selection: Selection = EVERYTHING,
    notebook: str | None = None,
) -> list[PlannedStep]:
    """What a run of ``pipeline`` would do now, step by step, decided as the runner decides.

    Skipped steps (``--only``, ``--from``) are left out. ``notebook``: compare each step that runs
    with its last recorded run of that notebook to say which cell, input, parameter or environment
    changed. Raises ``InvalidInput`` when a step the selection needs is neither cached nor reused,
    as the run would.
    """
    found: list[dict[str, tuple[str, str, stepinputs.StepInputs]]] = []

    def changes(step: Step) -> list[str]:
        """What changed since ``step`` last ran; the earlier runs are read once, when first needed."""
        if notebook is None:
            return []
        if not found:
            found.append(stepinputs.baseline(store, notebook, [s.name for s in pipeline.steps]))
        parts = stepinputs.key_parts(pipeline, step, parameters, produced, workdir=workdir)
        return changed(step.name, found[0], parts)

    produced: dict[str, dict[str, SavedOutput]] = {}
    planned: list[PlannedStep] = []
    running: set[str] = set()
    for step in pipeline.steps:
        if step.name in selection.skipped:
            continue
        if step.name in selection.pinned:
            produced[step.name] = selection.pinned[step.name]
            planned.append(PlannedStep(step.name, "cached", [reused_reason(selection)]))
            continue
        forced = [f"{selection.option}: it runs again"] if step.name in selection.forced else []
        waiting = {n: p for n, p in step.inputs.items() if p in running}
        if waiting:
            planned.append(PlannedStep(step.name, "run", forced or waiting_reasons(step, waiting)))
            running.add(step.name)
            continue
        key = planning.cache_key(pipeline, step, parameters, produced, workdir=workdir)
        if forced:
            running.add(step.name)
            planned.append(PlannedStep(step.name, "run", forced + changes(step)))
            continue
        decision = decide(store, step, key, use_cache=use_cache)
        if decision.cached:
            produced[step.name] = {o.name: o for o in decision.outputs}
            planned.append(PlannedStep(step.name, "cached", decision.reasons))
        else:
            specific = (changes(step) if decision.reasons == [NO_ENTRY] else []) or decision.reasons
            if step.name in selection.needed:
                raise not_available(selection, step.name, specific)
            running.add(step.name)
            planned.append(PlannedStep(step.name, "run", specific))
    return planned


def reused_reason(selection: Selection) -> str:
    """Why a step is taken from the run named by ``--reuse``."""
    return f"taken from run {selection.reuse_run} (--reuse {selection.reuse_run})"


def waiting_reasons(step: Step, waiting: Mapping[str, str]) -> list[str]:
    """Why a step whose inputs come from steps that run first runs too."""
    reasons = []
    for producer in sorted(set(waiting.values())):
        names = [f"'{n}'" for n, p in sorted(waiting.items()) if p == producer]
        what = f"input {names[0]} comes" if len(names) == 1 else f"inputs {', '.join(names)} come"
        value = "that value comes" if len(names) == 1 else "those values come"
        reasons.append(
            f"{what} from upstream step '{producer}', which runs first; this step is reused "
            f"only if {value} out unchanged"
        )
    return reasons


def changed(
    name: str, before: Mapping[str, tuple[str, str, stepinputs.StepInputs]], parts: stepinputs.KeyParts
) -> list[str]:
    """What changed since step ``name`` last ran (nothing known: no reason), with the run named."""
    if name not in before:
        return []
    run_id, status, given = before[name]
    found = stepinputs.explain(given.parts, parts)
    if found:
        return [f"{r} since run {run_id}" for r in found]
    if status == "failed":
        return [f"it failed in run {run_id}; nothing of it was cached"]
    if status not in ("succeeded", "cached"):
        return [f"it did not finish in run {run_id} ({status})"]
    return []


def not_available(selection: Selection, name: str, reasons: list[str]) -> InvalidInput:
    """The error when a step that ``--from``/``--only`` needs cannot be taken as it is."""
    where = (
        f"neither run {selection.reuse_run} nor the cache has"
        if selection.reuse_run
        else "the cache does not have"
    )
    return InvalidInput(
        f"{selection.option}: upstream step '{name}' is needed, but {where} its outputs "
        f"({'; '.join(reasons)}); run the whole notebook, or start from '{name}' "
        "(or name an earlier run that has them with --reuse RUN)"
    )
