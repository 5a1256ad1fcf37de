"""Spawn progress in words a user understands, with a bar that moves.

The hub's spawn page shows each event this spawner yields: a ``message`` and a ``progress``
percentage. Kubernetes events say what happens to the pod in the cluster's own words ("Startup
probe failed: Get …: connection refused" while the server is still starting); :func:`describe`
turns each into a stage of the spawn, in plain words, and its place on the bar. The bar only moves
forward (:class:`Progress`), and a stage is said once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

#: Where each stage of a spawn puts the bar (the rest of the way is "ready", 100).
STARTING, OBJECTS, SCHEDULED, PULLING, PULLED, CREATED, STARTED, ANSWERING = 5, 15, 30, 40, 60, 70, 80, 90
_IMAGE = re.compile(r'image "([^"]+)"')
_NODE = re.compile(r"\bto (\S+)$")


@dataclass(frozen=True)
class Step:
    """One line of the spawn page: how far along (0-100) and what happens, in plain words."""

    progress: int
    message: str


def describe(event: dict[str, Any]) -> Step | None:
    """The stage a Kubernetes event about the pod stands for; ``None`` for one not worth a line.

    Failures that end the spawn are reported by the fail-fast checks with their own message, so
    only what a user can follow is said here.
    """
    reason = str(event.get("reason") or "")
    message = str(event.get("message") or "")
    image = _IMAGE.search(message)
    shown = image.group(1) if image else "the server image"
    if reason == "Scheduled":
        node = _NODE.search(message.strip())
        return Step(
            SCHEDULED,
            f"Found a place for your server (node {node.group(1)})"
            if node
            else "Found a place for your server",
        )
    if reason == "Pulling":
        return Step(PULLING, f"Downloading {shown} (the first start on a node can take a few minutes)…")
    if reason == "Pulled":
        return Step(PULLED, f"{shown} is ready")
    if reason == "Created":
        return Step(CREATED, "Prepared the server")
    if reason == "Started":
        return Step(STARTED, "The server is starting…")
    if reason == "Unhealthy":  # a probe before the server listens: normal while it starts
        return Step(ANSWERING, "Waiting for the server to answer…")
    if reason in ("FailedScheduling", "Killing", "SuccessfulAttachVolume"):
        return None
    if str(event.get("type") or "") == "Warning" and message:
        return Step(0, f"Kubernetes reports a problem ({reason}): {message}")
    return None


@dataclass
class Progress:
    """The lines of one spawn so far; the bar never moves back and a line is never repeated."""

    steps: list[Step] = field(default_factory=list)
    _at: int = 0

    def add(self, progress: int, message: str) -> None:
        """Add a line at ``progress`` (or where the bar already is, if that is further)."""
        if any(s.message == message for s in self.steps):
            return
        self._at = max(self._at, progress)
        self.steps.append(Step(self._at, message))

    def add_event(self, event: dict[str, Any]) -> None:
        """Add the line a Kubernetes event stands for, if it stands for one."""
        step = describe(event)
        if step is not None:
            self.add(step.progress, step.message)
