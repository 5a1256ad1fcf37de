"""Notebook-level settings: Kale's ``metadata.kubeflow_notebook`` and kfjupyter's ``metadata.kfjupyter``.

Every field Kale writes is applied or named by a diagnostic, never dropped silently:

* applied: ``pipeline_name`` (by the reader), ``docker_image``/``base_image`` (the default image of
  every step, with a warning that it must contain kfjupyter: KF009), ``volumes`` of type ``pvc``
  (an existing claim) and ``new_pvc`` (a claim the pipeline creates), ``steps_defaults`` (Kale's
  ``annotation:``/``label:``/``limit:``/``image:``/``cache:``/``secret:`` strings, or its newer
  dict form, applied to every step; a step's own setting wins), ``enable_caching`` (every step's
  cache default);
* refused with the reason (KF010, an error): volumes of type ``pv``, ``clone`` or ``snapshot``,
  and ``snapshot: true`` on a volume (kfjupyter does not take Rok snapshots);
* not applied, with a warning naming the field (KF007): ``katib_run``/``katib_metadata`` when a
  tuning run is asked for, ``autosnapshot``/``snapshot_volumes`` when true, and unknown fields;
* without effect here, with one info naming them (KF008): ``experiment_name``, ``marshal_*``...
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kfjupyter.errors import InvalidInput
from kfjupyter.notebook.diagnostics import Diagnostic
from kfjupyter.notebook.kale_tags import apply_limit
from kfjupyter.notebook.marks import MarkSettings

KALE_KEY = "kubeflow_notebook"
OWN_KEY = "kfjupyter"
_IMAGE_KEYS = ("image", "docker_image", "base_image")
#: Kale fields that need nothing from kfjupyter: values travel as KFP artifacts (no marshal
#: volume), the experiment and host are `submit` options, the working directory is the notebook's.
_NO_EFFECT = (
    "experiment_name",
    "experiment",
    "notebook_path",
    "pipeline_description",
    "abs_working_dir",
    "marshal_volume",
    "marshal_path",
    "kfp_host",
    "storage_class_name",
    "volume_access_mode",
)
_OFF_WHEN_FALSE = ("katib_run", "autosnapshot", "snapshot_volumes")
_OWN_FIELDS = ("pipeline_name", *_IMAGE_KEYS, "volumes")
_REFUSED_VOLUMES = {
    "pv": "mounting a PersistentVolume directly is not supported; bind a claim to it and use type 'pvc'",
    "clone": "cloning the notebook's volume needs Rok snapshots, which kfjupyter does not take; "
    "use type 'pvc' with an existing claim, or 'new_pvc'",
    "snapshot": "Rok snapshots are not taken by kfjupyter; use type 'pvc' with an existing claim",
}


@dataclass(frozen=True)
class Volume:
    """A persistent volume claim mounted into every step on a cluster (created first when ``new``)."""

    pvc: str
    mount_path: str
    new: bool = False
    size: str = ""
    storage_class: str = ""
    access_mode: str = ""

    def as_setting(self) -> dict[str, str]:
        """The volume as a step setting: ``{'pvc', 'mount_path'}``, plus creation fields when new."""
        out = {"pvc": self.pvc, "mount_path": self.mount_path}
        if self.new:
            out.update(
                new="true", size=self.size, storage_class=self.storage_class, access_mode=self.access_mode
            )
        return out


@dataclass
class NotebookSettings:
    """What the notebook's metadata asks of every step, and the findings made reading it."""

    image: str | None = None
    volumes: list[Volume] = field(default_factory=list)
    step_defaults: MarkSettings = field(default_factory=MarkSettings)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def read_notebook_settings(metadata: Mapping[str, Any]) -> NotebookSettings:
    """Read both metadata sections (kfjupyter's first); never raises."""
    out = NotebookSettings()
    for key in (OWN_KEY, KALE_KEY):
        section = metadata.get(key)
        if isinstance(section, Mapping):
            _read_section(key, section, out)
    return out


def merge_settings(defaults: MarkSettings, own: MarkSettings) -> MarkSettings:
    """A step's settings over the notebook's defaults: the step's own value wins, key by key."""
    merged: dict[str, Any] = {}
    for name in MarkSettings.model_fields:
        mine, base = getattr(own, name), getattr(defaults, name)
        if isinstance(mine, dict):
            merged[name] = {**base, **mine}
        elif isinstance(mine, tuple):
            merged[name] = tuple(dict.fromkeys((*base, *mine)))
        else:
            merged[name] = base if mine is None else mine
    return MarkSettings(**merged)


def _read_section(key: str, section: Mapping[str, Any], out: NotebookSettings) -> None:
    where = f"metadata.{key}"
    for image_key in _IMAGE_KEYS:
        image = section.get(image_key)
        if isinstance(image, str) and image.strip() and out.image is None:
            out.image = image.strip()
            out.diagnostics.append(
                _diag(
                    "warning",
                    "KF009",
                    f"{where}.{image_key}: every step runs in image {out.image!r} on a cluster; the image "
                    "must have kfjupyter installed (the same version as here).",
                    "Build it FROM that image with 'pip install kfjupyter', or pass --image at compile time.",
                )
            )
    volumes = section.get("volumes")
    for index, item in enumerate(volumes if isinstance(volumes, list) else []):
        _read_volume(f"{where}.volumes[{index}]", item, out)
    if key == OWN_KEY:
        unknown = sorted(str(k) for k in section if k not in _OWN_FIELDS)
        _not_applied(where, unknown, out)
        return
    if "steps_defaults" in section:
        out.step_defaults = _steps_defaults(f"{where}.steps_defaults", section["steps_defaults"], out)
    caching = section.get("enable_caching")
    if isinstance(caching, bool) and out.step_defaults.cache is None:
        out.step_defaults = out.step_defaults.model_copy(update={"cache": caching})
    asked = [k for k in _OFF_WHEN_FALSE if section.get(k)]
    if section.get("katib_run") and "katib_metadata" in section:
        asked.append("katib_metadata")
    known = {"pipeline_name", *_IMAGE_KEYS, "volumes", "steps_defaults", "enable_caching", *_NO_EFFECT}
    known |= set(_OFF_WHEN_FALSE)
    known.add("katib_metadata")
    _not_applied(where, [*asked, *sorted(str(k) for k in section if k not in known)], out)
    quiet = [
        k
        for k in section
        if k in _NO_EFFECT or (k in (*_OFF_WHEN_FALSE, "katib_metadata") and k not in asked)
    ]
    if quiet:
        out.diagnostics.append(
            _diag(
                "info",
                "KF008",
                f"{where}: {', '.join(sorted(quiet))}: nothing for kfjupyter to do with these fields.",
                "Values between steps travel as KFP artifacts; pass the experiment and host to "
                "'kfjupyter submit'.",
            )
        )


