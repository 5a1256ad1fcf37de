"""What a block of code changes in place: objects it did not create, changed directly or through aliases.

:func:`scan_effects` walks a parsed cell top to bottom and records, for the objects the cell did not
create itself (names it reads before binding them, *free* names), every place where it changes or may
change them:

* directly: ``x[k] = v``, ``x.a = v``, ``del x[k]``, ``x[k] += v``, ``x += v``, a method known to change
  its receiver (``x.append(v)``, ``x.update(...)``, ``x.sort()``...), any method called with
  ``inplace=True``, and seeding (``x.seed(0)``);
* through aliases: a name bound to (part of) a free object (``y = x``, ``y = x[0]``, ``y = x.a``,
  ``y = [a, b]``, ``for d in [a, b]``, ``for row in rows``, ``y = x.reshape(...)``) changes that object
  when it is changed;
* unsure: a method whose effect is not known (``model.fit(X)``) may change its receiver and its
  arguments; a function that is not known to only read its arguments may change them, and its result
  may be one of them (``y = f(x)`` makes ``y`` an unsure alias of ``x``). Calls to plain names are kept
  as :class:`Call` records: the compiler resolves them against the notebook's own functions (whose
  effects on their parameters and on globals this module summarises as :class:`FunctionEffects`).

Known readers (``len``, ``print``, ``sorted``, ``.copy()``, ``.head()``, ``np.mean``...) change nothing.
The analysis errs on the side of "may change": a wrong "may" costs parallelism, a missed change would
cost a wrong answer (and the runner checks, after each step, the inputs it was told are unchanged).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kfjupyter.compiler.pysyntax import is_builtin, parse_source

# fmt: off
MUTATING_METHODS = frozenset({
    "append", "extend", "insert", "remove", "pop", "popitem", "clear", "sort", "reverse", "update",
    "setdefault", "add", "discard", "difference_update", "intersection_update",
    "symmetric_difference_update", "appendleft", "extendleft", "popleft", "rotate",
    "fill", "resize", "put", "itemset", "setflags", "sort_index", "set_index",
})
"""Methods that change their receiver in place (list, dict, set, deque, ndarray)."""
SEEDING = frozenset({"seed", "manual_seed", "manual_seed_all", "set_seed"})
"""Calls that change a random generator's state (``np.random.seed(0)``, ``torch.manual_seed(0)``)."""
READERS = frozenset({
    # builtin types and str
    "copy", "count", "index", "format", "join", "split", "rsplit", "strip", "lstrip", "rstrip", "lower",
    "upper", "startswith", "endswith", "replace", "encode", "decode", "find", "isdigit", "splitlines",
    "title", "capitalize", "zfill", "ljust", "rjust", "center", "partition", "union", "intersection",
    "difference", "issubset", "issuperset", "isdisjoint",
    # pandas / numpy methods that return new objects (or read) unless called with inplace=True
    "head", "tail", "describe", "info", "sum", "mean", "median", "std", "var", "min", "max", "prod",
    "nunique", "unique", "value_counts", "groupby", "agg", "aggregate", "apply", "applymap", "map",
    "astype", "tolist", "to_list", "to_dict", "to_csv", "to_json", "to_parquet", "to_pickle", "to_frame",
    "to_string", "to_markdown", "to_html", "dropna", "fillna", "drop", "drop_duplicates", "merge", "query",
    "sample", "sort_values", "reset_index", "rename", "corr", "cov", "round", "abs", "clip", "cumsum",
    "cumprod", "argmax", "argmin", "argsort", "any", "all", "isnull", "isna", "notna", "notnull", "isin",
    "between", "nlargest", "nsmallest", "pivot", "pivot_table", "melt", "stack", "unstack", "shift",
    "diff", "pct_change", "rolling", "expanding", "resample", "select_dtypes", "memory_usage", "equals",
    "duplicated", "idxmax", "idxmin", "quantile", "iterrows", "itertuples", "where", "mask",
    "assign", "filter", "plot", "hist", "boxplot", "dot", "flatten", "tobytes", "item", "mode", "nbytes",
    "concat", "concatenate", "vstack", "hstack", "array", "zeros_like", "ones_like", "full_like",
    "sqrt", "log", "exp", "percentile", "corrcoef", "allclose", "isclose", "array_equal", "linspace",
    "arange", "DataFrame", "Series", "read_csv", "scatter", "bar", "barh", "imshow", "subplots",
    "predict", "predict_proba", "predict_log_proba", "decision_function", "score", "get_params",
    "train_test_split", "accuracy_score", "f1_score", "precision_score", "recall_score",
    "mean_squared_error", "mean_absolute_error", "r2_score", "roc_auc_score", "confusion_matrix",
    "classification_report", "dumps", "dump", "deepcopy", "isfinite", "isnan", "nonzero", "tile",
    "repeat", "cumulative_sum", "floor", "ceil", "maximum", "minimum", "matmul", "einsum", "norm",
    # kfjupyter's own run API: records values, never changes them
    "log_metric",
})
"""Methods and module functions that change neither their receiver nor their arguments."""
VIEWS = frozenset({
    "asarray", "asanyarray", "reshape", "view", "ravel", "transpose", "squeeze", "swapaxes",
    "expand_dims", "to_numpy", "values", "keys", "items", "get", "__getitem__",
})
"""Readers whose result may share memory (or elements) with the receiver or the arguments."""
PURE_BUILTINS = frozenset({
    "len", "print", "display", "repr", "str", "int", "float", "bool", "complex", "bytes", "abs",
    "round", "hash", "id", "isinstance", "issubclass", "callable", "sum", "sorted", "list", "tuple",
    "set", "frozenset", "dict", "range", "type", "format", "hasattr", "any", "all", "divmod", "pow",
    "ord", "chr", "bin", "hex", "oct", "ascii", "dir", "slice",
})
"""Builtins that change nothing and return new objects (``list(x)`` is a shallow copy)."""
VIEW_BUILTINS = frozenset({"iter", "reversed", "enumerate", "zip", "filter", "map", "min", "max", "next", "getattr"})
"""Builtins whose result is, or iterates over, (parts of) their arguments."""
# fmt: on
CODE_MAGICS = frozenset({"time", "timeit", "prun", "capture", "debug"})

