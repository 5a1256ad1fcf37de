"""The kubelet's probe rules as a pure state machine: which probe runs when, and what results mean.

One :class:`ContainerProbes` per container run holds a :class:`Probe` for each of the container's
startup, readiness and liveness probes. The pod worker asks which probes are :meth:`~ContainerProbes.due`,
runs them (``probes.probe``) and feeds each result to :meth:`~ContainerProbes.observe`; the object
then says whether the container has ``started``, is ``ready``, or ``failed`` a startup or liveness
probe and must be restarted. The rules are the kubelet's (``pkg/kubelet/prober/worker.go``):

- a probe runs ``initialDelaySeconds`` after the container starts, then every ``periodSeconds``;
- a result counts once it repeats ``successThreshold`` (or ``failureThreshold``) times in a row;
- while a startup probe has not succeeded, the container is not started and not ready, and its
  readiness and liveness probes do not run; after its first success it never runs again;
- readiness starts out failed (no readiness probe: ready once started), liveness starts out passed;
- a startup or liveness failure stops all probing of this run: the container is to be killed.

No I/O and no clock: times are ``time.monotonic()`` seconds passed in by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STARTUP, READINESS, LIVENESS = "startup", "readiness", "liveness"
FIELDS = {STARTUP: "startupProbe", READINESS: "readinessProbe", LIVENESS: "livenessProbe"}

# The Kubernetes API's defaults for a Probe (timeoutSeconds 1 is applied by probes.probe).
DEFAULT_PERIOD_S = 10.0
DEFAULT_FAILURE_THRESHOLD = 3
DEFAULT_SUCCESS_THRESHOLD = 1


@dataclass(frozen=True)
class ProbeSpec:
    """One probe of a container spec, with the API's defaults filled in."""

    kind: str
    check: dict[str, Any]
    initial_delay_s: float = 0.0
    period_s: float = DEFAULT_PERIOD_S
    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD
    success_threshold: int = DEFAULT_SUCCESS_THRESHOLD

    @classmethod
    def parse(cls, kind: str, check: dict[str, Any]) -> ProbeSpec:
        """The spec of a ``startupProbe``/``readinessProbe``/``livenessProbe`` dict."""
        return cls(
            kind,
            check,
            initial_delay_s=float(check.get("initialDelaySeconds") or 0),
            period_s=float(check.get("periodSeconds") or DEFAULT_PERIOD_S),
            failure_threshold=max(1, int(check.get("failureThreshold") or DEFAULT_FAILURE_THRESHOLD)),
            success_threshold=max(1, int(check.get("successThreshold") or DEFAULT_SUCCESS_THRESHOLD)),
        )


@dataclass
class Probe:
    """One probe's schedule and result counting for one container run."""

    spec: ProbeSpec
    next_at: float
    result: bool | None = None  # the settled result; None until a threshold was first reached
    last: bool | None = None  # the latest raw result
    run: int = 0  # how many times in a row ``last`` came out

    def observe(self, ok: bool, now: float) -> bool:
        """Count one result and schedule the next run; True when the settled result changed."""
        self.next_at += self.spec.period_s  # a fixed rate, like the kubelet's ticker
        if self.next_at <= now:  # a slow probe or a late caller: do not run a burst to catch up
            self.next_at = now + self.spec.period_s
        if ok == self.last:
            self.run += 1
        else:
            self.last, self.run = ok, 1
        if self.run < (self.spec.success_threshold if ok else self.spec.failure_threshold):
            return False
        changed = self.result != ok
        self.result = ok
        return changed


@dataclass
class ContainerProbes:
    """The probes of one container run and what they decided so far."""

    probes: dict[str, Probe] = field(default_factory=dict)
    started: bool = True
    ready: bool = True
    failed: str | None = None  # STARTUP or LIVENESS once the container must be killed

    @classmethod
    def for_container(cls, container: dict[str, Any], started_at: float) -> ContainerProbes:
        """The probes of a container spec whose process started at ``started_at``."""
        probes = {
            kind: Probe(spec, next_at=started_at + spec.initial_delay_s)
            for kind, name in FIELDS.items()
            if container.get(name)
            for spec in [ProbeSpec.parse(kind, container[name])]
        }
        for kind, initial in ((READINESS, False), (LIVENESS, True)):
            if kind in probes:
                probes[kind].result = initial
        started = STARTUP not in probes
        return cls(probes, started=started, ready=started and READINESS not in probes)

    def check(self, kind: str) -> dict[str, Any]:
        """The probe dict (handler, timeout) to run for ``kind``."""
        return self.probes[kind].spec.check

    def active(self) -> list[str]:
        """The kinds of probe that run at this stage, in the order they run."""
        if self.failed is not None:
            return []
        kinds = [LIVENESS, READINESS] if self.started else [STARTUP]
        return [kind for kind in kinds if kind in self.probes]

    def due(self, now: float) -> list[str]:
        """The kinds of probe to run now."""
        return [kind for kind in self.active() if self.probes[kind].next_at <= now]

    def next_at(self) -> float | None:
        """When the next probe is due; None when none will run."""
        times = [self.probes[kind].next_at for kind in self.active()]
        return min(times) if times else None

    def observe(self, kind: str, ok: bool, now: float) -> None:
        """Take one result of the ``kind`` probe, run at ``now``."""
        if kind not in self.active():
            return
        if not self.probes[kind].observe(ok, now):
            return
        if kind == READINESS:
            self.ready = ok
        elif not ok:
            self.failed = kind
        elif kind == STARTUP:
            self.started = True
            self.ready = READINESS not in self.probes
            for later in (LIVENESS, READINESS):  # they waited for the start: run them right away
                if later in self.probes:
                    self.probes[later].next_at = max(self.probes[later].next_at, now)
