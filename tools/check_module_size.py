"""Fail when a source module grows past the size limit (one concept per module)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LIMIT = 800
SUFFIXES = {".py", ".ts", ".tsx"}
#: Generated from a schema (and checked against it), not written: exempt.
GENERATED = Path("labextension/src/generated")


def main() -> int:
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    too_big = []
    for name in files:
        path = Path(name)
        if path.is_relative_to(GENERATED):
            continue
        if path.suffix in SUFFIXES and path.is_file() and "tests" not in path.parts:
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > LIMIT:
                too_big.append(f"  {lines:5d} {name}")
    if too_big:
        print(f"Modules over {LIMIT} lines (split them by concept):\n" + "\n".join(too_big))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
