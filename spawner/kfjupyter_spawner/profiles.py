"""Admin-defined spawn profiles: one typed schema, validated when the hub starts.

Every model forbids unknown keys, every field is described (the admin docs are generated from
these descriptions), regexes are full-match, quantities are parsed, and cross-references (a choice
naming a GPU type the profile does not define, a default that is not a choice) are checked at load.
A bad configuration fails with errors that name the exact path, e.g.
``profiles[1].options.gpu_count.choices[2].value: ...``.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from kfjupyter.errors import InvalidInput
from kfjupyter_spawner.patterns import MAX_IMAGE, image_problem, unsafe_reason

SLUG = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")


def parse_quantity(value: str) -> float:
    """A Kubernetes quantity ('500m', '4Gi', '2') as a number; ValueError when malformed."""
    if not _QUANTITY.match(value):
        raise ValueError(f"{value!r} is not a Kubernetes quantity (examples: '500m', '2', '4Gi')")
    from kubernetes.utils import parse_quantity as k8s_parse

    return float(k8s_parse(value))


def _quantity(value: str) -> str:
    parse_quantity(value)
    return value


def _size(value: str) -> str:
    if parse_quantity(value) <= 0:
        raise ValueError(f"size {value!r} must be more than 0")
    return value


def _env_names(env: dict[str, str]) -> dict[str, str]:
    for name in env:
        if not _ENV_NAME.match(name):
            raise ValueError(
                f"{name!r} is not a valid environment variable name "
                "(letters, digits, '_', '-' and '.', not starting with a digit)"
            )
    return env


_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
Quantity = Annotated[
    str, AfterValidator(_quantity), Field(description="A Kubernetes quantity, e.g. '500m', '2', '4Gi'.")
]
Size = Annotated[str, AfterValidator(_size), Field(description="A Kubernetes quantity above 0, e.g. '10Gi'.")]
Env = Annotated[dict[str, str], AfterValidator(_env_names)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Request(_Model):
    """A request and an optional limit of one resource."""

    request: Quantity | None = Field(None, description="Guaranteed amount (scheduling request).")
    limit: Quantity | None = Field(None, description="Hard cap (container limit).")

    @model_validator(mode="after")
    def _limit_covers_request(self) -> Request:
        for value in (self.request, self.limit):
            if value is not None:
                parse_quantity(value)
        if self.request and self.limit and parse_quantity(self.limit) < parse_quantity(self.request):
            raise ValueError(f"limit {self.limit} is below request {self.request}")
        return self


class Resources(_Model):
    """CPU and memory of the notebook container."""

    cpu: Request = Field(default_factory=Request, description="CPU request/limit (cores).")
    memory: Request = Field(default_factory=Request, description="Memory request/limit (bytes).")


class Toleration(_Model):
    """A Kubernetes toleration."""

    key: str = Field(description="Taint key to tolerate.")
    operator: Literal["Equal", "Exists"] = Field("Equal", description="How the value is compared.")
    value: str | None = Field(None, description="Taint value (with operator Equal).")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(
        None, description="Taint effect to tolerate; empty means all."
    )


class GpuType(_Model):
    """One kind of GPU users can ask for."""

    display_name: str = Field(description="What users see, e.g. 'NVIDIA A100 80GB'.")
    node_selector: dict[str, str] = Field(description="Labels of the nodes that have this GPU.")
    tolerations: list[Toleration] = Field(
        default_factory=list, description="Taints of those nodes to tolerate."
    )
    allowed_groups: list[str] = Field(
        default_factory=list, description="Only these groups (empty: everyone)."
    )


class Gpu(_Model):
    """GPUs a profile offers."""

    resource: str = Field("nvidia.com/gpu", description="Extended resource name of the GPU.")
    types: dict[str, GpuType] = Field(description="GPU types by key (the value of the gpu_type option).")
    default_type: str | None = Field(None, description="Type used when the user does not choose one.")
    default_count: int = Field(1, ge=0, description="Count used when the user does not choose one.")
    max_per_user: int | None = Field(
        None, ge=0, description="Most GPUs one user may hold across all their servers."
    )

    @model_validator(mode="after")
    def _defaults_exist(self) -> Gpu:
        if not self.types:
            raise ValueError("at least one GPU type is needed")
        for key in self.types:
            if not re.fullmatch(SLUG, key):
                raise ValueError(f"GPU type key {key!r} must be a lowercase slug like 'a100'")
        if self.default_type is not None and self.default_type not in self.types:
            raise ValueError(f"default_type {self.default_type!r} is not one of {sorted(self.types)}")
        return self


class Image(_Model):
    """Which images a profile runs."""

    default: str = Field(description="Image used when the user does not choose one.")
    choices: list[str] = Field(default_factory=list, description="Other images users may pick.")
    pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = Field(
        None,
        description="The containers' imagePullPolicy. Unset: Kubernetes' default (Always for ':latest' "
        "or untagged images, else IfNotPresent). 'Never' runs only images already on the node, e.g. "
        "images built on the node itself; a missing one fails the spawn at once, naming the image.",
    )
    pattern: str | None = Field(
        None,
        description="Full-match regex for free-text images; empty: no free text. It must match in "
        "linear time: at each quantifier or alternation the ways on start with different characters "
        "(so no '(a+)+', '.*.*' or '(a|ab)'), no backreferences or lookarounds. Free-text images "
        f"are at most {MAX_IMAGE} printable ASCII characters.",
    )

    @field_validator("pattern")
    @classmethod
    def _bounded(cls, value: str | None) -> str | None:
        if value is not None:
            reason = unsafe_reason(value)
            if reason is not None:
                raise ValueError(f"pattern {value!r}: {reason}")
        return value

    @field_validator("default")
    @classmethod
    def _image(cls, value: str) -> str:
        problem = image_problem(value)
        if problem is not None:
            raise ValueError(f"image {value[:80]!r} {problem}")
        return value

    @field_validator("choices")
    @classmethod
    def _images(cls, value: list[str]) -> list[str]:
        for image in value:
            cls._image(image)
        return value

    def allows(self, image: str) -> bool:
        """Whether ``image`` may be used with this profile (full match, never a prefix)."""
        if image == self.default or image in self.choices:
            return True
        if self.pattern is None or image_problem(image) is not None:
            return False  # the pattern only ever sees short, plain text
        return re.fullmatch(self.pattern, image) is not None


class UserVolume(_Model):
    """A per-user PVC, created if missing and kept when the server stops."""

    kind: Literal["user"] = "user"
    name: str = Field(
        pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
        max_length=40,
        description="Volume name: lowercase letters and digits with single hyphens. The PVC is "
        "'<user>-<name>', or '<user>--<name>' when the name has a hyphen (user names escaped like in pod names).",
    )
    mount_path: str = Field(pattern=r"^/.*", description="Where it is mounted in the container.")
    size: Size = Field(description="Requested size, e.g. '10Gi'.")
    storage_class: str | None = Field(None, description="Storage class; empty: the cluster default.")
    access_mode: Literal["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod"] = Field(
        "ReadWriteOnce", description="PVC access mode."
    )


class SharedVolume(_Model):
    """An existing PVC shared by users."""

    kind: Literal["shared"] = "shared"
    name: str = Field(pattern=f"^{SLUG}$", description="Volume name in the pod.")
    claim: str = Field(description="Name of the existing PVC.")
    mount_path: str = Field(pattern=r"^/.*", description="Where it is mounted in the container.")
    read_only: bool = Field(True, description="Mount read-only.")


class ShmVolume(_Model):
    """A memory-backed /dev/shm of a given size (PyTorch data loaders need more than 64 MiB)."""

    kind: Literal["shm"] = "shm"
    size: Size = Field(description="Size limit, e.g. '2Gi'.")


Volume = Annotated[Union[UserVolume, SharedVolume, ShmVolume], Field(discriminator="kind")]


class Overrides(_Model):
    """What choosing a choice changes, applied to a fresh copy of the profile's settings."""

    image: str | None = Field(None, description="Image to use.")
    cpu: Request | None = Field(None, description="CPU request/limit.")
    memory: Request | None = Field(None, description="Memory request/limit.")
    gpu_type: str | None = Field(None, description="Key of one of the profile's GPU types.")
    gpu_count: int | None = Field(None, ge=0, description="Number of GPUs.")
    env: Env = Field(default_factory=dict, description="Extra environment variables.")


