"""Building the typed pipeline (:class:`~kfjupyter.compiler.ir.Pipeline`) from a segmented notebook.

Resolution rules, for every name a step reads before assigning it:

1. the nearest *preceding* step in notebook order that defines it or changes it in place (directly,
   through an alias or a call; see :mod:`kfjupyter.compiler.effects`): a data edge
   (``Step.inputs[name] = producer``; the producer lists ``name`` in ``Step.outputs``). A step that
   *may* change an object (a method or function whose effects are unknown) counts as changing it,
   unless it is declared pure; lint says so (KF104) where that decides where a later step reads from;
2. else a pipeline parameter: ``Step.parameters`` (only steps that read it get it);
3. else shared set-up (imports, functions, code before the first marker): no edge, every step runs
   all set-up cells (``Step.setup``);
4. else it is undefined (KF101).

A function defined in set-up is looked through where it is used: the globals its body reads (through
other set-up functions too) count as reads of the step that uses it, at the line where it is used.
So a helper reading ``df`` makes its callers consume ``df``, and a helper reading a parameter makes its
callers receive that parameter. Steps run in separate processes on their own copies, so a step that
only reads an object never waits for a later step that changes it. Set-up code that reads a parameter at top level gives that parameter
to every step. Explicit ``prev:``/``after`` edges are kept; steps with no edge stay independent.
Steps are listed in topological order, notebook order breaking ties; cycles are reported (KF204).
"""

from __future__ import annotations

import difflib
import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from kfjupyter.compiler.analysis import BlockInfo, analyze
from kfjupyter.compiler.changes import StepChange, step_changes
from kfjupyter.compiler.effects import NO_EFFECTS, FunctionEffects
from kfjupyter.compiler.ir import CodeBlock, Pipeline, Resources, Step, StepSettings
from kfjupyter.compiler.parameters import ParameterSet, extract_parameters
from kfjupyter.notebook.diagnostics import Diagnostic, Severity
from kfjupyter.notebook.marks import MarkSettings
from kfjupyter.notebook.segments import Layout, Source, StepSegment

SCALAR_TYPES = frozenset({"int", "float", "str", "bool"})
"""Parameter types whose values are immutable."""


@dataclass
class _StepFacts:
    """What one step reads and defines, merged over its cells."""

    segment: StepSegment
    order: int
    reads: dict[str, tuple[int, int, str | None]] = field(default_factory=dict)
    defines: set[str] = field(default_factory=set)
    infos: list[tuple[Source, BlockInfo]] = field(default_factory=list)
    changes: dict[str, StepChange] = field(default_factory=dict)
    """Received objects the step changes in place (or may change), by name."""
    module_changes: dict[str, StepChange] = field(default_factory=dict)
    told: set[str] = field(default_factory=set)
    relink: dict[str, list[str]] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    parameters: set[str] = field(default_factory=set)
    outputs: set[str] = field(default_factory=set)
    after: list[str] = field(default_factory=list)


def build_pipeline(layout: Layout) -> tuple[Pipeline, list[Diagnostic]]:
    """Resolve data flow, parameters and explicit edges of a segmented notebook into a Pipeline."""
    diags: list[Diagnostic] = []
    params = extract_parameters(layout.parameters)
    diags.extend(params.diagnostics)
    for block in layout.parameters:
        _syntax(block, diags)
    setup = _Setup.build(layout, params, diags)
    facts = [_step_facts(seg, i, diags) for i, seg in enumerate(layout.steps)]
    param_names = {p.name for p in params.parameters}
    # A scalar parameter that nothing rebinds is an int, float, str or bool everywhere: no call can
    # change it, so passing it to an unknown function is no reason to order its readers.
    rebound = setup.defines.union(*(f.defines for f in facts))
    scalars = {p.name for p in params.parameters if p.type in SCALAR_TYPES} - rebound
    functions = dict(setup.effects)
    links: dict[str, tuple[str, ...]] = {}
    for fact in facts:
        _note_changes(fact, setup, functions, scalars)
        _follow_links(fact, links)
    for i, fact in enumerate(facts):
        _resolve(fact, facts[:i], facts[i + 1 :], setup, param_names, params, diags)
    for i, fact in enumerate(facts):
        _warn_module_changes(fact, facts[i + 1 :], diags)
    order = _topological(facts, diags)
    declared = [p.name for p in params.parameters]
    steps = [_to_step(f, setup, declared, layout) for f in order]
    pipeline = Pipeline(
        name=layout.name,
        setup=[
            CodeBlock(cell=s.code.cell, source=s.code.source, first_line=s.code.first_line)
            for s in layout.setup
        ],
        parameters=params.parameters,
        steps=steps,
        skipped_cells=list(layout.skipped),
    )
    return pipeline, diags


