"""Kale's cell-tag language, read from ``metadata.tags`` exactly as Kale's notebook processor reads it.

Role tags: ``imports``, ``functions``, ``pipeline-parameters``, ``pipeline-metrics``, ``skip`` and
``step:<name>`` (``block:<name>``, Kale's older spelling, means the same). Step tags: ``prev:<name>``
(repeatable), ``limit:<resource>:<n>``, ``image:<ref>``, ``annotation:<k>:<v>``, ``label:<k>:<v>``,
``secret:<secret>:<key>:<ENV>``, ``cache:enabled|disabled``; ``report:...`` is accepted and ignored.

Kale's rules, kept as they are:

* a role tag other than ``step:`` decides the cell's role wherever it stands in the list; every
  other Kale tag of that cell is ignored (:func:`ignored_tags` names them, for an info diagnostic);
* ``step:imports`` / ``block:imports`` (likewise ``functions`` and ``skip``) are those roles, not
  steps named "imports": Kale's older grammar wrote the set-up groups that way;
* a bare ``step:`` or ``block:`` tag (Kale's extension writes it when a step name is cleared) marks an
  untagged cell that continues the group above it; its other step tags are ignored too.

Tags outside this language (``hide-input``, papermill's ``parameters``...) are left alone, where Kale
refuses the notebook. Unlike Kale, CPU and memory limits are kept, not silently dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kfjupyter.errors import InvalidInput
from kfjupyter.notebook.marks import CellMark, MarkSettings, Role

_ROLE_TAGS: dict[str, Role] = {
    "imports": "imports",
    "functions": "functions",
    "pipeline-parameters": "parameters",
    "pipeline-metrics": "metrics",
    "skip": "skip",
}
_STEP_PREFIXES = ("step", "block")
_SETTING_PREFIXES = ("prev", "limit", "image", "annotation", "label", "secret", "cache", "report")
_GPU_RESOURCES = ("nvidia.com/gpu", "amd.com/gpu")


def parse_kale_tags(tags: Sequence[str], cell: int) -> CellMark | None:
    """Read a cell's Kale tags into a CellMark; None when the cell has no role of its own.

    None means: no tag of Kale's language, or a bare ``step:``/``block:`` tag (a continuation cell).
    Raises InvalidInput naming the cell and the tag for a malformed step setting, two step names on
    one cell, or a step setting (``prev:``, ``limit:``...) on a cell with no step tag at all.
    """
    role = _special_role(tags)
    if role is not None:
        return CellMark(role=role, syntax="tags")
    settings: dict[str, Any] = {}
    after: list[str] = []
    setting_tags: list[str] = []
    steps: list[tuple[str, str]] = []
    bare = False
    for raw in tags:
        tag = raw.strip()
        prefix, sep, rest = tag.partition(":")
        if sep and prefix in _STEP_PREFIXES:
            if rest.strip():
                steps.append((rest.strip(), tag))
            else:
                bare = True
        elif sep and prefix in _SETTING_PREFIXES:
            setting_tags.append(tag)
            _apply_setting(prefix, rest, tag, cell, settings, after)
        elif prefix == "notebook" and sep:
            raise _bad(
                cell, tag, "sub-pipeline notebooks are not supported; copy the cells into this notebook"
            )
    names = list(dict.fromkeys(name for name, _ in steps))
    if len(names) > 1:
        listed = ", ".join(repr(t) for _, t in steps)
        raise InvalidInput(f"cell {cell} has more than one step tag ({listed}); keep exactly one.")
    if not names:
        if setting_tags and not bare:
            raise _bad(cell, setting_tags[0], "step settings belong on the cell tagged 'step:<name>'")
        return None
    return CellMark(
        role="step",
        syntax="tags",
        step=names[0],
        after=tuple(dict.fromkeys(after)),
        settings=MarkSettings(**settings),
    )


def ignored_tags(tags: Sequence[str]) -> list[str]:
    """The Kale tags of a cell that Kale ignores: all but the role tag that decides the cell's role.

    That is every other Kale tag of a cell with a role tag (``skip``, ``imports``, ``functions``,
    ``pipeline-parameters``, ``pipeline-metrics``, or one spelled ``step:imports``...), and the step
    settings of a cell whose only step tag is a bare ``step:``/``block:``.
    """
    cleaned = [t.strip() for t in tags]
    kale = [t for t in cleaned if _is_kale_tag(t)]
    role = _special_role(tags)
    if role is not None:
        decider = next(t for t in cleaned if _role_of(t) == role)
        return [t for t in kale if t != decider]
    if any(_bare_step(t) for t in cleaned) and not any(_named_step(t) for t in cleaned):
        return [t for t in kale if not _bare_step(t)]
    return []


def role_tags(tags: Sequence[str]) -> list[str]:
    """The tags of ``tags`` that set a cell's role (``imports``, ``step:<name>``...), in order."""
    return [t.strip() for t in tags if _role_of(t.strip()) is not None or _named_step(t.strip())]