class Choice(_Model):
    """One value of an option."""

    value: str | int = Field(description="The value users send (form field or REST option).")
    display_name: str | None = Field(None, description="What users see; default: the value.")
    default: bool = Field(False, description="Pre-selected.")
    allowed_groups: list[str] = Field(
        default_factory=list, description="Only these groups (empty: everyone)."
    )
    overrides: Overrides | None = Field(
        None, description="What it changes; default: the field named like the option, set to the value."
    )

    @property
    def label(self) -> str:
        """The text shown for this choice."""
        return self.display_name or str(self.value)


class Option(_Model):
    """A question the form asks for a profile."""

    display_name: str = Field(description="The question's label.")
    choices: list[Choice] = Field(min_length=1, description="The allowed answers.")
    allowed_groups: list[str] = Field(
        default_factory=list, description="Only these groups (empty: everyone)."
    )


class Profile(_Model):
    """One kind of server users can start."""

    slug: str = Field(pattern=f"^{SLUG}$", description="Identifier sent by the form and the REST API.")
    display_name: str = Field(description="Title shown in the form.")
    description: str = Field("", description="Longer text shown in the form.")
    default: bool = Field(False, description="Pre-selected profile.")
    allowed_groups: list[str] = Field(
        default_factory=list, description="Only these groups (empty: everyone)."
    )
    image: Image = Field(description="Images this profile runs.")
    resources: Resources = Field(default_factory=Resources, description="CPU and memory.")
    gpu: Gpu | None = Field(None, description="GPUs offered by this profile.")
    volumes: list[Volume] = Field(default_factory=list, description="Volumes mounted in the server.")
    env: Env = Field(
        default_factory=dict,
        description="Environment variables (names: letters, digits, '_', '-', '.', not starting with a digit).",
    )
    node_selector: dict[str, str] = Field(default_factory=dict, description="Node selector.")
    tolerations: list[Toleration] = Field(default_factory=list, description="Tolerations.")
    options: dict[str, Option] = Field(default_factory=dict, description="Questions, by option key.")
    idle_timeout_s: int | None = Field(None, gt=0, description="Cull the server after this idle time.")
    cluster_access: bool = Field(
        False, description="Mount a service-account token so the notebook can create pipeline/training pods."
    )

    @model_validator(mode="after")
    def _volumes_distinct(self) -> Profile:
        names: dict[str, int] = {}
        paths: dict[str, int] = {}
        for i, volume in enumerate(self.volumes):
            name, path = (
                ("dshm", "/dev/shm") if isinstance(volume, ShmVolume) else (volume.name, volume.mount_path)  # noqa: S108
            )
            path = posixpath.normpath(path)
            if name in names:
                raise ValueError(f"volumes[{i}].name: {name!r} is also the name of volumes[{names[name]}]")
            if path in paths:
                raise ValueError(
                    f"volumes[{i}].mount_path: {path!r} is also where volumes[{paths[path]}] is mounted"
                )
            names[name], paths[path] = i, i
        return self

    @model_validator(mode="after")
    def _choices_fit(self) -> Profile:
        for key, option in self.options.items():
            values = [c.value for c in option.choices]
            if len(set(map(str, values))) != len(values):
                raise ValueError(f"option {key!r} has duplicate choice values")
            if sum(c.default for c in option.choices) > 1:
                raise ValueError(f"option {key!r} has more than one default choice")
            for i, choice in enumerate(option.choices):
                self._check_choice(key, i, choice)
        return self

    def _check_choice(self, key: str, index: int, choice: Choice) -> None:
        where = f"options.{key}.choices[{index}]"
        try:
            effect = choice.overrides or implied_overrides(key, choice.value)
        except ValueError as error:
            raise ValueError(f"{where}.value: {error}") from None
        if effect is None:
            raise ValueError(f"{where}: option {key!r} needs 'overrides' (it is not a known setting name)")
        if effect.gpu_type is not None or effect.gpu_count:
            if self.gpu is None:
                raise ValueError(f"{where}: sets GPUs but the profile has no 'gpu' section")
            if effect.gpu_type is not None and effect.gpu_type not in self.gpu.types:
                raise ValueError(
                    f"{where}: GPU type {effect.gpu_type!r} is not one of {sorted(self.gpu.types)}"
                )
        if effect.image is not None and not self.image.allows(effect.image):
            raise ValueError(
                f"{where}: image {effect.image!r} is not allowed by the profile's image settings"
            )


