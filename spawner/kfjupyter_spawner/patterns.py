r"""Free-text image patterns that match in bounded time, checked when the profiles load.

A profile's ``image.pattern`` is matched against text a user sends, inside the hub's event loop.
Python's ``re`` backtracks, so a pattern like ``(a+)+b`` takes exponential time on a crafted
image (``aaaa…``), and ``.*.*.*.*`` polynomial time. :func:`unsafe_reason` refuses every pattern
in which the matcher could have two ways to go on from one input character:

- at every choice, the ways on start with different characters: a quantified part cannot start
  with a character that may follow it (``[a-z]+[a-z0-9]*`` and ``(a+)+`` are refused,
  ``[a-z]+:[0-9]+`` and ``[0-9]+(\.[0-9]+)*`` are fine), and the alternatives of a group start with
  different characters (``(quay|docker)`` is fine, ``(a|ab)`` is refused: write ``ab?``);
- no quantified part that can match nothing (``(a*)*``), no backreference, conditional or
  lookaround.

Such a pattern has one way through at a time, so a full match takes time linear in the text; an
image is also at most :data:`MAX_IMAGE` printable ASCII characters (what image references are
made of), the alphabet these checks reason about.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the stubs know these modules by their old names
    import sre_constants as _c
    import sre_parse as _parser
else:
    try:  # Python >= 3.11 (the old names warn on import)
        from re import _constants as _c
        from re import _parser
    except ImportError:  # Python 3.10
        import sre_constants as _c
        import sre_parse as _parser

MAX_IMAGE = 512
ALPHABET = frozenset(chr(c) for c in range(0x21, 0x7F))  # printable ASCII, no space
END = "\0"  # stands for the end of the text in follow sets
EMPTY = "\1"  # stands for "nothing": a part that can match no character at all
_CATEGORIES = {
    _c.CATEGORY_DIGIT: r"\d",
    _c.CATEGORY_NOT_DIGIT: r"\D",
    _c.CATEGORY_SPACE: r"\s",
    _c.CATEGORY_NOT_SPACE: r"\S",
    _c.CATEGORY_WORD: r"\w",
    _c.CATEGORY_NOT_WORD: r"\W",
}
_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT)}


class UnsafePattern(ValueError):
    """A pattern whose matching time could blow up on crafted text."""


def image_problem(image: str) -> str | None:
    """Why ``image`` cannot be an image reference (too long, or not printable ASCII), or None."""
    if len(image) > MAX_IMAGE:
        return f"is {len(image)} characters long; images have at most {MAX_IMAGE}"
    if not set(image) <= ALPHABET:
        return "may only contain printable ASCII characters without spaces"
    return None


def unsafe_reason(pattern: str) -> str | None:
    """Why ``pattern`` could match in more than linear time, or None when it cannot."""
    try:
        parsed = _parser.parse(pattern)
    except re.error as error:
        return f"not a valid regex: {error}"
    items: list[Any] = parsed.data
    fold = bool(parsed.state.flags & re.IGNORECASE) or _scoped_ignorecase(items)
    try:
        _Checker(fold).sequence(items, frozenset({END}))
    except UnsafePattern as error:
        return str(error)
    return None


class _Checker:
    """Walks the parsed pattern right to left, computing what can come next at every choice."""

    def __init__(self, fold: bool) -> None:
        self.fold = fold

    def sequence(self, items: list[Any], follow: frozenset[str]) -> frozenset[str]:
        """The characters the sequence can start with (``follow`` too when it can be empty)."""
        for op, arg in reversed(items):
            follow = self.item(op, arg, follow)
        return follow

    def item(self, op: Any, arg: Any, follow: frozenset[str]) -> frozenset[str]:
        if op in (_c.LITERAL, _c.NOT_LITERAL, _c.ANY, _c.IN):
            return self.chars(op, arg)
        if op is _c.AT:
            return follow  # an anchor matches no character
        if op is _c.SUBPATTERN:
            return self.sequence(list(arg[-1]), follow)
        if op is getattr(_c, "ATOMIC_GROUP", None):
            return self.sequence(list(arg), follow)
        if op is _c.BRANCH:
            return self.branch(arg[1], follow)
        if op in _REPEATS:
            low, high, body = arg
            return self.repeat(low, high, body, follow)
        if op in (_c.GROUPREF, _c.GROUPREF_EXISTS):
            raise UnsafePattern("backreferences and conditionals are not allowed")
        if op in (_c.ASSERT, _c.ASSERT_NOT):
            raise UnsafePattern("lookahead and lookbehind are not allowed")
        raise UnsafePattern(f"{op} is not allowed")

    def branch(self, alternatives: Iterable[Any], follow: frozenset[str]) -> frozenset[str]:
        starts: list[frozenset[str]] = []
        for alternative in alternatives:
            first = self.sequence(list(alternative), follow)
            for other in starts:
                if first & other:
                    raise UnsafePattern(
                        f"alternatives can start with the same character ({_show(first & other)}); "
                        "factor out the common part, e.g. 'jupyter(hub)?' for 'jupyter|jupyterhub'"
                    )
            starts.append(first)
        return frozenset().union(*starts)

    def repeat(self, low: int, high: int, body: Any, follow: frozenset[str]) -> frozenset[str]:
        items = list(body)
        if high == 0:
            return follow
        first = self.sequence(items, frozenset({EMPTY}))
        if EMPTY in first:
            if low != high or high > 1:
                raise UnsafePattern("a quantified part can match nothing (like '(a*)*' or '(a?)+')")
            return (first - {EMPTY}) | follow
        # After the body comes another round (when it repeats) or what follows the repeat.
        self.sequence(items, first | follow if high > 1 else follow)
        if low != high and first & follow:
            raise UnsafePattern(
                f"a quantified part can start with a character that may also follow it "
                f"({_show(first & follow)}), e.g. '[a-z]+[a-z0-9]*' or '(a+)+'; make them start "
                "with different characters"
            )
        return first | follow if low == 0 else first

    def chars(self, op: Any, arg: Any) -> frozenset[str]:
        found: set[str]
        if op is _c.LITERAL:
            found = {chr(arg)}
        elif op is _c.NOT_LITERAL:
            found = set(ALPHABET - {chr(arg)})
        elif op is _c.ANY:
            found = set(ALPHABET)
        else:
            found = self.in_set(arg)
        if self.fold:
            found |= {c.swapcase() for c in found}
        return frozenset(found & ALPHABET)

    def in_set(self, items: list[Any]) -> set[str]:
        found: set[str] = set()
        negate = False
        for op, arg in items:
            if op is _c.NEGATE:
                negate = True
            elif op is _c.LITERAL:
                found.add(chr(arg))
            elif op is _c.RANGE:
                found |= {chr(c) for c in range(max(arg[0], 0x21), min(arg[1], 0x7E) + 1)}
            elif op is _c.CATEGORY and arg in _CATEGORIES:
                found |= {c for c in ALPHABET if re.fullmatch(_CATEGORIES[arg], c)}
            else:
                found |= ALPHABET  # anything else: assume it may match every character
        return set(ALPHABET - found) if negate else found


def _scoped_ignorecase(items: list[Any]) -> bool:
    """Whether a group turns on IGNORECASE anywhere (then every character set is case-folded)."""
    for op, arg in items:
        if op is _c.SUBPATTERN and (arg[1] & re.IGNORECASE or _scoped_ignorecase(list(arg[-1]))):
            return True
        if op is _c.BRANCH and any(_scoped_ignorecase(list(a)) for a in arg[1]):
            return True
        if op in _REPEATS and _scoped_ignorecase(list(arg[2])):
            return True
    return False


def _show(chars: Iterable[str]) -> str:
    shown = sorted({END: "end of text", EMPTY: "nothing"}.get(c, repr(c)) for c in chars)
    return ", ".join(shown[:5]) + (", …" if len(shown) > 5 else "")
