"""Small JSON previews of saved values, for the run view and the store.

Previews are bounded whatever the value: reprs are cut to :data:`MAX_REPR` characters (built with
:mod:`reprlib`, so a list of ten million items is not rendered first), cells of a table to
:data:`MAX_CELL`. Every result is strict JSON: no NaN, no infinity, string keys.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Sized

from kfjupyter.serializers.base import JsonValue, Preview, type_name

MAX_REPR = 200
"""Longest repr in a preview, in characters."""

MAX_CELL = 50
"""Longest string shown for one table cell."""

HEAD_ROWS = 5
"""Rows of a table shown in its preview."""

_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxfrozenset = _REPR.maxdeque = 10
_REPR.maxdict = 10
_REPR.maxstring = _REPR.maxother = MAX_REPR


def truncate(text: str, limit: int) -> str:
    """Return ``text`` cut to ``limit`` characters, ending with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def short_repr(value: object, limit: int = MAX_REPR) -> str:
    """Return a bounded repr of ``value``; a failing ``__repr__`` gives a placeholder."""
    try:
        text = _REPR.repr(value)
    except Exception:  # user __repr__ may raise anything; a preview must not
        text = f"<{type_name(value)} (repr failed)>"
    return truncate(text, limit)


def jsonable(value: object) -> JsonValue:
    """Return one table cell or scalar as a short JSON value (numbers, strings, ISO dates)."""
    if value is None or isinstance(value, bool | int):
        return value
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        item = value.item()
        if item is not value and isinstance(item, bool | int | float | str | None):
            return jsonable(item)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return truncate(value, MAX_CELL)
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        try:
            return truncate(str(isoformat()), MAX_CELL)
        except Exception:  # e.g. a date-like user type; fall back to repr
            return short_repr(value, MAX_CELL)
    return short_repr(value, MAX_CELL)


def generic_preview(value: object) -> Preview:
    """Return type, bounded repr and, for sized values (lists, dicts, strings...), the length."""
    preview: Preview = {"type": type_name(value), "repr": short_repr(value)}
    if isinstance(value, Sized):
        try:
            preview["len"] = len(value)
        except Exception:  # a user __len__ may raise; leave the length out
            preview.pop("len", None)
    return preview
