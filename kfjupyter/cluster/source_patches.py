"""Fixes applied to Debian's Kubernetes 1.20.2 source before it is built with Debian's Go 1.19.

Kubernetes 1.20.2 vendors ``modern-go/reflect2`` v1.0.1, which links to ``reflect.mapiterinit``
with the signature Go had before 1.18. Built with Go 1.19, the API server then crashes on the
first request for a custom resource. reflect2 v1.0.2 fixed it; the same change is applied here
(idempotently) to the vendored copy.

The kubelet of the real container node would rewrite machine-wide kernel settings at start
(``vm.overcommit_memory``, ``kernel.panic``, ``kernel.panic_on_oops``...) when they differ from
its defaults. A local development node has no business changing the host's panic behaviour: the
patched kubelet only warns about them (Kubernetes' own "warn" behaviour).

When a startup probe succeeds, the 1.20 kubelet marks the container started but leaves it (and the
pod) not Ready until the next periodic pod sync, up to a minute later (a container without a
readiness probe is ready as soon as it started; 1.21 fixed this). The patched prober marks such a
container ready at once. ``KUBELET_PATCH_LEVEL`` names this set of kubelet fixes, so a kubelet
cached before a new one is rebuilt.
"""

from __future__ import annotations

from pathlib import Path

REFLECT2 = Path("vendor/github.com/modern-go/reflect2")

_LINK_OLD_DECL = """//go:noescape
//go:linkname mapiterinit reflect.mapiterinit
func mapiterinit(rtype unsafe.Pointer, m unsafe.Pointer) *hiter"""
_LINK_NEW_DECL = """//go:linkname mapiterinit reflect.mapiterinit
func mapiterinit(rtype unsafe.Pointer, m unsafe.Pointer, it *hiter)"""
_LINK_OLD_HITER = """type hiter struct {
	key   unsafe.Pointer // Must be in first position.  Write nil to indicate iteration end (see cmd/internal/gc/range.go).
	value unsafe.Pointer // Must be in second position (see cmd/internal/gc/range.go).
	// rest fields are ignored
}"""
_LINK_NEW_HITER = """type hiter struct {
	key         unsafe.Pointer
	value       unsafe.Pointer
	t           unsafe.Pointer
	h           unsafe.Pointer
	buckets     unsafe.Pointer
	bptr        unsafe.Pointer
	overflow    *[]unsafe.Pointer
	oldoverflow *[]unsafe.Pointer
	startBucket uintptr
	offset      uint8
	wrapped     bool
	B           uint8
	i           uint8
	bucket      uintptr
	checkBucket uintptr
}"""
_MAP_OLD = """	return &UnsafeMapIterator{
		hiter:      mapiterinit(type2.rtype, *(*unsafe.Pointer)(obj)),"""
_MAP_NEW = """	it := new(hiter)
	mapiterinit(type2.rtype, *(*unsafe.Pointer)(obj), it)
	return &UnsafeMapIterator{
		hiter:      it,"""


KUBELET_CM = Path("pkg/kubelet/cm/container_manager_linux.go")
_TUNABLES_OLD = """	b := KernelTunableModify
	if cm.GetNodeConfig().ProtectKernelDefaults {"""
_TUNABLES_NEW = """	b := KernelTunableWarn
	if cm.GetNodeConfig().ProtectKernelDefaults {"""


KUBELET_PATCH_LEVEL = 3
KUBELET_PROBER = Path("pkg/kubelet/prober/prober_manager.go")
_STARTUP_OLD = """	started := update.Result == results.Success
	m.statusManager.SetContainerStartup(update.PodUID, update.ContainerID, started)
}
"""
_STARTUP_NEW = """	started := update.Result == results.Success
	m.statusManager.SetContainerStartup(update.PodUID, update.ContainerID, started)
	if started && !m.hasReadinessProbe(update) {
		// No readiness probe: a started container is ready now, not at the next pod sync.
		m.statusManager.SetContainerReadiness(update.PodUID, update.ContainerID, true)
	}
}

// hasReadinessProbe tells whether the container of a startup result has a readiness probe (true
// when the container is not found: then readiness is left to the pod sync).
func (m *manager) hasReadinessProbe(update results.Update) bool {
	m.workerLock.RLock()
	defer m.workerLock.RUnlock()
	for key, w := range m.workers {
		if key.podUID == update.PodUID && key.probeType == startup && w.containerID == update.ContainerID {
			_, found := m.workers[probeKey{key.podUID, key.containerName, readiness}]
			return found
		}
	}
	return true
}
"""


class PatchFailed(RuntimeError):
    """The source does not look as expected; the build would produce a crashing API server."""


def _replace(path: Path, pairs: list[tuple[str, str]]) -> None:
    text = path.read_text(encoding="utf-8")
    for old, new in pairs:
        if new in text:
            continue  # already patched
        if old not in text:
            raise PatchFailed(f"{path}: the code to patch was not found")
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def patch_source(tree: Path) -> None:
    """Apply every fix to the Kubernetes source ``tree`` (safe to call again)."""
    base = tree / REFLECT2
    _replace(base / "unsafe_link.go", [(_LINK_OLD_DECL, _LINK_NEW_DECL), (_LINK_OLD_HITER, _LINK_NEW_HITER)])
    _replace(base / "unsafe_map.go", [(_MAP_OLD, _MAP_NEW)])
    _replace(tree / KUBELET_CM, [(_TUNABLES_OLD, _TUNABLES_NEW)])
    _replace(tree / KUBELET_PROBER, [(_STARTUP_OLD, _STARTUP_NEW)])
