"""Write what a local run does into the run store: step records, events, outputs, metrics."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from kfjupyter.runner.job import SavedOutput, StepResult
from kfjupyter.store import (
    ArtifactRecord,
    CachedOutput,
    CachedRead,
    CacheEntry,
    EventRecord,
    MetricRecord,
    RunStore,
    StepRecord,
    StepStatus,
)


class Recorder:
    """Keeps one run's step records current in the store and mirrors events to a callback."""

    def __init__(self, store: RunStore, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self.steps: dict[str, StepRecord] = {}

    def relative(self, path: Path | str) -> str:
        """``path`` relative to the store home, '/'-separated."""
        return Path(path).resolve().relative_to(self.store.home.resolve()).as_posix()

    def init_steps(self, upstream: dict[str, list[str]]) -> None:
        """Create a pending record for every step (or keep the ones of a resumed run)."""
        existing = {s.name: s for s in self.store.get_steps(self.run_id)}
        records = []
        for name, ups in upstream.items():
            record = existing.get(name) or StepRecord(run_id=self.run_id, name=name, upstream=ups)
            record = record.model_copy(update={"status": "pending", "upstream": ups, "error": None})
            records.append(record)
            self.steps[name] = record
        self.store.upsert_steps(records)

    def step(self, name: str, status: StepStatus, **fields: object) -> StepRecord:
        """Move step ``name`` to ``status`` with extra fields, store it and log an event."""
        record = self.steps[name].model_copy(update={"status": status, **fields})
        self.steps[name] = record
        self.store.upsert_step(record)
        self.store.add_event(
            EventRecord(run_id=self.run_id, step=name, type=f"step_{status}", payload={"error": record.error})
        )
        return record

    def outputs(self, step: str, outputs: list[SavedOutput], figures: list[str], log: Path) -> None:
        """Record a finished step's saved values, figures and log as artifacts."""
        for out in outputs:
            self.store.add_artifact(
                ArtifactRecord(
                    run_id=self.run_id,
                    step=step,
                    name=out.name,
                    kind="value",
                    path=self.relative(out.path),
                    size=out.size,
                    sha256=out.sha256,
                    preview=out.preview,
                    serializer=out.serializer,
                )
            )
        for figure in figures:
            path = Path(figure)
            self.store.add_artifact(
                ArtifactRecord(
                    run_id=self.run_id,
                    step=step,
                    name=path.stem,
                    kind="figure",
                    path=self.relative(path),
                    media_type="image/png",
                    size=path.stat().st_size,
                )
            )
        if log.exists():
            self.store.add_artifact(
                ArtifactRecord(
                    run_id=self.run_id,
                    step=step,
                    name="log",
                    kind="log",
                    path=self.relative(log),
                    media_type="text/plain",
                    size=log.stat().st_size,
                )
            )

    def metrics(self, records: list[MetricRecord]) -> dict[str, float]:
        """Store the metrics a step logged (see :func:`~kfjupyter.runner.stepfiles.checked_metrics`); the last value of each."""
        if records:
            self.store.add_metrics(records)
        return {r.name: r.value for r in records}

    def cache(self, key: str, step: str, result: StepResult) -> None:
        """Remember a successful step's outputs, and what it read, under its cache key."""
        outputs = [
            CachedOutput(name=o.name, path=self.relative(o.path), sha256=o.sha256) for o in result.outputs
        ]
        reads = None
        if result.reads is not None:
            reads = [CachedRead.model_validate(dataclasses.asdict(r)) for r in result.reads]
        self.store.put_cache(
            CacheEntry(cache_key=key, run_id=self.run_id, step=step, outputs=outputs, reads=reads)
        )

    def reuse_metrics(self, step: str, entry: CacheEntry) -> dict[str, float]:
        """Copy the metrics the cached step logged in its original run into this run."""
        if entry.run_id == self.run_id:
            rows = [m for m in self.store.list_metrics(self.run_id) if m.step == step]
            return {m.name: m.value for m in rows}
        rows = [m for m in self.store.list_metrics(entry.run_id) if m.step == entry.step]
        copies = [m.model_copy(update={"run_id": self.run_id, "step": step}) for m in rows]
        if copies:
            self.store.add_metrics(copies)
        return {m.name: m.value for m in copies}


def now() -> float:
    """Wall-clock time, Unix seconds."""
    return time.time()
