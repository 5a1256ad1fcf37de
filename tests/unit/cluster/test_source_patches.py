"""The reflect2 and kubelet kernel-tunables fixes applied to Kubernetes' vendored source before the build."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfjupyter.cluster import source_patches as sp


def fake_tree(root: Path) -> Path:
    base = root / sp.REFLECT2
    base.mkdir(parents=True)
    (base / "unsafe_link.go").write_text(f"package reflect2\n\n{sp._LINK_OLD_DECL}\n\n{sp._LINK_OLD_HITER}\n")
    (base / "unsafe_map.go").write_text(
        "func (type2 *UnsafeMapType) UnsafeIterate(obj unsafe.Pointer) MapIterator {\n" + sp._MAP_OLD + "\n"
    )
    (root / sp.KUBELET_CM).parent.mkdir(parents=True)
    (root / sp.KUBELET_CM).write_text(f"func setupNode() error {{\n{sp._TUNABLES_OLD}\n}}\n")
    (root / sp.KUBELET_PROBER).parent.mkdir(parents=True)
    (root / sp.KUBELET_PROBER).write_text(f"func (m *manager) updateStartup() {{\n{sp._STARTUP_OLD}")
    return root


def test_patch_rewrites_the_old_linkname_and_is_idempotent(tmp_path: Path) -> None:
    tree = fake_tree(tmp_path)
    sp.patch_source(tree)
    link = (tree / sp.REFLECT2 / "unsafe_link.go").read_text()
    assert "m unsafe.Pointer, it *hiter)" in link and "checkBucket uintptr" in link
    assert "it := new(hiter)" in (tree / sp.REFLECT2 / "unsafe_map.go").read_text()
    kubelet = (tree / sp.KUBELET_CM).read_text()
    assert "b := KernelTunableWarn" in kubelet and "KernelTunableModify" not in kubelet
    prober = (tree / sp.KUBELET_PROBER).read_text()
    assert prober.count("SetContainerReadiness(update.PodUID, update.ContainerID, true)") == 1
    once = [(tree / sp.REFLECT2 / f).read_text() for f in ("unsafe_link.go", "unsafe_map.go")]
    sp.patch_source(tree)
    assert (tree / sp.KUBELET_PROBER).read_text() == prober
    assert once == [(tree / sp.REFLECT2 / f).read_text() for f in ("unsafe_link.go", "unsafe_map.go")]


def test_unexpected_source_is_refused(tmp_path: Path) -> None:
    tree = fake_tree(tmp_path)
    (tree / sp.REFLECT2 / "unsafe_map.go").write_text("something else\n")
    with pytest.raises(sp.PatchFailed, match=r"unsafe_map\.go"):
        sp.patch_source(tree)