def implied_overrides(key: str, value: str | int) -> Overrides | None:
    """The overrides of a choice without any: the setting named like the option gets the value."""
    try:
        if key == "gpu_count":
            return Overrides(gpu_count=int(value))
        if key == "gpu_type":
            return Overrides(gpu_type=str(value))
        if key == "image":
            return Overrides(image=str(value))
    except (TypeError, ValueError):
        raise ValueError(f"value {value!r} does not fit option {key!r}") from None
    return None


class SpawnerConfig(_Model):
    """The whole profiles file."""

    profiles: list[Profile] = Field(min_length=1, description="Profiles, in the order shown.")

    @model_validator(mode="after")
    def _unique(self) -> SpawnerConfig:
        slugs = [p.slug for p in self.profiles]
        dupes = sorted({s for s in slugs if slugs.count(s) > 1})
        if dupes:
            raise ValueError(f"duplicate profile slugs: {', '.join(dupes)}")
        if sum(p.default for p in self.profiles) > 1:
            raise ValueError("more than one profile is marked default")
        return self

    def profile(self, slug: str) -> Profile:
        """The profile called ``slug``; KeyError when there is none."""
        for p in self.profiles:
            if p.slug == slug:
                return p
        raise KeyError(slug)


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("user", "shared", "shm") and out.endswith("]"):
            continue  # the union tag pydantic adds for discriminated volumes
        else:
            out += f".{part}" if out else str(part)
    return out


