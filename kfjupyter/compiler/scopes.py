"""The scope-aware AST walker behind :mod:`kfjupyter.compiler.analysis`.

:func:`scan` walks a parsed cell in evaluation order and records, following Python's scope
rules, the names the cell reads before binding them, the globals its functions read later, the names
it binds at top level and the objects it changes in place. The rules are listed in the docstring of
:mod:`kfjupyter.compiler.analysis`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from kfjupyter.compiler.pysyntax import is_builtin, parse_source

if TYPE_CHECKING:
    from kfjupyter.compiler.effects import Effects

_CODE_MAGICS = frozenset({"time", "timeit", "prun", "capture", "debug"})
_SHELL_VAR = re.compile(r"(?<![{$])(?:\{|\$)([A-Za-z_][A-Za-z0-9_]*)")
# Methods that change their receiver in place (list, dict, set, deque).
# fmt: off
MUTATING_METHODS = frozenset({
    "append", "extend", "insert", "remove", "pop", "popitem", "clear", "sort", "reverse", "update",
    "setdefault", "add", "discard", "difference_update", "intersection_update",
    "symmetric_difference_update", "appendleft", "extendleft", "popleft", "rotate",
})
# fmt: on


@dataclass(frozen=True)
class BlockInfo:
    """What one block of code reads, defines and mutates; lines are 1-based within the block."""

    reads: tuple[tuple[str, int], ...] = ()
    """Names loaded before the block binds them, with the line of the first such load."""
    deferred: tuple[tuple[str, int], ...] = ()
    """Globals read inside function/lambda bodies that the block never binds at top level."""
    defines: frozenset[str] = frozenset()
    mutations: tuple[tuple[str, int], ...] = ()
    functions: tuple[tuple[str, frozenset[str]], ...] = ()
    star_import: bool = False
    imports: frozenset[str] = frozenset()
    """Names bound by import statements at top level (modules and imported objects)."""
    syntax_error: tuple[int, str] | None = None
    effects: Effects | None = None
    """What the block changes in place, directly or through aliases and calls (see ``effects``)."""

    @property
    def function_reads(self) -> dict[str, frozenset[str]]:
        """Top-level function/class name -> global names its body reads when called."""
        return dict(self.functions)


def scan(tree: ast.Module) -> BlockInfo:
    """Walk a parsed cell and return what it reads, defines and mutates (see the analysis rules)."""
    walker = _Walker()
    walker.run(tree.body, 0)
    return BlockInfo(
        reads=tuple(walker.reads.items()),
        deferred=tuple((n, line) for n, line in walker.deferred.items() if n not in walker.ever_bound),
        defines=frozenset(walker.bound),
        mutations=tuple(walker.mutations.items()),
        functions=tuple((k, frozenset(v)) for k, v in walker.functions.items()),
        star_import=walker.star_import,
        imports=frozenset(walker.imported),
    )


ScopeKind = Literal["module", "class", "function", "comprehension"]


@dataclass
class _Scope:
    kind: ScopeKind
    parent: _Scope | None
    locals: set[str] = field(default_factory=set)
    globals: set[str] = field(default_factory=set)


class _Walker(ast.NodeVisitor):
    """Walks a module in evaluation order, tracking scopes (see the module docstring)."""

    def __init__(self) -> None:
        self.reads: dict[str, int] = {}
        self.deferred: dict[str, int] = {}
        self.mutations: dict[str, int] = {}
        self.functions: dict[str, set[str]] = {}
        self.bound: set[str] = set()
        self.ever_bound: set[str] = set()
        self.star_import = False
        self.imported: set[str] = set()
        self.scope = _Scope("module", None)
        self.offset = 0
        self.owner: set[str] | None = None

    def run(self, body: Sequence[ast.stmt], offset: int) -> None:
        saved, self.offset = self.offset, offset
        for stmt in body:
            self.visit(stmt)
        self.offset = saved

    # --- name resolution -------------------------------------------------------------------

    def _line(self, node: ast.AST) -> int:
        return int(getattr(node, "lineno", 1)) + self.offset

    def _load(self, name: str, node: ast.AST) -> None:
        deferred = False
        scope: _Scope | None = self.scope
        direct = True
        while scope is not None and scope.kind != "module":
            if scope.kind == "class":
                if direct and name in scope.locals:
                    return
            else:
                if name in scope.globals:
                    deferred = deferred or scope.kind == "function"
                    break
                if name in scope.locals:
                    return
                deferred = deferred or scope.kind == "function"
            direct = False
            scope = scope.parent
        if is_builtin(name):
            return
        if deferred:
            self.deferred.setdefault(name, self._line(node))
            if self.owner is not None:
                self.owner.add(name)
        elif name not in self.bound:
            self.reads.setdefault(name, self._line(node))

    def _store(self, name: str) -> None:
        scope = self.scope
        if scope.kind == "module":
            self.bound.add(name)
            self.ever_bound.add(name)
        elif scope.kind == "class":
            scope.locals.add(name)

    def _delete(self, name: str, node: ast.AST) -> None:
        if self.scope.kind == "module":
            if name not in self.bound:
                self._load(name, node)
            self.bound.discard(name)
        elif self.scope.kind == "class":
            self.scope.locals.discard(name)

    def _mutate(self, target: ast.expr) -> None:
        root = target
        while isinstance(root, (ast.Attribute, ast.Subscript)):
            root = root.value
        if (
            isinstance(root, ast.Name)
            and self.scope.kind == "module"
            and root.id not in self.bound
            and not is_builtin(root.id)
        ):
            self.mutations.setdefault(root.id, self._line(target))

    # --- expressions -----------------------------------------------------------------------

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._load(node.id, node)
        elif isinstance(node.ctx, ast.Store):
            self._store(node.id)
        else:
            self._delete(node.id, node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        scope = self.scope
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent
        if scope.kind == "module":
            self.bound.add(node.target.id)
            self.ever_bound.add(node.target.id)
        elif scope.kind == "class":
            scope.locals.add(node.target.id)

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        func = node.func
        if not isinstance(func, ast.Attribute):
            return
        if _is_get_ipython(func.value):
            self._ipython_call(func.attr, node)
            return
        inplace = any(
            k.arg == "inplace" and isinstance(k.value, ast.Constant) and k.value.value is True
            for k in node.keywords
        )
        if inplace or func.attr in MUTATING_METHODS:
            self._mutate(func.value)

    def _ipython_call(self, method: str, node: ast.Call) -> None:
        args = [
            a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args
        ]
        line = self._line(node)
        if method in ("system", "getoutput") and args and args[0] is not None:
            for match in _SHELL_VAR.finditer(args[0]):
                self._load(match.group(1), node)
        elif (
            method == "run_line_magic" and len(args) >= 2 and args[0] in _CODE_MAGICS and args[1] is not None
        ):
            self._nested(args[1], line - 1)
        elif (
            method == "run_cell_magic" and len(args) >= 3 and args[0] in _CODE_MAGICS and args[2] is not None
        ):
            if args[0] == "capture" and args[1]:
                words = [w for w in args[1].split() if not w.startswith("-")]
                if words and words[0].isidentifier():
                    self._store(words[0])
            self._nested(args[2], line)

    def _nested(self, code: str, offset: int) -> None:
        tree = parse_source(code)
        if not isinstance(tree, tuple):
            self.run(tree.body, offset)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._arguments_outside(node.args)
        names = _argument_names(node.args) | _walrus_targets(node.body)
        self._in_scope(_Scope("function", self.scope, names), [node.body])

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> None:
        gens = node.generators
        self.visit(gens[0].iter)
        targets: set[str] = set()
        for gen in gens:
            targets |= {n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name)}
        parts: list[ast.AST] = []
        for i, gen in enumerate(gens):
            if i:
                parts.append(gen.iter)
            parts.extend(gen.ifs)
        parts.extend([node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt])
        self._in_scope(_Scope("comprehension", self.scope, targets), parts)

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node)

    def visit_SetComp(self, node: ast.SetComp) -> None:
        self._comprehension(node)

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> None:
        self._comprehension(node)

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node)

    # --- statements ------------------------------------------------------------------------

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self._assign_target(target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self._load(node.target.id, node.target)
            self._store(node.target.id)
        else:
            self._assign_target(node.target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        if self.scope.kind != "function":
            self.visit(node.annotation)
        if node.value is not None or not isinstance(node.target, ast.Name):
            self._assign_target(node.target)

    def _assign_target(self, target: ast.expr) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._assign_target(element)
        elif isinstance(target, ast.Starred):
            self._assign_target(target.value)
        else:
            self.visit(target)
            if isinstance(target, (ast.Attribute, ast.Subscript)):
                self._mutate(target)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self.visit(target)
            if isinstance(target, (ast.Attribute, ast.Subscript)):
                self._mutate(target)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self.visit(node.target)
        for stmt in (*node.body, *node.orelse):
            self.visit(stmt)

    def visit_AsyncFor(self, node: ast.AsyncFor) -> None:
        self.visit_For(node)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                self.star_import = True
            else:
                name = alias.asname or alias.name.split(".")[0]
                self._store(name)
                if self.scope.kind == "module":
                    self.imported.add(name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.visit_Import(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self._store(node.name)
        for stmt in node.body:
            self.visit(stmt)
        if node.name and self.scope.kind == "module":
            self.bound.discard(node.name)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        self.generic_visit(node)
        if node.name:
            self._store(node.name)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self._store(node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        self.generic_visit(node)
        if node.rest:
            self._store(node.rest)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for deco in node.decorator_list:
            self.visit(deco)
        self._arguments_outside(node.args)
        if node.returns is not None:
            self.visit(node.returns)
        self._store(node.name)
        locals_, globals_ = function_locals(node)
        scope = _Scope("function", self.scope, locals_, globals_)
        self._owned(node.name, lambda: self._in_scope(scope, node.body))

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.visit_FunctionDef(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in (*node.decorator_list, *node.bases, *(k.value for k in node.keywords)):
            self.visit(expr)
        scope = _Scope("class", self.scope)
        self._owned(node.name, lambda: self._in_scope(scope, node.body))
        self._store(node.name)

    def visit_Global(self, node: ast.Global) -> None:
        """Declarations are read when a function's locals are computed; nothing to do here."""

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        """Declarations are read when a function's locals are computed; nothing to do here."""

    # --- helpers ---------------------------------------------------------------------------

    def _arguments_outside(self, args: ast.arguments) -> None:
        for default in (*args.defaults, *(d for d in args.kw_defaults if d is not None)):
            self.visit(default)
        for arg in _all_args(args):
            if arg.annotation is not None:
                self.visit(arg.annotation)

    def _in_scope(self, scope: _Scope, nodes: Sequence[ast.AST]) -> None:
        saved, self.scope = self.scope, scope
        for node in nodes:
            self.visit(node)
        self.scope = saved

    def _owned(self, name: str, walk: Callable[[], None]) -> None:
        top = self.scope.kind == "module"
        if top:
            self.owner = set()
        walk()
        if top and self.owner is not None:
            self.functions[name] = self.owner
            self.owner = None