def _not_applied(where: str, fields: list[str], out: NotebookSettings) -> None:
    for name in fields:
        out.diagnostics.append(
            _diag(
                "warning",
                "KF007",
                f"{where}.{name} is not applied by kfjupyter"
                + (": Katib tuning runs are not started" if name.startswith("katib") else "")
                + (": no volume snapshots are taken" if "snapshot" in name else "")
                + ".",
                "Remove the field, or run this part with Kale's own tooling.",
            )
        )


def _read_volume(where: str, item: object, out: NotebookSettings) -> None:
    if not isinstance(item, Mapping):
        out.diagnostics.append(
            _diag("warning", "KF005", f"{where} is not an object; it is ignored.", _VOL_HINT)
        )
        return
    name, mount = item.get("name"), item.get("mount_point")
    kind = str(item.get("type") or "pvc")
    if kind in _REFUSED_VOLUMES or item.get("snapshot") is True:
        reason = _REFUSED_VOLUMES.get(kind, _REFUSED_VOLUMES["snapshot"])
        out.diagnostics.append(
            _diag("error", "KF010", f"{where} (type {kind!r}) is refused: {reason}.", _VOL_HINT)
        )
        return
    if not (isinstance(name, str) and name and isinstance(mount, str) and mount) or kind not in (
        "pvc",
        "new_pvc",
    ):
        out.diagnostics.append(
            _diag(
                "warning",
                "KF005",
                f"{where} has no 'name' or 'mount_point', or an unknown type {kind!r}; it is ignored.",
                _VOL_HINT,
            )
        )
        return
    size = item.get("size")
    size_text = (
        f"{size}{item.get('size_type') or 'Gi'}" if isinstance(size, (int, float, str)) and size else "1Gi"
    )
    out.volumes.append(
        Volume(
            pvc=name,
            mount_path=mount,
            new=kind == "new_pvc",
            size=size_text if kind == "new_pvc" else "",
            storage_class=str(item.get("storage_class_name") or "") if kind == "new_pvc" else "",
            access_mode=str(item.get("volume_access_mode") or "ReadWriteOnce") if kind == "new_pvc" else "",
        )
    )


_VOL_HINT = "Give each volume a 'name', a 'mount_point' and type 'pvc' (existing claim) or 'new_pvc'."


def _steps_defaults(where: str, raw: object, out: NotebookSettings) -> MarkSettings:
    settings: dict[str, Any] = {}
    if isinstance(raw, Mapping):
        items = _dict_defaults(raw)
    elif isinstance(raw, list):
        items = [str(t) for t in raw]
    else:
        out.diagnostics.append(
            _diag("warning", "KF005", f"{where} is neither a list nor an object; ignored.", "")
        )
        return MarkSettings()
    for tag in items:
        prefix, _, rest = tag.partition(":")
        try:
            if prefix == "limit":
                apply_limit(rest, tag, where, settings)
            elif prefix in ("annotation", "label"):
                k, sep, v = rest.partition(":")
                if not sep or not k:
                    raise InvalidInput(f"{where}: {tag!r} is not valid: write '{prefix}:<key>:<value>'.")
                settings.setdefault(prefix + "s", {})[k] = v
            elif prefix == "image" and rest.strip():
                settings["image"] = rest.strip()
            elif prefix == "cache" and rest in ("enabled", "disabled"):
                settings["cache"] = rest == "enabled"
            elif prefix == "secret" and len(rest.split(":")) == 3 and all(rest.split(":")):
                settings["secrets"] = (*settings.get("secrets", ()), tuple(rest.split(":")))
            elif prefix != "report":
                raise InvalidInput(f"{where}: {tag!r} is not a step setting Kale accepts here.")
        except InvalidInput as exc:
            out.diagnostics.append(_diag("error", "KF005", exc.message, "Fix or remove the entry."))
    return MarkSettings(**settings)


def _dict_defaults(raw: Mapping[str, Any]) -> list[str]:
    items: list[str] = []
    for kind in ("annotations", "labels", "limits"):
        section = raw.get(kind)
        for k, v in section.items() if isinstance(section, Mapping) else []:
            items.append(f"{kind[:-1]}:{k}:{v}")
    for k, v in raw.items():
        if k == "base_image":
            items.append(f"image:{v}")
        elif k == "enable_caching":
            items.append(f"cache:{'enabled' if v else 'disabled'}")
        elif k not in ("annotations", "labels", "limits"):
            items.append(f"{k}:{v}")
    return items


def _diag(severity: Literal["error", "warning", "info"], code: str, message: str, hint: str) -> Diagnostic:
    return Diagnostic(severity=severity, code=code, cell=None, message=message, hint=hint)
