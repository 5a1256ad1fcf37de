"""The pure scheduling state machine of a pipeline run.

:class:`Scheduler` owns which step may start next, which steps are running, retries, failure
propagation (a failed step turns every step below it into ``upstream_failed`` while unrelated
branches go on) and cancellation. It launches nothing and reads no clock: an executor asks
:meth:`Scheduler.next_ready`, starts processes, and reports back with :meth:`Scheduler.start`,
:meth:`Scheduler.succeed` and :meth:`Scheduler.fail`. Steps never report their own status.

An event that does not fit a step's state (finishing a step that never started, starting a step
whose upstream has not finished, exceeding ``max_parallel``) raises :class:`InvalidTransitionError`:
that is a bug in the executor, never the user's fault.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from kfjupyter.errors import InvalidInput, KfJupyterError

if TYPE_CHECKING:
    from kfjupyter.compiler.ir import Pipeline

Outcome = Literal["succeeded", "failed", "cancelled"]


class StepState(str, enum.Enum):
    """Where one step stands. A retry waits as ``pending`` with :meth:`Scheduler.attempt` >= 1."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    CACHED = "cached"
    FAILED = "failed"
    UPSTREAM_FAILED = "upstream_failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """Whether the step will not change state any more."""
        return self not in (StepState.PENDING, StepState.RUNNING)

    @property
    def ok(self) -> bool:
        """Whether the step's outputs exist and downstream steps may use them."""
        return self in (StepState.SUCCEEDED, StepState.CACHED)


class InvalidTransitionError(KfJupyterError):
    """An executor reported an event that does not fit the step's state: a bug in kfjupyter."""

    reason = "invalid_transition"