def _is_get_ipython(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "get_ipython"


def _all_args(args: ast.arguments) -> Iterator[ast.arg]:
    yield from args.posonlyargs
    yield from args.args
    if args.vararg is not None:
        yield args.vararg
    yield from args.kwonlyargs
    if args.kwarg is not None:
        yield args.kwarg


def _argument_names(args: ast.arguments) -> set[str]:
    return {a.arg for a in _all_args(args)}


def _walrus_targets(node: ast.AST) -> set[str]:
    return {n.target.id for n in ast.walk(node) if isinstance(n, ast.NamedExpr)}


def function_locals(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[set[str], set[str]]:
    """Names local to a function (parameters and every binding in its own scope) and its globals."""
    bound = _argument_names(node.args)
    declared_global: set[str] = set()
    declared_nonlocal: set[str] = set()
    stack: list[ast.AST] = list(node.body)
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Global):
            declared_global.update(item.names)
        elif isinstance(item, ast.Nonlocal):
            declared_nonlocal.update(item.names)
        elif isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(item.name)
            continue
        elif isinstance(item, ast.Lambda):
            continue
        elif isinstance(item, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            bound |= _walrus_targets(item)
            continue
        elif isinstance(item, ast.Name) and not isinstance(item.ctx, ast.Load):
            bound.add(item.id)
        elif isinstance(item, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name.split(".")[0]) for a in item.names if a.name != "*")
        elif isinstance(item, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and item.name:
            bound.add(item.name)
        elif isinstance(item, ast.MatchMapping) and item.rest:
            bound.add(item.rest)
        stack.extend(ast.iter_child_nodes(item))
    return bound - declared_global - declared_nonlocal, declared_global
