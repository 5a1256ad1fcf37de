"""Which steps a run runs: all of them, or from one step on (``--from``), or one alone (``--only``).

``--from STEP`` runs STEP and every step downstream of it again, cache or not. ``--only STEP``
runs STEP alone. Either way the steps they need (their upstream steps) are never run: their
outputs come from the cache, or, with ``--reuse RUN``, from that earlier run's recorded outputs
(else the cache). A needed step found in neither is an error before anything runs, naming the
step and why it is not cached. The remaining steps are ``skipped``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kfjupyter.compiler.ir import Pipeline
from kfjupyter.errors import InvalidInput, NotFound
from kfjupyter.runner.job import SavedOutput
from kfjupyter.store import RunStore


@dataclass(frozen=True)
class Selection:
    """The steps to run again (``forced``), to take as they are (``needed``) and to leave out."""

    forced: frozenset[str] = frozenset()
    needed: frozenset[str] = frozenset()
    skipped: frozenset[str] = frozenset()
    option: str = ""  # "--from STEP" / "--only STEP", for messages; "" runs every step as usual
    reuse_run: str | None = None
    pinned: dict[str, dict[str, SavedOutput]] = field(default_factory=dict)  # from reuse_run

    @property
    def partial(self) -> bool:
        """Whether only some steps run."""
        return bool(self.option)


EVERYTHING = Selection()


def _downstream(pipeline: Pipeline, start: str) -> set[str]:
    below = {start}
    for step in pipeline.steps:  # topological order: one pass finds every descendant
        if any(up in below for up in step.upstream):
            below.add(step.name)
    return below


def _upstream(pipeline: Pipeline, targets: set[str]) -> set[str]:
    by_name = {s.name: s for s in pipeline.steps}
    above: set[str] = set()
    stack = [up for t in targets for up in by_name[t].upstream]
    while stack:
        name = stack.pop()
        if name not in above:
            above.add(name)
            stack.extend(by_name[name].upstream)
    return above - targets


def select(
    pipeline: Pipeline,
    *,
    from_step: str | None = None,
    only: str | None = None,
    reuse: str | None = None,
    store: RunStore | None = None,
) -> Selection:
    """The selection ``--from``/``--only``/``--reuse`` ask for (``store``: needed with ``reuse``)."""
    if from_step and only:
        raise InvalidInput("give --from STEP or --only STEP, not both")
    chosen = from_step or only
    if chosen is None:
        if reuse:
            raise InvalidInput(
                "--reuse RUN goes with --from STEP or --only STEP: it says where their upstream steps come from"
            )
        return EVERYTHING
    names = [s.name for s in pipeline.steps]
    if chosen not in names:
        option = "--from" if from_step else "--only"
        raise InvalidInput(
            f"{option}: the notebook has no step {chosen!r}; its steps are: {', '.join(names)}"
        )
    forced = _downstream(pipeline, chosen) if from_step else {chosen}
    needed = _upstream(pipeline, forced)
    skipped = set(names) - forced - needed
    option = f"--from {chosen}" if from_step else f"--only {chosen}"
    pinned: dict[str, dict[str, SavedOutput]] = {}
    if reuse:
        if store is None:
            raise InvalidInput("--reuse needs the run store")
        pinned = _pinned(pipeline, store, reuse, needed)
    return Selection(frozenset(forced), frozenset(needed), frozenset(skipped), option, reuse, pinned)


def run_outputs(store: RunStore, run_id: str, step: str) -> dict[str, SavedOutput] | None:
    """The values ``step`` produced in run ``run_id`` (or took from the cache); None when it has none.

    A step that ran has its values recorded as artifacts; a step taken from the cache points at its
    cache entry (while the run that made the entry is kept).
    """
    record = next((s for s in store.get_steps(run_id) if s.name == step), None)
    if record is None or record.status not in ("succeeded", "cached"):
        return None
    values = {
        a.name: SavedOutput(
            name=a.name,
            path=str(store.resolve(a.path)),
            serializer=a.serializer or "",
            size=a.size,
            sha256=a.sha256,
        )
        for a in store.list_artifacts(run_id, step)
        if a.kind == "value"
    }
    if values or record.status == "succeeded":
        return values
    entry = store.get_cache(record.cache_key) if record.cache_key else None
    if entry is None:
        return None
    return {
        o.name: SavedOutput(
            name=o.name, path=str(store.resolve(o.path)), serializer="", size=0, sha256=o.sha256
        )
        for o in entry.outputs
    }


def _pinned(
    pipeline: Pipeline, store: RunStore, run_id: str, needed: set[str]
) -> dict[str, dict[str, SavedOutput]]:
    try:
        store.get_run(run_id)
    except NotFound:
        raise InvalidInput(f"--reuse: there is no run {run_id!r}") from None
    pinned: dict[str, dict[str, SavedOutput]] = {}
    for step in pipeline.steps:
        if step.name not in needed:
            continue
        values = run_outputs(store, run_id, step.name)
        if values is None:
            continue  # not in that run (or it failed there): the cache may still have it
        missing = [name for name in step.outputs if name not in values]
        if missing:
            raise InvalidInput(
                f"--reuse {run_id}: step '{step.name}' did not produce {', '.join(repr(m) for m in missing)} "
                "in that run (the notebook changed since); run without --reuse, or from an earlier step"
            )
        pinned[step.name] = {name: values[name] for name in step.outputs}
    return pinned
