"""Kale's cell-tag language, read as-is from ``metadata.tags``.

Role tags: ``imports``, ``functions``, ``pipeline-parameters``, ``pipeline-metrics``, ``skip`` and
``step:<name>`` (``block:<name>``, Kale's old spelling, is accepted too). Step tags: ``prev:<name>``
(repeatable), ``limit:<resource>:<n>``, ``image:<ref>``, ``annotation:<k>:<v>``, ``label:<k>:<v>``,
``secret:<secret>:<key>:<ENV>``, ``cache:enabled|disabled``; ``report:...`` is accepted and ignored.
Tags outside this language (``hide-input``, papermill's ``parameters``...) are left alone.
Unlike Kale, CPU and memory limits are kept, not silently dropped.
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
    """Read a cell's Kale tags into a CellMark; None when no tag of Kale's language is present.

    Raises InvalidInput naming the cell and the tag for a malformed tag, two role tags on one cell,
    or a step setting (``prev:``, ``limit:``...) on a cell that is not a step.
    """
    roles: list[tuple[Role, str | None, str]] = []
    settings: dict[str, Any] = {}
    after: list[str] = []
    setting_tags: list[str] = []
    for raw in tags:
        tag = raw.strip()
        prefix, sep, rest = tag.partition(":")
        if tag in _ROLE_TAGS:
            roles.append((_ROLE_TAGS[tag], None, tag))
        elif sep and prefix in _STEP_PREFIXES:
            step_name = rest.strip()
            if not step_name:
                raise _bad(cell, tag, "give the step a name, e.g. 'step:train'")
            roles.append(("step", step_name, tag))
        elif sep and prefix in _SETTING_PREFIXES:
            setting_tags.append(tag)
            _apply_setting(prefix, rest, tag, cell, settings, after)
        elif prefix == "notebook" and sep:
            raise _bad(
                cell, tag, "sub-pipeline notebooks are not supported; copy the cells into this notebook"
            )
    if not roles:
        if setting_tags:
            raise _bad(cell, setting_tags[0], "step settings belong on the cell tagged 'step:<name>'")
        return None
    if len(roles) > 1:
        names = ", ".join(repr(t) for _, _, t in roles)
        raise InvalidInput(f"cell {cell} has more than one role tag ({names}); keep exactly one.")
    role, name, _ = roles[0]
    if role != "step" and setting_tags:
        raise _bad(cell, setting_tags[0], "step settings belong on the cell tagged 'step:<name>'")
    return CellMark(
        role=role,
        syntax="tags",
        step=name,
        after=tuple(dict.fromkeys(after)),
        settings=MarkSettings(**settings),
    )


def role_tags(tags: Sequence[str]) -> list[str]:
    """The tags of ``tags`` that set a cell's role (``imports``, ``step:<name>``...), in order."""
    out = []
    for tag in (t.strip() for t in tags):
        prefix, sep, rest = tag.partition(":")
        if tag in _ROLE_TAGS or (sep and prefix in _STEP_PREFIXES and rest.strip()):
            out.append(tag)
    return out


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


def _apply_limit(rest: str, tag: str, cell: int, settings: dict[str, Any]) -> None:
    resource, sep, amount = rest.rpartition(":")
    if not sep or not resource or not amount:
        raise _bad(cell, tag, "write 'limit:<resource>:<amount>', e.g. 'limit:nvidia.com/gpu:1'")
    if resource in _GPU_RESOURCES:
        if not amount.isdigit():
            raise _bad(cell, tag, f"the GPU count must be a whole number, e.g. 'limit:{resource}:1'")
        settings["gpu"] = int(amount)
        settings["gpu_type"] = resource
    elif resource in ("cpu", "memory"):
        settings[resource] = amount
    else:
        settings.setdefault("extra_limits", {})[resource] = amount


def _bad(cell: int, tag: str, what: str) -> InvalidInput:
    return InvalidInput(f"cell {cell}: tag {tag!r} is not valid: {what}.")