class Scheduler:
    """Track one run of a DAG of steps, from the first start to the final outcome.

    ``dag`` maps each step to its direct upstream steps, in a topological order (every upstream
    appears before its users); that order is also the order :meth:`next_ready` returns steps in.
    ``retries`` gives a step's extra attempts after a failure (default 0). ``max_parallel`` caps
    how many steps run at once. ``done`` seeds steps whose outputs a previous run left (``--resume``):
    they start as ``cached`` and must include all their own upstream steps.
    """

    def __init__(
        self,
        dag: Mapping[str, Sequence[str]],
        *,
        max_parallel: int,
        retries: Mapping[str, int] | None = None,
        done: Iterable[str] = (),
    ) -> None:
        if max_parallel < 1:
            raise InvalidInput(f"max_parallel must be at least 1, got {max_parallel}")
        self._order: tuple[str, ...] = tuple(dag)
        self._upstream: dict[str, tuple[str, ...]] = {}
        self._downstream: dict[str, list[str]] = {name: [] for name in self._order}
        for name in self._order:
            ups = tuple(dict.fromkeys(dag[name]))
            for up in ups:
                if up == name:
                    raise InvalidInput(f"step {name!r} depends on itself")
                if up not in self._upstream:
                    where = "is not a step" if up not in dag else "comes later (the order is not topological)"
                    raise InvalidInput(f"step {name!r} depends on {up!r}, which {where}")
                self._downstream[up].append(name)
            self._upstream[name] = ups
        retries = dict(retries or {})
        for name, count in retries.items():
            self._require_known(name, InvalidInput)
            if count < 0:
                raise InvalidInput(f"step {name!r} has {count} retries; retries cannot be negative")
        self._max_parallel = max_parallel
        self._max_attempts = {name: retries.get(name, 0) + 1 for name in self._order}
        self._state = dict.fromkeys(self._order, StepState.PENDING)
        self._attempts = dict.fromkeys(self._order, 0)
        self._errors: dict[str, str] = {}
        self._cancelling = False
        self._seed(set(done))

    @classmethod
    def for_pipeline(cls, pipeline: Pipeline, *, max_parallel: int, done: Iterable[str] = ()) -> Scheduler:
        """Return the scheduler of a compiled pipeline: its steps' upstream edges and retries."""
        return cls(
            {step.name: step.upstream for step in pipeline.steps},
            max_parallel=max_parallel,
            retries={step.name: step.settings.retries for step in pipeline.steps},
            done=done,
        )

    def _seed(self, done: set[str]) -> None:
        unknown = sorted(done - set(self._order))
        if unknown:
            raise InvalidInput(f"cannot resume step {unknown[0]!r}: the pipeline has no such step")
        for name in self._order:
            if name not in done:
                continue
            missing = [up for up in self._upstream[name] if up not in done]
            if missing:
                raise InvalidInput(
                    f"cannot reuse the outputs of step {name!r} while its upstream step {missing[0]!r} "
                    "runs again: run it again too"
                )
            self._state[name] = StepState.CACHED

    # Queries

    @property
    def steps(self) -> tuple[str, ...]:
        """All steps, in the DAG's order."""
        return self._order

    def status(self, name: str) -> StepState:
        """Return the state of step ``name``."""
        self._require_known(name)
        return self._state[name]

    def statuses(self) -> dict[str, StepState]:
        """Return a snapshot of every step's state, in the DAG's order."""
        return dict(self._state)

    def attempt(self, name: str) -> int:
        """Return how many times step ``name`` has been started (0 before its first start)."""
        self._require_known(name)
        return self._attempts[name]

    def max_attempts(self, name: str) -> int:
        """Return how many times step ``name`` may be started in all (its retries + 1)."""
        self._require_known(name)
        return self._max_attempts[name]

    def error(self, name: str) -> str | None:
        """Return the error the last failed attempt of step ``name`` reported, if any."""
        self._require_known(name)
        return self._errors.get(name)

    @property
    def running(self) -> list[str]:
        """The steps started and not yet reported back, in the DAG's order."""
        return [name for name in self._order if self._state[name] is StepState.RUNNING]

    @property
    def cancelling(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancelling

    @property
    def done(self) -> bool:
        """Whether every step has finished (nothing pending or running)."""
        return all(state.finished for state in self._state.values())

    @property
    def outcome(self) -> Outcome:
        """The run's result once :attr:`done`: cancelled, else failed if any step failed, else succeeded."""
        if not self.done:
            unfinished = ", ".join(f"{n!r} ({s.value})" for n, s in self._state.items() if not s.finished)
            raise InvalidTransitionError(f"the run has no outcome yet: steps {unfinished} have not finished")
        if self._cancelling:
            return "cancelled"
        bad = (StepState.FAILED, StepState.UPSTREAM_FAILED)
        return "failed" if any(state in bad for state in self._state.values()) else "succeeded"

    def next_ready(self) -> list[str]:
        """Return the steps that may start now: pending, upstream all succeeded or cached, slots free."""
        if self._cancelling:
            return []
        free = self._max_parallel - len(self.running)
        ready = [name for name in self._order if self._is_ready(name)]
        return ready[: max(free, 0)]

    # Events

    def start(self, name: str) -> None:
        """Record that the executor launched step ``name``; it must be ready and a slot free."""
        state = self.status(name)
        if self._cancelling:
            raise InvalidTransitionError(f"cannot start step {name!r}: the run is being cancelled")
        if state is not StepState.PENDING:
            raise InvalidTransitionError(f"cannot start step {name!r}: it is {state.value}, not pending")
        waiting = [up for up in self._upstream[name] if not self._state[up].ok]
        if waiting:
            up = waiting[0]
            raise InvalidTransitionError(
                f"cannot start step {name!r}: its upstream step {up!r} is {self._state[up].value}"
            )
        if len(self.running) >= self._max_parallel:
            raise InvalidTransitionError(
                f"cannot start step {name!r}: {self._max_parallel} steps already run (max_parallel)"
            )
        self._state[name] = StepState.RUNNING
        self._attempts[name] += 1

    def succeed(self, name: str, *, cached: bool = False) -> None:
        """Record that running step ``name`` finished; ``cached`` when its outputs came from the cache.

        A step that finishes after :meth:`cancel` still counts as succeeded: its outputs are whole.
        """
        self._require_running(name, "succeed")
        self._state[name] = StepState.CACHED if cached else StepState.SUCCEEDED
        self._errors.pop(name, None)

    def fail(self, name: str, error: str = "") -> bool:
        """Record that running step ``name`` failed; return True when it will be retried.

        A retried step goes back to ``pending`` and :meth:`next_ready` offers it again. Otherwise it
        becomes ``failed`` (``cancelled`` when the run is being cancelled, since the executor killed
        it) and every step below it becomes ``upstream_failed`` at once.
        """
        self._require_running(name, "fail")
        self._errors[name] = error
        if self._cancelling:
            self._state[name] = StepState.CANCELLED
            return False
        if self._attempts[name] < self._max_attempts[name]:
            self._state[name] = StepState.PENDING
            return True
        self._state[name] = StepState.FAILED
        for below in self._all_downstream(name):
            if self._state[below] is StepState.PENDING:
                self._state[below] = StepState.UPSTREAM_FAILED
        return False

    def cancel(self) -> list[str]:
        """Cancel the run: pending steps become ``cancelled``; return the running steps to kill.

        The running steps become ``cancelled`` when the executor reports them failed (killed). Calling
        it again returns the steps still running. Cancelling a finished run changes nothing.
        """
        if self.done:
            return []
        self._cancelling = True
        for name in self._order:
            if self._state[name] is StepState.PENDING:
                self._state[name] = StepState.CANCELLED
        return self.running

    # Helpers

    def _is_ready(self, name: str) -> bool:
        return self._state[name] is StepState.PENDING and all(
            self._state[up].ok for up in self._upstream[name]
        )

    def _all_downstream(self, name: str) -> list[str]:
        seen: set[str] = set()
        stack = list(self._downstream[name])
        while stack:
            below = stack.pop()
            if below not in seen:
                seen.add(below)
                stack.extend(self._downstream[below])
        return [n for n in self._order if n in seen]

    def _require_running(self, name: str, event: str) -> None:
        state = self.status(name)
        if state is not StepState.RUNNING:
            raise InvalidTransitionError(f"cannot {event} step {name!r}: it is {state.value}, not running")

    def _require_known(self, name: str, error: type[KfJupyterError] = InvalidTransitionError) -> None:
        if name not in self._downstream:
            raise error(f"unknown step {name!r}")
