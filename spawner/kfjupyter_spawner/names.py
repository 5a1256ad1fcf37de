"""Kubernetes object names and labels from user and server names.

User names may hold any character (``Ada.Lovelace@example.org``); Kubernetes names may not. A
name that needs changing keeps a readable part and gets a short hash of the original, so two
users never map to the same object.
"""

from __future__ import annotations

import hashlib
import re

_INVALID = re.compile(r"[^a-z0-9-]+")
MAX_NAME = 63


def dns_label(*parts: str, max_length: int = MAX_NAME) -> str:
    """A DNS-1123 label built from ``parts`` joined with '-', unique for distinct inputs."""
    raw = "-".join(p for p in parts if p)
    clean = _INVALID.sub("-", raw.lower()).strip("-") or "x"
    if clean == raw and len(clean) <= max_length:
        return clean
    digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
    head = clean[: max_length - len(digest) - 1].rstrip("-") or "x"
    return f"{head}-{digest}"


def label_value(value: str) -> str:
    """A valid label value (<= 63 chars, alphanumerics, '-', '_', '.')."""
    clean = re.sub(r"[^A-Za-z0-9._-]+", "-", value).strip("-._")
    if clean == value and len(clean) <= MAX_NAME:
        return clean
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    return f"{clean[: MAX_NAME - 9].rstrip('-._')}-{digest}".lstrip("-")


def pod_name(user: str, server: str = "") -> str:
    """Name of a user's notebook pod: ``jupyter-<user>`` or ``jupyter-<user>--<server>``."""
    return dns_label("jupyter", user, f"-{server}" if server else "")


def pvc_name(user: str, volume: str) -> str:
    """Name of a user's PVC for the profile volume ``volume``."""
    return dns_label(user, volume)
