"""Reading a job's per-rank logs: whole, the last lines, or following them as they grow.

Each rank's log is a run-store step log (``rank-N``) of timestamped lines. Several ranks are
merged by timestamp and each line is prefixed ``[rank-N]``. Following polls the files and stops
once the job has finished and nothing new was written.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterator

from kfjupyter.store import LogChunk, RunStore

_FOLLOW_POLL_S = 0.1
_STAMP = 23  # len("2026-01-15T14:22:33.123")


class RankLogs:
    """The logs of some ranks of one job in a run store."""

    def __init__(self, store: RunStore, run_id: str, steps: list[str]) -> None:
        self.store = store
        self.run_id = run_id
        self.steps = steps
        self.offsets = dict.fromkeys(steps, 0)

    def _label(self, step: str, line: str) -> str:
        return f"[{step}] {line}" if len(self.steps) > 1 else line

    def _read(self, step: str, chunk: LogChunk) -> list[str]:
        self.offsets[step] = chunk.next_offset
        return [self._label(step, line) for line in chunk.text.splitlines()]

    def _merged(self, per_step: list[list[str]]) -> list[str]:
        if len(per_step) == 1:
            return per_step[0]

        def stamp(line: str) -> str:
            return line[line.index("] ") + 2 :][:_STAMP]

        return list(heapq.merge(*per_step, key=stamp))

    def read_new(self) -> list[str]:
        """Return the lines written since the last read, merged across ranks."""
        per_step = []
        for step in self.steps:
            lines: list[str] = []
            while True:
                chunk = self.store.read_log(self.run_id, step, self.offsets[step])
                if not chunk.text:
                    break
                lines += self._read(step, chunk)
            per_step.append(lines)
        return self._merged(per_step)

    def read_tail(self, lines: int) -> list[str]:
        """Return the last ``lines`` lines of the merged logs (and follow from there)."""
        per_step = [self._read(step, self.store.tail_log(self.run_id, step, lines)) for step in self.steps]
        merged = self._merged(per_step)
        return merged[-lines:] if lines else []

    def iterate(self, tail: int | None, follow: bool, finished: Callable[[], bool]) -> Iterator[str]:
        """Yield the lines (the last ``tail`` only, if given); with ``follow``, until the job ends."""
        yield from self.read_tail(tail) if tail is not None else self.read_new()
        while follow:
            done = finished()
            new = self.read_new()
            yield from new
            if done and not new:
                return
            if not new:
                time.sleep(_FOLLOW_POLL_S)
