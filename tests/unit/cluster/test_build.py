"""The build module: cache location, the cached fast path and clear failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfjupyter.cluster import build


def test_cache_root_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KFJUPYTER_K8S_CACHE", str(tmp_path / "k"))
    assert build.cache_root() == tmp_path / "k"
    monkeypatch.delenv("KFJUPYTER_K8S_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert build.cache_root() == tmp_path / "kfjupyter" / "k8s-1.20.2"


def test_cached_binaries_are_used_without_building(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(build, "_missing_tools", lambda: [])
    (tmp_path / "bin").mkdir()
    for name in build.BINARIES:
        (tmp_path / "bin" / name).write_text("")
    said: list[str] = []
    assert build.build(tmp_path, said.append) == tmp_path / "bin"
    assert said == []


def test_a_failing_step_names_the_command_and_the_log(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    with pytest.raises(build.BuildFailed) as caught:
        build._run(["sh", "-c", "echo broken; exit 3"], log)
    assert "exit 3" in caught.value.message and str(log) in caught.value.message
    assert "broken" in (caught.value.detail or "")


def test_a_kubelet_built_before_the_current_patches_counts_as_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(build, "_missing_tools", lambda: [])
    (tmp_path / "bin").mkdir()
    for name in (*build.BINARIES, build.KUBELET):
        (tmp_path / "bin" / name).write_text("")
    assert build.is_built(tmp_path) and not build.is_built(tmp_path, kubelet=True)
    (tmp_path / "bin" / "kubelet.patch-level").write_text(f"{build.KUBELET_PATCH_LEVEL - 1}\n")
    assert not build.is_built(tmp_path, kubelet=True)
    (tmp_path / "bin" / "kubelet.patch-level").write_text(f"{build.KUBELET_PATCH_LEVEL}\n")
    assert build.is_built(tmp_path, kubelet=True)