def config_errors(error: ValidationError) -> list[str]:
    """One line per problem, each naming its path in the configuration."""
    lines = []
    for item in error.errors():
        msg = str(item["msg"]).removeprefix("Value error, ")
        where = _path(tuple(item["loc"]))
        if msg.startswith(("options.", "volumes[")):  # a profile-level check naming a nested path itself
            sub, _, msg = msg.partition(": ")
            where = f"{where}.{sub}" if where else sub
        lines.append(f"{where or '(top level)'}: {msg}")
    return lines


def load_config(data: Any, *, source: str = "profiles") -> SpawnerConfig:
    """Validate profiles given as data (``{"profiles": [...]}`` or the bare list)."""
    if isinstance(data, list):
        data = {"profiles": data}
    try:
        return SpawnerConfig.model_validate(data)
    except ValidationError as error:
        lines = config_errors(error)
        raise InvalidInput(
            f"invalid spawner configuration in {source}:\n  " + "\n  ".join(lines), detail=str(error)
        ) from None


def load_config_file(path: str | Path) -> SpawnerConfig:
    """Read and validate a YAML profiles file."""
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidInput(f"cannot read profiles file {str(file)!r}: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        raise InvalidInput(f"profiles file {str(file)!r} is not valid YAML: {error}") from None
    return load_config(data, source=str(file))