_LEAVES = (ast.Name, ast.Constant, ast.expr_context, ast.operator, ast.cmpop, ast.boolop, ast.unaryop)
_DISPATCH: dict[type[ast.AST], Callable[[_EffectsWalker, Any], None]] = {}

Roots = dict[str, bool]
"""Free names an expression's value may be or contain -> whether that is sure."""


@dataclass(frozen=True)
class Change:
    """A change of a free name (or, in a function summary, of a parameter or global)."""

    name: str
    line: int
    sure: bool
    why: str


@dataclass(frozen=True)
class Call:
    """A call of a plain name the block does not know: resolved against the notebook's functions."""

    func: str
    line: int
    args: tuple[tuple[int | str, tuple[tuple[str, bool], ...]], ...]
    """Position (or keyword) -> the free names that argument may be or contain."""


@dataclass(frozen=True)
class FunctionEffects:
    """What calling a top-level function changes: its parameters and globals, and what it calls."""

    params: tuple[str, ...]
    """Parameter names, positional ones first in order."""
    positional: int
    changes: tuple[Change, ...] = ()
    calls: tuple[Call, ...] = ()
    locals: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Effects:
    """What one block changes, which calls it leaves to resolve, and the aliases alive at its end."""

    changes: tuple[Change, ...] = ()
    calls: tuple[Call, ...] = ()
    aliases: tuple[tuple[str, tuple[tuple[str, bool], ...]], ...] = ()
    """Names bound in the block that may be (parts of) free objects at its end."""
    bound: frozenset[str] = frozenset()
    functions: tuple[tuple[str, FunctionEffects], ...] = ()
    links: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Names bound at top level to a list/tuple/dict display of names (``combine = [a, b]``), alive at
    the end of the block: the container holds those very objects, whichever step made them."""


NO_EFFECTS = Effects()


def scan_effects(tree: ast.Module) -> Effects:
    """Walk a parsed cell and return what it changes (see the module docstring)."""
    walker = _EffectsWalker()
    walker.run(tree.body, 0)
    return Effects(
        changes=tuple(walker.changes),
        calls=tuple(walker.calls),
        aliases=tuple((n, tuple(sorted(r.items()))) for n, r in sorted(walker.alias.items()) if r),
        bound=frozenset(walker.bound),
        functions=tuple(walker.functions.items()),
        links=tuple(sorted(walker.links.items())),
    )


def _union(*parts: Roots, sure: bool = True) -> Roots:
    merged: Roots = {}
    for part in parts:
        for name, certain in part.items():
            merged[name] = merged.get(name, False) or (certain and sure)
    return merged


class _EffectsWalker(ast.NodeVisitor):
    """Walks statements in order, tracking which names alias free objects (see the module docstring)."""

    def __init__(self) -> None:
        self.bound: set[str] = set()
        self.alias: dict[str, Roots] = {}
        self.changes: list[Change] = []
        self.calls: list[Call] = []
        self.functions: dict[str, FunctionEffects] = {}
        self.links: dict[str, tuple[str, ...]] = {}
        self.offset = 0

    def run(self, body: Sequence[ast.stmt], offset: int) -> None:
        saved, self.offset = self.offset, offset
        for stmt in body:
            self.visit(stmt)
        self.offset = saved

    def visit(self, node: ast.AST) -> None:
        """Dispatch on the node's class, looked up once per class (the walk runs on every lint)."""
        kind = type(node)
        method = _DISPATCH.get(kind)
        if method is None:
            method = _DISPATCH[kind] = getattr(
                type(self), "visit_" + kind.__name__, _EffectsWalker.generic_visit
            )
        method(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        """Visit the children of a node that records nothing itself (names and constants are skipped)."""
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, _LEAVES):
                self.visit(child)

    def _line(self, node: ast.AST) -> int:
        return int(getattr(node, "lineno", 1)) + self.offset

    # --- what a value may be ---------------------------------------------------------------

    def roots(self, node: ast.expr | None) -> Roots:
        """The free objects the value of ``node`` may be, or contain."""
        if node is None:
            return {}
        if isinstance(node, ast.Name):
            if node.id in self.alias:
                return dict(self.alias[node.id])
            if node.id in self.bound or is_builtin(node.id):
                return {}
            return {node.id: True}
        if isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred, ast.Await, ast.NamedExpr)):
            return self.roots(node.value)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return _union(*(self.roots(e) for e in node.elts))
        if isinstance(node, ast.Dict):
            return _union(*(self.roots(v) for v in node.values))
        if isinstance(node, ast.IfExp):
            return _union(self.roots(node.body), self.roots(node.orelse))
        if isinstance(node, ast.BoolOp):
            return _union(*(self.roots(v) for v in node.values))
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            return _union(*(self.roots(g.iter) for g in node.generators), sure=False)
        if isinstance(node, ast.Call):
            return self._result_roots(node)
        return {}

    def _args_roots(self, call: ast.Call) -> list[Roots]:
        return [self.roots(a) for a in call.args] + [self.roots(k.value) for k in call.keywords]

    def _result_roots(self, call: ast.Call) -> Roots:
        func = call.func
        args = self._args_roots(call)
        if isinstance(func, ast.Name):
            if func.id in PURE_BUILTINS:
                return {}
            if func.id in VIEW_BUILTINS:
                return _union(*args)
            return {} if func.id in READERS else _union(*args, sure=False)
        if isinstance(func, ast.Attribute):
            receiver = self.roots(func.value)
            if func.attr in VIEWS:
                return _union(receiver, *args)
            if func.attr in READERS:
                return {}
            return _union(receiver, *args, sure=False)
        return _union(*args, sure=False)

    # --- recording -------------------------------------------------------------------------

    def _change(self, node: ast.expr, line: int, sure: bool, why: str) -> None:
        for name, certain in self.roots(node).items():
            self.changes.append(Change(name, line, sure and certain, why))

    def _bind(self, target: ast.expr, roots: Roots) -> None:
        if isinstance(target, ast.Name):
            self.links.pop(target.id, None)
            self.bound.add(target.id)
            if roots:
                self.alias[target.id] = dict(roots)
            else:
                self.alias.pop(target.id, None)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._bind(element, roots)
        elif isinstance(target, ast.Starred):
            self._bind(target.value, roots)
        elif isinstance(target, (ast.Attribute, ast.Subscript)):
            self.visit(target)
            what = f"has {_describe(target)} assigned"
            self._change(target.value, self._line(target), True, what)

    # --- statements ------------------------------------------------------------------------

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        roots = self.roots(node.value)
        for target in node.targets:
            self._bind(target, roots)
        members = _display_names(node.value)
        if members and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            self.links[node.targets[0].id] = members

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self._bind(node.target, self.roots(node.value))

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        target = node.target
        line = self._line(node)
        if isinstance(target, ast.Name):
            aliased = target.id in self.alias
            # Not a new binding: for a mutable object the name still holds the same object.
            self._change(target, line, not aliased, f"is changed with '{_op(node.op)}='")
        else:
            self.visit(target)
            self._change(target.value, line, True, f"has {_describe(target)} changed with '{_op(node.op)}='")

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.bound.discard(target.id)
                self.alias.pop(target.id, None)
            elif isinstance(target, (ast.Attribute, ast.Subscript)):
                self.visit(target)
                self._change(target.value, self._line(target), True, f"has {_describe(target)} deleted")

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        target, it = node.target, node.iter
        if (
            isinstance(it, ast.Call)
            and isinstance(it.func, ast.Name)
            and it.func.id == "enumerate"
            and isinstance(target, (ast.Tuple, ast.List))
            and len(target.elts) == 2
        ):
            # enumerate's counter is a new int: only the second name walks the iterable's items.
            self._bind(target.elts[0], {})
            self._bind(target.elts[1], self.roots(it.args[0]) if it.args else {})
        else:
            self._bind(target, self.roots(it))
        for stmt in (*node.body, *node.orelse):
            self.visit(stmt)

    def visit_AsyncFor(self, node: ast.AsyncFor) -> None:
        self.visit_For(node)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self._bind(item.optional_vars, _union(self.roots(item.context_expr), sure=False))
        for stmt in node.body:
            self.visit(stmt)

    def visit_AsyncWith(self, node: ast.AsyncWith) -> None:
        self.visit_With(node)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name != "*":
                self.bound.add(alias.asname or alias.name.split(".")[0])
                self.alias.pop(alias.asname or alias.name.split(".")[0], None)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.visit_Import(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self.bound.add(node.name)
            self.alias.pop(node.name, None)
        for stmt in node.body:
            self.visit(stmt)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for expr in (*node.decorator_list, *node.args.defaults):
            self.visit(expr)
        self.bound.add(node.name)
        self.alias.pop(node.name, None)
        self.functions[node.name] = summarize_function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.visit_FunctionDef(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in (*node.decorator_list, *node.bases):
            self.visit(expr)
        self.bound.add(node.name)
        self.alias.pop(node.name, None)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        """A lambda's body runs later, when called: nothing to record here."""

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> None:
        saved_alias, saved_bound = dict(self.alias), set(self.bound)
        for gen in node.generators:
            self.visit(gen.iter)
            self._bind(gen.target, self.roots(gen.iter))
            for cond in gen.ifs:
                self.visit(cond)
        for part in (node.key, node.value) if isinstance(node, ast.DictComp) else (node.elt,):
            self.visit(part)
        self.alias, self.bound = saved_alias, saved_bound

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node)

    def visit_SetComp(self, node: ast.SetComp) -> None:
        self._comprehension(node)

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> None:
        self._comprehension(node)

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self._bind(node.target, self.roots(node.value))

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        self.generic_visit(node)
        if node.name:
            self.bound.add(node.name)
            self.alias.pop(node.name, None)

    # --- calls -----------------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        func = node.func
        line = self._line(node)
        if isinstance(func, ast.Attribute) and _is_get_ipython(func.value):
            self._ipython_call(func.attr, node, line)
            return
        if isinstance(func, ast.Name):
            if func.id in PURE_BUILTINS or func.id in VIEW_BUILTINS or is_builtin(func.id):
                return
            args: list[tuple[int | str, tuple[tuple[str, bool], ...]]] = []
            for i, arg in enumerate(node.args):
                roots = self.roots(arg)
                key: int | str = i if not isinstance(arg, ast.Starred) else "*"
                if roots:
                    args.append((key, tuple(sorted(roots.items()))))
            for kw in node.keywords:
                roots = self.roots(kw.value)
                if roots:
                    args.append((kw.arg or "**", tuple(sorted(roots.items()))))
            self.calls.append(Call(func.id, line, tuple(args)))
            return
        if isinstance(func, ast.Attribute):
            self._method_call(func, node, line)
            return
        self._change(func, line, False, "has something computed from it called, whose effects are unknown")
        for roots in self._args_roots(node):
            for name, _ in roots.items():
                self.changes.append(Change(name, line, False, "is passed to a computed callable"))

    def _method_call(self, func: ast.Attribute, node: ast.Call, line: int) -> None:
        method = func.attr
        inplace = any(
            k.arg == "inplace" and isinstance(k.value, ast.Constant) and k.value.value is True
            for k in node.keywords
        )
        if inplace:
            self._change(func.value, line, True, f"has .{method}(inplace=True) called on it")
        elif method in MUTATING_METHODS:
            self._change(func.value, line, True, f"has .{method}() called on it")
        elif method in SEEDING:
            self._change(func.value, line, True, f"is seeded with .{method}()")
        elif method not in READERS and method not in VIEWS:
            self._change(func.value, line, False, f"has .{method}() called on it, whose effects are unknown")
        if method in READERS or method in VIEWS or method in MUTATING_METHODS or inplace:
            return
        for roots in self._args_roots(node):
            for name, _ in roots.items():
                self.changes.append(Change(name, line, False, f"is passed to .{method}()"))

    def _ipython_call(self, method: str, node: ast.Call, line: int) -> None:
        args = [
            a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args
        ]
        code: str | None = None
        if method == "run_line_magic" and len(args) >= 2 and args[0] in CODE_MAGICS:
            code, line = args[1], line - 1
        elif method == "run_cell_magic" and len(args) >= 3 and args[0] in CODE_MAGICS:
            code = args[2]
        if code is None:
            return
        tree = parse_source(code)
        if not isinstance(tree, tuple):
            self.run(tree.body, line)


def summarize_function(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> FunctionEffects:
    """What calling a function changes: its parameters (by name), globals, and the calls it makes."""
    args = node.args
    positional = [a.arg for a in (*args.posonlyargs, *args.args)]
    params = (*positional, *(a.arg for a in args.kwonlyargs))
    walker = _EffectsWalker()
    body: Iterable[ast.stmt] = node.body if isinstance(node.body, list) else [ast.Expr(node.body)]
    walker.run(list(body), 0)
    locals_ = frozenset(walker.bound)
    return FunctionEffects(
        params=params,
        positional=len(positional),
        changes=tuple(walker.changes),
        calls=tuple(walker.calls),
        locals=locals_ - set(params),
    )


def _display_names(node: ast.expr) -> tuple[str, ...]:
    """The names listed in a list/tuple/dict display (``[a, b]``, ``{'k': a}``); empty for anything else."""
    if isinstance(node, (ast.List, ast.Tuple)):
        items = node.elts
    elif isinstance(node, ast.Dict):
        items = [v for v in node.values if v is not None]
    else:
        return ()
    if not items or not all(isinstance(i, ast.Name) for i in items):
        return ()
    return tuple(i.id for i in items)  # type: ignore[attr-defined]


def _describe(target: ast.expr) -> str:
    if isinstance(target, ast.Attribute):
        return f"attribute .{target.attr}"
    if isinstance(target, ast.Subscript):
        return "an item"
    return "it"


def _op(op: ast.operator) -> str:
    symbols = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%"}
    return symbols.get(type(op), "op")


def _is_get_ipython(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "get_ipython"
