"""What every run backend does the same way: logs from the store, delete, and the recorded sources.

A run's notebook (a pipeline) or script (a script training job) is recorded as an absolute path;
running it again needs it to still exist, and the front door may refuse it
(:attr:`~kfjupyter.runs.backend.RunContext.check_source`: the server keeps runs inside its root).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from kfjupyter.compiler.ir import JsonValue
from kfjupyter.errors import InvalidInput, NotFound
from kfjupyter.runs.backend import RunContext, SourceKind
from kfjupyter.store import LogChunk, RunRecord


def recorded_source(run: RunRecord) -> str | None:
    """The absolute path of the notebook (pipeline) or script (script training job) ``run`` ran."""
    recorded = run.notebook if run.kind == "pipeline" else None
    entry = run.parameters.get("entrypoint")
    if run.kind == "training" and isinstance(entry, dict) and entry.get("kind") == "script":
        path = entry.get("path")
        recorded = path if isinstance(path, str) else None
    return recorded if recorded and Path(recorded).is_absolute() else None


def existing_source(ctx: RunContext, run: RunRecord, recorded: str, kind: SourceKind) -> Path:
    """``recorded`` once the front door accepts it; ``NotFound`` when it no longer exists."""
    path = Path(recorded)
    if ctx.check_source is not None:
        ctx.check_source(run, path, kind)
    if not path.is_file():
        raise NotFound(f"the {kind} of run {run.id}, {recorded!r}, no longer exists")
    return path


def as_override(value: JsonValue) -> str:
    """The ``NAME=VALUE`` text that parses back to ``value`` (see ``parse_overrides``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def rerun_parameters(
    declared: set[str], recorded: Mapping[str, JsonValue], given: Mapping[str, str]
) -> dict[str, str]:
    """Recorded values of the parameters the notebook still declares, then the ``given`` overrides."""
    values = {name: as_override(value) for name, value in recorded.items() if name in declared}
    values.update(given)
    return values


class StoredRuns:
    """The operations that only touch the run store, shared by every backend."""

    def logs(self, ctx: RunContext, run: RunRecord, step: str, offset: int = 0) -> LogChunk:
        """Whole log lines of one step from byte ``offset``."""
        return ctx.store.read_log(run.id, step, offset)

    def delete(self, ctx: RunContext, run: RunRecord) -> None:
        """Delete the run with its files; ``Conflict`` while it is pending or running."""
        ctx.store.delete_run(run.id)


def parameter_overrides(words: list[str], option: str = "-p") -> dict[str, str]:
    """``NAME=VALUE`` words as overrides (a later one wins); ``InvalidInput`` naming ``option`` otherwise."""
    given: dict[str, str] = {}
    for word in words:
        name, sep, value = word.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"{option}: {word!r} is not NAME=VALUE")
        given[name.strip()] = value
    return given