@dataclass
class _Setup:
    """Names shared set-up defines, the globals its functions read, and parameters it reads itself."""

    defines: set[str] = field(default_factory=set)
    functions: dict[str, frozenset[str]] = field(default_factory=dict)
    parameters: set[str] = field(default_factory=set)
    star_import: bool = False
    imports: set[str] = field(default_factory=set)
    cells: list[int] = field(default_factory=list)
    effects: dict[str, FunctionEffects] = field(default_factory=dict)

    @classmethod
    def build(cls, layout: Layout, params: ParameterSet, diags: list[Diagnostic]) -> _Setup:
        setup = cls(cells=[s.code.cell for s in layout.setup])
        infos: list[tuple[Source, BlockInfo]] = []
        for item in layout.setup:
            info = _syntax(item.code, diags)
            infos.append((item.code, info))
            setup.defines |= info.defines
            setup.functions.update(info.function_reads)
            setup.star_import = setup.star_import or info.star_import
            setup.imports |= info.imports
            setup.effects.update((info.effects or NO_EFFECTS).functions)
        setup.functions = _close_over(setup.functions)
        known = setup.defines | params.names
        for code, info in infos:
            for name, line in info.reads:
                if name in params.names:
                    setup.parameters.add(name)
                elif name not in known and not setup.star_import:
                    diags.append(
                        _undefined(name, code.cell, line + code.first_line - 1, None, known, None, setup=True)
                    )
        return setup