def _special_role(tags: Sequence[str]) -> Role | None:
    """The role a non-step role tag gives the cell (Kale: the first one found wins), else None."""
    for raw in tags:
        role = _role_of(raw.strip())
        if role is not None:
            return role
    return None


def _role_of(tag: str) -> Role | None:
    if tag in _ROLE_TAGS:
        return _ROLE_TAGS[tag]
    prefix, sep, rest = tag.partition(":")
    if sep and prefix in _STEP_PREFIXES and rest.strip() in _ROLE_TAGS:
        return _ROLE_TAGS[rest.strip()]
    return None


def _named_step(tag: str) -> bool:
    prefix, sep, rest = tag.partition(":")
    return bool(sep and prefix in _STEP_PREFIXES and rest.strip())


def _bare_step(tag: str) -> bool:
    prefix, sep, rest = tag.partition(":")
    return bool(sep and prefix in _STEP_PREFIXES and not rest.strip())


def _is_kale_tag(tag: str) -> bool:
    prefix, sep, _ = tag.partition(":")
    return tag in _ROLE_TAGS or bool(sep and prefix in (*_STEP_PREFIXES, *_SETTING_PREFIXES, "notebook"))


def _apply_setting(
    prefix: str, rest: str, tag: str, cell: int, settings: dict[str, Any], after: list[str]
) -> None:
    if prefix == "prev":
        if not rest.strip():
            raise _bad(cell, tag, "name the upstream step, e.g. 'prev:load'")
        after.append(rest.strip())
    elif prefix == "limit":
        _apply_limit(rest, tag, cell, settings)
    elif prefix == "image":
        if not rest.strip():
            raise _bad(cell, tag, "give an image reference, e.g. 'image:python:3.12'")
        settings["image"] = rest.strip()
    elif prefix in ("annotation", "label"):
        key, sep, value = rest.partition(":")
        if not sep or not key:
            raise _bad(cell, tag, f"write '{prefix}:<key>:<value>'")
        settings.setdefault(prefix + "s", {})[key] = value
    elif prefix == "secret":
        parts = rest.split(":")
        if len(parts) != 3 or not all(parts):
            raise _bad(cell, tag, "write 'secret:<secret name>:<key>:<ENV VAR>'")
        settings["secrets"] = (*settings.get("secrets", ()), (parts[0], parts[1], parts[2]))
    elif prefix == "cache":
        if rest not in ("enabled", "disabled"):
            raise _bad(cell, tag, "write 'cache:enabled' or 'cache:disabled'")
        settings["cache"] = rest == "enabled"
    elif prefix == "report" and rest not in ("enabled", "disabled"):
        raise _bad(cell, tag, "write 'report:enabled' or 'report:disabled'")


def apply_limit(rest: str, tag: str, where: str, settings: dict[str, Any]) -> None:
    """Apply ``limit:<resource>:<amount>`` (``rest`` is what follows 'limit:') to ``settings``.

    Raises InvalidInput starting with ``where`` (e.g. 'cell 3') for a malformed limit.
    """
    resource, sep, amount = rest.rpartition(":")
    if not sep or not resource or not amount:
        raise InvalidInput(
            f"{where}: tag {tag!r} is not valid: write 'limit:<resource>:<amount>', "
            "e.g. 'limit:nvidia.com/gpu:1'."
        )
    if resource in _GPU_RESOURCES:
        if not amount.isdigit():
            raise InvalidInput(
                f"{where}: tag {tag!r} is not valid: the GPU count must be a whole number, "
                f"e.g. 'limit:{resource}:1'."
            )
        settings["gpu"] = int(amount)
        settings["gpu_type"] = resource
    elif resource in ("cpu", "memory"):
        settings[resource] = amount
    else:
        settings.setdefault("extra_limits", {})[resource] = amount


def _apply_limit(rest: str, tag: str, cell: int, settings: dict[str, Any]) -> None:
    apply_limit(rest, tag, f"cell {cell}", settings)


def _bad(cell: int, tag: str, what: str) -> InvalidInput:
    return InvalidInput(f"cell {cell}: tag {tag!r} is not valid: {what}.")
