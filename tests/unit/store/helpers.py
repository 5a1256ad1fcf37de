"""Record builders shared by the store tests."""

from __future__ import annotations

from kfjupyter.store import RunRecord, StepRecord


def make_run(**fields: object) -> RunRecord:
    """A pipeline run with sensible defaults; keyword arguments override fields."""
    base: dict[str, object] = {"kind": "pipeline", "name": "demo", "backend": "local"}
    base.update(fields)
    return RunRecord.model_validate(base)


def make_steps(run_id: str, count: int, **fields: object) -> list[StepRecord]:
    """``count`` steps named s0..s<count-1>, each depending on the previous one."""
    return [
        StepRecord.model_validate(
            {"run_id": run_id, "name": f"s{i}", "upstream": [f"s{i - 1}"] if i else [], **fields}
        )
        for i in range(count)
    ]
