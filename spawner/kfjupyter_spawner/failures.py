"""Why a spawn cannot succeed, in words a user can act on — decided from the pod and its events.

Pure: given the pod (JSON), its events and the plan, :func:`terminal_problem` returns a message
for problems that will not fix themselves (no GPU of that type free, an image that cannot be
pulled, a server that keeps crashing) or None while the pod may still start.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kfjupyter_spawner.capacity import Capacity
from kfjupyter_spawner.options import SpawnPlan

_IMAGE_REASONS = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}


def _scheduling_message(text: str, plan: SpawnPlan, capacity: Mapping[str, Capacity]) -> str | None:
    if plan.gpu is not None and f"Insufficient {plan.gpu.resource}" in text:
        cap = capacity.get(plan.gpu.type)
        counted = f" ({cap.describe()})" if cap is not None else ""
        return (
            f"No {plan.gpu.display_name} free for {plan.gpu.count} GPU(s){counted}. "
            "Choose fewer GPUs, another type, or try later."
        )
    for resource, word in (("cpu", "CPU"), ("memory", "memory")):
        if f"Insufficient {resource}" in text:
            return f"Not enough {word} free on any node for profile {plan.profile!r}. Choose a smaller profile or try later."
    if "didn't match" in text and "node selector" in text.lower():
        return f"No node offers what profile {plan.profile!r} needs. Ask an admin to check the profile's node selector."
    return None


def terminal_problem(
    pod: Mapping[str, Any] | None,
    events: Sequence[Mapping[str, Any]],
    plan: SpawnPlan,
    capacity: Mapping[str, Capacity],
) -> str | None:
    """A user-facing reason the spawn will not succeed, or None."""
    for event in reversed(events):
        if event.get("reason") == "FailedScheduling":
            message = _scheduling_message(str(event.get("message", "")), plan, capacity)
            if message:
                return message
    if pod is None:
        return None
    for status in pod.get("status", {}).get("containerStatuses") or []:
        waiting = (status.get("state") or {}).get("waiting") or {}
        reason = waiting.get("reason")
        if reason == "ErrImageNeverPull":
            return (
                f"Image {plan.image!r} is not on the node, and this profile never pulls images. "
                "Pick another image or profile, or ask an admin to load the image onto the nodes."
            )
        if reason in _IMAGE_REASONS:
            return (
                f"Image {plan.image!r} cannot be pulled ({reason}). "
                "Pick another image or profile, or ask an admin to check the image name."
            )
        if reason == "CrashLoopBackOff":
            return "The notebook server keeps crashing as it starts. Try another image or profile, or ask an admin."
    if pod.get("status", {}).get("phase") in ("Failed", "Succeeded"):
        return "The notebook server stopped as soon as it started. Ask an admin to check the image and its command."
    return None
