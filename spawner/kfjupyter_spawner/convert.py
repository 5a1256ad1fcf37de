"""Convert a KubeSpawner ``profile_list`` (z2jh ``singleuser.profileList``) to kfjupyter profiles.

What maps is converted; everything else is listed so the admin can decide, never dropped quietly.
"""

from __future__ import annotations

import re
from typing import Any

_OVERRIDE_MAP = {
    "image": ("image",),
    "cpu_guarantee": ("resources", "cpu", "request"),
    "cpu_limit": ("resources", "cpu", "limit"),
    "mem_guarantee": ("resources", "memory", "request"),
    "mem_limit": ("resources", "memory", "limit"),
    "node_selector": ("node_selector",),
    "environment": ("env",),
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "profile"


def _set(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = str(value) if path[0] == "resources" else value


def _override(
    over: dict[str, Any], where: str, out: dict[str, Any], gpu: dict[str, Any], left: list[str]
) -> None:
    for key, value in over.items():
        if key in _OVERRIDE_MAP:
            _set(out, _OVERRIDE_MAP[key], value)
        elif key == "tolerations" and isinstance(value, list):
            out["tolerations"] = value
        elif key == "extra_resource_limits" and isinstance(value, dict):
            for resource, count in value.items():
                if "gpu" in resource:
                    gpu["resource"], gpu["count"] = resource, int(count)
                else:
                    left.append(f"{where}.kubespawner_override.extra_resource_limits.{resource}")
        else:
            left.append(f"{where}.kubespawner_override.{key}")


def convert_profile_list(profile_list: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """Return ``({"profiles": [...]}, [paths that did not map])``."""
    profiles: list[dict[str, Any]] = []
    left: list[str] = []
    for i, old in enumerate(profile_list):
        where = f"profile_list[{i}]"
        new: dict[str, Any] = {
            "slug": old.get("slug") or _slug(str(old.get("display_name", f"profile-{i}"))),
            "display_name": old.get("display_name", f"Profile {i}"),
        }
        if old.get("description"):
            new["description"] = old["description"]
        if old.get("default"):
            new["default"] = True
        gpu: dict[str, Any] = {}
        body: dict[str, Any] = {}
        _override(old.get("kubespawner_override") or {}, where, body, gpu, left)
        new["image"] = {"default": body.pop("image", "jupyter/base-notebook:latest")}
        new.update(body)
        if gpu:
            new["gpu"] = {
                "resource": gpu["resource"],
                "default_count": gpu["count"],
                "types": {"gpu": {"display_name": "GPU", "node_selector": new.pop("node_selector", {})}},
            }
        for key, option in (old.get("profile_options") or {}).items():
            left.append(f"{where}.profile_options.{key} (rewrite as 'options' with typed overrides)")
            del option
        for key in old:
            if key not in {
                "slug",
                "display_name",
                "description",
                "default",
                "kubespawner_override",
                "profile_options",
            }:
                left.append(f"{where}.{key}")
        profiles.append(new)
    return {"profiles": profiles}, left
