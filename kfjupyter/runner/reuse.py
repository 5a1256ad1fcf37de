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
from dataclasses import dataclass, field

from kfjupyter.compiler.ir import Step
from kfjupyter.errors import NotFound
from kfjupyter.runner.job import SavedOutput, TrackedRead
from kfjupyter.runner.tracking import check_reads
from kfjupyter.store import CachedRead, CacheEntry, RunStore

NO_ENTRY = "no cached result for this step's code, set-up, parameters and inputs"


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
    return TrackedRead(**read.model_dump())


def to_cached(read: TrackedRead) -> CachedRead:
    """A recorded read as the store's record."""
    return CachedRead.model_validate(dataclasses.asdict(read))


def decide(store: RunStore, step: Step, key: str, *, use_cache: bool) -> Decision:
    """Whether ``step``, whose cache key is ``key``, is taken from the cache; refreshes touched reads."""
    if not use_cache:
        return Decision(key, reasons=["caching is off for this run (--no-cache)"])
    if not step.settings.cache:
        return Decision(key, reasons=["caching is off for this step (its cache setting)"])
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
