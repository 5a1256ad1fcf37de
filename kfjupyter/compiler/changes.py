"""Which received objects a step changes: its cells' effects put together, calls resolved.

A step's cells share one namespace, so a name bound in one cell to (part of) a received object is an
alias in the cells after it. Calls of plain names are resolved against the notebook's own functions
(set-up cells, earlier steps, the step itself): a function that changes its parameter changes what
the caller passed; one that changes a global changes that global; the calls it makes are followed
(to :data:`MAX_DEPTH`). A function that is not the notebook's and is not a known reader may change
every argument (an *unsure* change).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass

from kfjupyter.compiler.effects import NO_EFFECTS, READERS, Call, Change, FunctionEffects
from kfjupyter.compiler.scopes import BlockInfo
from kfjupyter.notebook.segments import Source

MAX_DEPTH = 8
"""How deep calls between notebook functions are followed; deeper ones count as unsure changes."""


@dataclass(frozen=True)
class StepChange:
    """Where a step changes (or may change) an object it received, and how."""

    cell: int
    line: int
    sure: bool
    why: str


def resolve_call(call: Call, functions: Mapping[str, FunctionEffects], depth: int = 0) -> list[Change]:
    """The changes calling ``call.func`` makes to the names seen at the call site."""
    effects = functions.get(call.func)
    if effects is None or depth >= MAX_DEPTH:
        if effects is None and call.func in READERS:
            return []
        why = f"is passed to {call.func}(), whose effects are unknown"
        return [Change(name, call.line, False, why) for _, roots in call.args for name, _ in roots]
    binding: dict[str, tuple[tuple[str, bool], ...]] = {}
    found: list[Change] = []
    for key, roots in call.args:
        if isinstance(key, int) and key < effects.positional:
            binding[effects.params[key]] = roots
        elif isinstance(key, str) and key in effects.params:
            binding[key] = roots
        elif effects.changes or effects.calls:  # *args, **kwargs: cannot tell which parameter
            why = f"is passed to {call.func}() through */**"
            found.extend(Change(name, call.line, False, why) for name, _ in roots)
    for change in effects.changes:
        if change.name in binding:
            why = f"is passed to {call.func}(), where its argument {change.name!r} {change.why}"
            found.extend(Change(n, call.line, change.sure and s, why) for n, s in binding[change.name])
        elif change.name not in effects.locals and change.name not in effects.params:
            found.append(
                Change(
                    change.name, call.line, change.sure, f"is changed by {call.func}(), where it {change.why}"
                )
            )
    for inner in effects.calls:
        args: list[tuple[int | str, tuple[tuple[str, bool], ...]]] = []
        for key, roots in inner.args:
            mapped: dict[str, bool] = {}
            for name, sure in roots:
                if name in binding:
                    for outer, outer_sure in binding[name]:
                        mapped[outer] = mapped.get(outer, False) or (sure and outer_sure)
                elif name not in effects.params and name not in effects.locals:
                    mapped[name] = mapped.get(name, False) or sure
            if mapped:
                args.append((key, tuple(sorted(mapped.items()))))
        local = inner.func in effects.locals or inner.func in effects.params
        nested = Call(inner.func if not local else f"{call.func}.<local>", call.line, tuple(args))
        found.extend(resolve_call(nested, {} if local else functions, depth + 1))
    return found


def step_changes(
    blocks: Sequence[tuple[Source, BlockInfo]], functions: MutableMapping[str, FunctionEffects]
) -> dict[str, StepChange]:
    """Received names a step changes -> the first place it does (a sure change wins over an unsure one).

    ``functions`` holds the notebook functions known before the step; the step's own are added to it.
    """
    aliases: dict[str, dict[str, bool]] = {}
    defined: set[str] = set()
    found: dict[str, StepChange] = {}

    def resolve(name: str) -> dict[str, bool]:
        if name in aliases:
            return aliases[name]
        return {} if name in defined else {name: True}

    for code, info in blocks:
        effects = info.effects or NO_EFFECTS
        functions.update(effects.functions)
        shift = code.first_line - 1
        raw = [*effects.changes, *(c for call in effects.calls for c in resolve_call(call, functions))]
        for change in raw:
            for name, sure in resolve(change.name).items():
                seen = found.get(name)
                if seen is None or (not seen.sure and change.sure and sure):
                    found[name] = StepChange(code.cell, change.line + shift, change.sure and sure, change.why)
        fresh: dict[str, dict[str, bool]] = {}
        for name, roots in effects.aliases:
            merged: dict[str, bool] = {}
            for root, sure in roots:
                for target, target_sure in resolve(root).items():
                    merged[target] = merged.get(target, False) or (sure and target_sure)
            fresh[name] = merged
        for name in effects.bound:
            aliases.pop(name, None)
            defined.add(name)
        aliases.update({n: r for n, r in fresh.items() if r})
    return found
