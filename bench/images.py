"""The image build: unchanged inputs, a change to kfjupyter's code only, and the image sizes.

Usage: python bench/images.py [--rounds N]
Builds once so the cache is current (a cold build when it is empty: minutes, reported as such),
then times:
  unchanged   ``python -m kfjupyter.cluster.images build`` with nothing changed (hashing only);
  code        the same build from a throw-away copy of this checkout whose kfjupyter differs by one
              comment: a new wheel and the last layer of both images (goal <= 60 s);
  back        the build from this checkout again (the previous last layer, from the build cache).
Prints each time and the images' sizes. The images end as this checkout builds them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kfjupyter.cluster import dockerd, images  # noqa: E402


def timed_build(checkout: Path) -> float:
    """Seconds of one build run from ``checkout`` (its code and images/ folder)."""
    env = {**os.environ, "PYTHONPATH": f"{checkout}:{checkout / 'spawner'}"}
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "kfjupyter.cluster.images", "build"], cwd=checkout, env=env, check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.monotonic() - started


def changed_copy(target: Path, round_no: int) -> Path:
    """This checkout's tracked files and built lab extension, with one kfjupyter module touched."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in files.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    shutil.copytree(
        ROOT / "kfjupyter" / "labextension", target / "kfjupyter" / "labextension", dirs_exist_ok=True
    )
    with (target / "kfjupyter" / "errors.py").open("a", encoding="utf-8") as module:
        module.write(f"# bench round {round_no} {time.time()}\n")
    return target


def sizes() -> dict[str, str]:
    out = {}
    for tag in images.notebook_tags()[:1] + images.hub_tags()[:1]:
        done = subprocess.run(
            ["/usr/bin/docker", "image", "inspect", "--format", "{{json .Size}}", tag],
            env=dockerd.client_env(), capture_output=True, text=True, check=True,
        )  # fmt: skip
        out[tag] = f"{json.loads(done.stdout) / 1e9:.2f} GB"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    first = timed_build(ROOT)
    print(f"first build (cold when the cache was empty): {first:.1f} s")
    results: dict[str, list[float]] = {"unchanged": [], "code": [], "back": []}
    for round_no in range(args.rounds):
        results["unchanged"].append(timed_build(ROOT))
        with tempfile.TemporaryDirectory(prefix="kfjupyter-bench-") as tmp:
            results["code"].append(timed_build(changed_copy(Path(tmp), round_no)))
        results["back"].append(timed_build(ROOT))
    for name, times in results.items():
        print(
            f"{name:10s} p50 {statistics.median(times):6.1f} s  min {min(times):6.1f}  max {max(times):6.1f}"
        )
    for tag, size in sizes().items():
        print(f"{tag}: {size}")


if __name__ == "__main__":
    main()