def _close_over(functions: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """Globals each set-up function reads, through the set-up functions it uses.

    Set-up names are kept: a step may have changed one of them (then its readers take it from there).
    """
    closed: dict[str, frozenset[str]] = {}
    for name in functions:
        seen, todo, reads = {name}, [name], set()
        while todo:
            for read in functions.get(todo.pop(), frozenset()):
                if read in functions and read not in seen:
                    seen.add(read)
                    todo.append(read)
                reads.add(read)
        closed[name] = frozenset(reads)
    return closed


def _syntax(code: Source, diags: list[Diagnostic]) -> BlockInfo:
    info = analyze(code.source)
    if info.syntax_error is not None:
        line, msg = info.syntax_error
        diags.append(
            _diag(
                "error",
                "KF103",
                code.cell,
                line + code.first_line - 1,
                f"syntax error in cell {code.cell}, line {line + code.first_line - 1}: {msg}.",
                "Fix the code; the rest of the cell cannot be analysed until it parses.",
            )
        )
    return info


def _step_facts(segment: StepSegment, order: int, diags: list[Diagnostic]) -> _StepFacts:
    fact = _StepFacts(segment=segment, order=order)
    if segment.notebook is not None:
        # It runs a whole notebook: it reads the parameters passed to it (listed by
        # kfjupyter.compiler.subnotebooks) and hands on what it declares.
        sub = segment.notebook
        fact.reads = {name: (segment.cell, 1, None) for name in sub.parameters or ()}
        fact.defines = set(sub.outputs)
        return fact
    fact.infos = [(code, _syntax(code, diags)) for code in segment.blocks]
    for code, info in fact.infos:
        shift = code.first_line - 1
        for name, line in info.reads:
            if name not in fact.defines:
                fact.reads.setdefault(name, (code.cell, line + shift, None))
        fact.defines |= info.defines
    for code, info in fact.infos:
        for name, line in info.deferred:
            if name not in fact.defines:
                fact.reads.setdefault(name, (code.cell, line + code.first_line - 1, None))
    return fact


def _note_changes(
    fact: _StepFacts, setup: _Setup, functions: dict[str, FunctionEffects], scalars: set[str]
) -> None:
    """Record what ``fact`` changes among the objects it receives (modules apart: they cannot travel)."""
    pure = bool(fact.segment.settings.pure)
    for name, change in step_changes(fact.infos, functions).items():
        if name in scalars and not change.sure:
            continue
        if name in setup.imports:
            if change.sure:
                fact.module_changes[name] = change
        elif change.sure or not pure:
            fact.changes[name] = change
            fact.reads.setdefault(name, (change.cell, change.line, None))


def _follow_links(fact: _StepFacts, live: dict[str, tuple[str, ...]]) -> None:
    """A container made by an earlier step from named objects (``combine = [a, b]``) shares them.

    Steps receive copies, so a step that changes the container or one of those objects changes the
    whole group: it reads all of them, re-links them after loading (``Step.relink``) and hands all on.
    ``live`` holds the links made so far; rebinding the container ends its link, rebinding a member
    leaves its slot unnamed.
    """
    rebound = {n for _, info in fact.infos for n in (info.effects or NO_EFFECTS).bound}
    for container, members in list(live.items()):
        group = (container, *(m for m in members if m))
        source = next((fact.changes[n] for n in group if n in fact.changes), None)
        if source is None:
            continue
        for name in group:
            if name not in fact.changes and name not in rebound:
                why = f"shares objects with {container!r} ({', '.join(group[1:])}), which the step changes"
                fact.changes[name] = StepChange(source.cell, source.line, source.sure, why)
                fact.reads.setdefault(name, (source.cell, source.line, None))
        fact.relink[container] = list(members)
    for container, members in list(live.items()):
        kept = tuple("" if m in rebound else m for m in members)  # "": a slot whose object lost its name
        if container in rebound or not any(kept):
            del live[container]
        else:
            live[container] = kept
    for _, info in fact.infos:
        live.update((info.effects or NO_EFFECTS).links)


def _resolve(
    fact: _StepFacts,
    before: list[_StepFacts],
    after: list[_StepFacts],
    setup: _Setup,
    param_names: set[str],
    params: ParameterSet,
    diags: list[Diagnostic],
) -> None:
    pending = list(fact.reads.items())
    while pending:
        name, (cell, line, via) = pending.pop(0)
        producer = next((b for b in reversed(before) if name in b.defines or name in b.changes), None)
        if producer is not None:
            fact.inputs[name] = producer.segment.name
            producer.outputs.add(name)
            if name not in producer.defines:
                _tell_change(producer, name, fact, diags)
        elif name in param_names:
            fact.parameters.add(name)
        elif name in setup.defines or name in params.names:
            for read in sorted(setup.functions.get(name, frozenset())):
                if read not in fact.defines and read not in fact.reads:
                    fact.reads[read] = (cell, line, name)
                    pending.append((read, (cell, line, name)))
        elif not setup.star_import:
            later = next((a for a in after if name in a.defines), None)
            known = setup.defines | params.names | {n for b in before for n in b.defines}
            diags.append(_undefined(name, cell, line, fact.segment, known, later, via=via))


def _undefined(
    name: str,
    cell: int,
    line: int,
    segment: StepSegment | None,
    known: Iterable[str],
    later: _StepFacts | None,
    *,
    via: str | None = None,
    setup: bool = False,
) -> Diagnostic:
    used = f" (used by {via}(), defined in set-up)" if via else ""
    step = segment.name if segment is not None else None
    where = "set-up code" if setup else f"step {step!r}"
    message = f"name {name!r}{used} is not defined before {where} reads it (cell {cell}, line {line})."
    if later is not None and segment is not None:
        hint = _later_hint(name, cell, segment, later)
    elif setup:
        hint = "Set-up cells run before every step and can only use parameters and other set-up names."
    else:
        close = difflib.get_close_matches(name, sorted(set(known)), n=1)
        hint = f"Did you mean {close[0]!r}? " if close else ""
        hint += "Assign it in an earlier step, an 'imports'/'functions' cell or a 'pipeline-parameters' cell."
    return _diag("error", "KF101", cell, line, message, hint, step=step)


def _later_hint(name: str, cell: int, segment: StepSegment, later: _StepFacts) -> str:
    """Why a name assigned by a later step is not available: cell order, or a cell joined to an earlier step."""
    assigned = next((c.cell for c, info in later.infos if name in info.defines), later.segment.cell)
    if assigned < cell:
        return (
            f"cell {cell} comes after cell {assigned}, where step {later.segment.name!r} assigns {name!r}, but it "
            f"belongs to step {segment.name!r} (which starts in cell {segment.cell}) because it reuses that "
            f"step's name, so it runs before {later.segment.name!r}. Give cell {cell} a step name of its own."
        )
    return (
        f"{name!r} is assigned in step {later.segment.name!r} (cell {assigned}), which comes later "
        "in the notebook; move that code above this step."
    )


def _tell_change(producer: _StepFacts, name: str, reader: _StepFacts, diags: list[Diagnostic]) -> None:
    """KF104: a step is taken to change an object because the analysis cannot be sure it does not.

    KF105: a step declared pure surely changes an object a later step reads (the change is passed on).
    """
    change = producer.changes[name]
    if name in producer.told or (change.sure and not producer.segment.settings.pure):
        return
    producer.told.add(name)
    step = producer.segment.name
    if change.sure:
        diags.append(
            _diag(
                "warning",
                "KF105",
                change.cell,
                change.line,
                f"step {step!r} is declared pure but changes {name!r} ({name!r} {change.why}, cell "
                f"{change.cell}, line {change.line}); step {reader.segment.name!r} takes {name!r} from "
                f"{step!r}, as in the notebook.",
                f"Remove the pure declaration of {step!r}, or change a copy of {name!r}.",
                step=step,
            )
        )
        return
    diags.append(
        _diag(
            "info",
            "KF104",
            change.cell,
            change.line,
            f"step {step!r} may change {name!r} ({name!r} {change.why}, cell {change.cell}, line {change.line}); "
            f"to be safe, step {reader.segment.name!r} and later readers take {name!r} from {step!r} and run "
            "after it.",
            f"If {step!r} only reads {name!r}, declare it pure ('%%step {step} --pure' or "
            "metadata.kfjupyter.pure: true): readers then take it from where it was made and can run in "
            "parallel. Runs check the claim and fail the step if it changes its inputs.",
            step=step,
        )
    )


def _warn_module_changes(fact: _StepFacts, after: list[_StepFacts], diags: list[Diagnostic]) -> None:
    """KF102: a step changes a module's state and a later step uses that module: the change stays behind."""
    for name, change in sorted(fact.module_changes.items()):
        reader = next((a for a in after if name in a.reads), None)
        if reader is None:
            continue
        diags.append(
            _diag(
                "warning",
                "KF102",
                change.cell,
                change.line,
                f"step {fact.segment.name!r} changes the state of module {name!r} ({name!r} {change.why}), and step "
                f"{reader.segment.name!r} uses {name!r} later; module state is not passed between steps, so "
                f"{reader.segment.name!r} will not see the change.",
                "Do it in an 'imports' or 'functions' cell (set-up runs before every step), or in each step "
                "that needs it.",
                step=fact.segment.name,
            )
        )


def _topological(facts: list[_StepFacts], diags: list[Diagnostic]) -> list[_StepFacts]:
    by_name = {f.segment.name: f for f in facts}
    upstream: dict[str, set[str]] = {}
    for fact in facts:
        name = fact.segment.name
        ups = set(fact.inputs.values())
        for dep in fact.segment.after:
            if dep == name:
                diags.append(_cycle([name], fact.segment.cell))
            elif dep not in by_name:
                close = difflib.get_close_matches(dep, sorted(by_name), n=1)
                diags.append(
                    _diag(
                        "error",
                        "KF203",
                        fact.segment.cell,
                        None,
                        f"step {name!r} must run after {dep!r}, but there is no step called {dep!r}.",
                        f"Did you mean {close[0]!r}?" if close else "Check the name in prev:/--after/after.",
                        step=name,
                    )
                )
            else:
                ups.add(dep)
                fact.after.append(dep)
        upstream[name] = ups
    indegree = {name: len(ups) for name, ups in upstream.items()}
    downstream: dict[str, list[str]] = {name: [] for name in upstream}
    for name, ups in upstream.items():
        for up in ups:
            downstream[up].append(name)
    ready = [(by_name[n].order, n) for n, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    ordered: list[_StepFacts] = []
    while ready:
        _, name = heapq.heappop(ready)
        ordered.append(by_name[name])
        for down in downstream[name]:
            indegree[down] -= 1
            if indegree[down] == 0:
                heapq.heappush(ready, (by_name[down].order, down))
    stuck = {n for n, d in indegree.items() if d > 0}
    for component in _cycles(stuck, upstream):
        first = min(component, key=lambda n: by_name[n].order)
        diags.append(_cycle(sorted(component, key=lambda n: by_name[n].order), by_name[first].segment.cell))
    ordered.extend(sorted((by_name[n] for n in stuck), key=lambda f: f.order))
    return ordered


def _cycles(nodes: set[str], upstream: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one step, among ``nodes``."""
    components: list[set[str]] = []
    seen: set[str] = set()
    for start in sorted(nodes):
        if start in seen:
            continue
        reach_up = _reach(start, lambda n: upstream[n] & nodes)
        reach_down = _reach(start, lambda n: {m for m in nodes if n in upstream[m]})
        component = reach_up & reach_down
        seen |= component
        if len(component) > 1:
            components.append(component)
    return components


def _reach(start: str, nexts: Callable[[str], set[str]]) -> set[str]:
    found, todo = {start}, [start]
    while todo:
        for nxt in nexts(todo.pop()):
            if nxt not in found:
                found.add(nxt)
                todo.append(nxt)
    return found


def _cycle(names: list[str], cell: int) -> Diagnostic:
    loop = " -> ".join([*names, names[0]])
    return _diag(
        "error",
        "KF204",
        cell,
        None,
        f"steps form a cycle: {loop}.",
        "Remove one of the prev:/after edges, or move the code that a step needs above it.",
        step=names[0],
    )


def _to_step(fact: _StepFacts, setup: _Setup, declared: list[str], layout: Layout) -> Step:
    seg = fact.segment
    wanted = fact.parameters | setup.parameters
    return Step(
        name=seg.name,
        kind=seg.kind,
        blocks=[
            CodeBlock(cell=b.cell, source=b.source, first_line=b.first_line, origin=b.origin)
            for b in seg.blocks
        ],
        after=list(fact.after),
        inputs=dict(sorted(fact.inputs.items())),
        outputs=sorted(fact.outputs),
        parameters=[p for p in declared if p in wanted],
        changes=sorted(fact.changes),
        relink={k: list(v) for k, v in sorted(fact.relink.items())},
        setup=[] if seg.notebook is not None else list(setup.cells),
        settings=step_settings(seg.settings, layout),
    )


def step_settings(mark: MarkSettings, layout: Layout) -> StepSettings:
    """Turn what a cell asked for into complete StepSettings, with notebook-level defaults."""
    resources = Resources(
        cpu=mark.cpu,
        memory=mark.memory,
        gpu=mark.gpu or 0,
        gpu_type=mark.gpu_type,
        extra_limits=dict(mark.extra_limits),
    )
    return StepSettings(
        resources=resources,
        image=mark.image or layout.default_image,
        retries=mark.retries or 0,
        timeout_s=mark.timeout_s,
        cache=True if mark.cache is None else mark.cache,
        depends_on=list(mark.depends_on),
        depends_on_env=list(mark.depends_on_env),
        volumes=[v.as_setting() for v in layout.volumes],
        secrets=[{"secret": s, "key": k, "env": e} for s, k, e in mark.secrets],
        annotations=dict(mark.annotations),
        labels=dict(mark.labels),
        packages=list(mark.packages),
    )


def _diag(
    severity: Severity,
    code: str,
    cell: int | None,
    line: int | None,
    message: str,
    hint: str,
    *,
    step: str | None = None,
) -> Diagnostic:
    return Diagnostic(
        severity=severity, code=code, cell=cell, line=line, message=message, hint=hint, step=step
    )
