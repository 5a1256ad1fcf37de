"""Kubernetes object names and label values from user, server and volume names: one per input.

User and server names may hold any character (``Ada.Lovelace@example.org``); Kubernetes names
may not. Every variable part is encoded on its own by :func:`name_part`:

- a *plain* part (lowercase letters and digits in runs joined by single hyphens, short enough)
  is used as is, so ``ada`` keeps ``jupyter-ada``, ``ada-home`` and ``kfjupyter-ada``;
- any other part becomes a readable prefix, ``---`` and a hash of the exact original
  (``ada-lovelace-example-org---2mxs5gk4ai``). Only escaped parts contain ``--`` at all, so a raw
  name can never pass for an escaped one.

Parts are joined with separators no part can contain at that place (``--`` before a server or a
hyphenated volume name), so each object name can be split back into its parts: two different
users, servers or volumes never share a pod, PVC, namespace or user label (up to a collision of a
50-bit hash, which ownership checks on the objects still catch).
"""

from __future__ import annotations

import base64
import hashlib
import re

LABEL_PREFIX = "kfjupyter.dev"
MAX_LABEL = 63
HASH_LENGTH = 10
ESCAPE = "---"
#: The shortest room an escaped part needs: one readable character, the marker and the hash.
MIN_PART = 1 + len(ESCAPE) + HASH_LENGTH
POD_PREFIX = "jupyter-"
SEPARATOR = "--"
PLAIN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
PLAIN_LABEL = re.compile(r"[A-Za-z0-9]+(?:[-._][A-Za-z0-9]+)*")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def digest(text: str) -> str:
    """A short hash of the exact ``text`` (lowercase base32, DNS-safe)."""
    raw = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    return base64.b32encode(raw).decode("ascii").lower()[:HASH_LENGTH]


def name_part(text: str, budget: int = MAX_LABEL, plain: re.Pattern[str] = PLAIN) -> str:
    """``text`` as one part of a name, at most ``budget`` characters, distinct for distinct texts."""
    if plain.fullmatch(text) and len(text) <= budget:
        return text
    if budget < MIN_PART:
        raise ValueError(f"no room to escape {text!r} in {budget} characters")
    readable = _NOT_ALNUM.sub("-", text.lower()).strip("-")[: budget - MIN_PART + 1].rstrip("-")
    return f"{readable or 'x'}{ESCAPE}{digest(text)}"


def label_value(value: str) -> str:
    """A valid label value for ``value`` (<= 63 characters), distinct for distinct values."""
    return name_part(value, MAX_LABEL, PLAIN_LABEL)


def pod_name(user: str, server: str = "") -> str:
    """Name of a user's notebook pod: ``jupyter-<user>`` or ``jupyter-<user>--<server>``."""
    room = MAX_LABEL - len(POD_PREFIX)
    if not server:
        return POD_PREFIX + name_part(user, room)
    room -= len(SEPARATOR)
    # Leave the server what it needs (all of a short plain name, else room to escape it).
    reserve = min(len(server), MIN_PART) if PLAIN.fullmatch(server) else MIN_PART
    head = name_part(user, room - reserve)
    return f"{POD_PREFIX}{head}{SEPARATOR}{name_part(server, room - len(head))}"


def pvc_name(user: str, volume: str) -> str:
    """Name of a user's PVC for the profile volume ``volume``: ``<user>-<volume>``.

    A volume name with a hyphen is joined with ``--`` (``ada--data-home``): otherwise ada's
    ``data-home`` and user ``ada-data``'s ``home`` would share ``ada-data-home``.
    """
    if not PLAIN.fullmatch(volume):
        raise ValueError(f"volume name {volume!r} must be lowercase letters and digits with single hyphens")
    joint = SEPARATOR if "-" in volume else "-"
    return f"{name_part(user, max(MIN_PART, MAX_LABEL - len(joint) - len(volume)))}{joint}{volume}"
