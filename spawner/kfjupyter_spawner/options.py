"""Turn what a user asked for into a spawn plan, or refuse with a message they can act on.

Pure: ``resolve(config, user, options)`` computes a fresh :class:`SpawnPlan` from the profiles,
the user's groups and the options posted by the form or the REST API, every time. Nothing is
written onto a live spawner, so a failed GPU spawn cannot leak its GPUs into the next spawn.
Group rules are enforced here, on every path, not only by hiding form fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kfjupyter.errors import Forbidden, InvalidInput
from kfjupyter_spawner.patterns import image_problem
from kfjupyter_spawner.profiles import (
    Choice,
    Option,
    Overrides,
    Profile,
    Request,
    SpawnerConfig,
    Toleration,
    Volume,
    implied_overrides,
)

PROFILE_KEY = "profile"
IMAGE_KEY = "image"


@dataclass(frozen=True)
class UserInfo:
    """Who is spawning: name, groups, and GPUs their other servers already hold."""

    name: str
    groups: frozenset[str] = frozenset()
    gpus_in_use: int = 0
    server_name: str = ""


@dataclass(frozen=True)
class GpuPlan:
    """The GPUs a spawn asks for."""

    resource: str
    type: str
    display_name: str
    count: int
    node_selector: Mapping[str, str]
    tolerations: tuple[Toleration, ...]


@dataclass(frozen=True)
class SpawnPlan:
    """Everything the pod builders need, computed fresh for one spawn."""

    profile: str
    image: str
    cpu: Request
    memory: Request
    gpu: GpuPlan | None
    volumes: tuple[Volume, ...]
    env: Mapping[str, str]
    node_selector: Mapping[str, str]
    tolerations: tuple[Toleration, ...]
    idle_timeout_s: int | None
    cluster_access: bool
    choices: Mapping[str, str] = field(default_factory=dict)
    image_pull_policy: str | None = None


def allowed(groups_needed: Iterable[str], user: UserInfo) -> bool:
    """Whether ``user`` passes an ``allowed_groups`` list (an empty list lets everyone in)."""
    needed = set(groups_needed)
    return not needed or bool(needed & user.groups)


def visible_profiles(config: SpawnerConfig, user: UserInfo) -> list[Profile]:
    """The profiles ``user`` may use, with only the options and choices their groups allow."""
    visible = []
    for profile in config.profiles:
        if not allowed(profile.allowed_groups, user):
            continue
        options = {}
        for key, option in profile.options.items():
            choices = [
                c
                for c in option.choices
                if allowed(c.allowed_groups, user) and _gpu_ok(profile, key, c, user)
            ]
            if allowed(option.allowed_groups, user) and choices:
                options[key] = option.model_copy(update={"choices": choices})
        visible.append(profile.model_copy(update={"options": options}))
    return visible


def _gpu_ok(profile: Profile, key: str, choice: Choice, user: UserInfo) -> bool:
    effect = choice.overrides or implied_overrides(key, choice.value)
    if effect is None or effect.gpu_type is None or profile.gpu is None:
        return True
    return allowed(profile.gpu.types[effect.gpu_type].allowed_groups, user)


def _listing(values: Iterable[object]) -> str:
    return ", ".join(repr(str(v)) for v in values) or "none"


def _pick_profile(config: SpawnerConfig, user: UserInfo, options: Mapping[str, Any]) -> Profile:
    visible = [p.slug for p in config.profiles if allowed(p.allowed_groups, user)]
    slug = options.get(PROFILE_KEY)
    if slug is None:
        defaults = [p for p in config.profiles if p.default and p.slug in visible]
        if defaults:
            return defaults[0]
        if not visible:
            raise Forbidden(f"user {user.name!r} may not use any profile; ask an admin to add you to a group")
        return config.profile(visible[0])
    try:
        profile = config.profile(str(slug))
    except KeyError:
        raise InvalidInput(f"unknown profile {str(slug)!r}; choose one of: {_listing(visible)}") from None
    if not allowed(profile.allowed_groups, user):
        raise Forbidden(
            f"profile {profile.slug!r} is only for members of {_listing(profile.allowed_groups)}; "
            f"you can use: {_listing(visible)}"
        )
    return profile


def _pick_choice(key: str, option: Option, raw: Any, user: UserInfo) -> Choice:
    if raw is None:
        defaults = [c for c in option.choices if c.default and allowed(c.allowed_groups, user)]
        usable = defaults or [c for c in option.choices if allowed(c.allowed_groups, user)]
        if not usable:
            raise Forbidden(f"none of the choices of {option.display_name!r} is open to your groups")
        return usable[0]
    matches = [c for c in option.choices if str(c.value) == str(raw)]
    if not matches:
        valid = [c.value for c in option.choices if allowed(c.allowed_groups, user)]
        raise InvalidInput(f"{key}: {str(raw)!r} is not a valid choice; choose one of: {_listing(valid)}")
    choice = matches[0]
    if not allowed(choice.allowed_groups, user):
        raise Forbidden(f"{key}: {choice.label!r} is only for members of {_listing(choice.allowed_groups)}")
    return choice


def resolve(config: SpawnerConfig, user: UserInfo, options: Mapping[str, Any]) -> SpawnPlan:
    """Validate ``options`` for ``user`` and compute the spawn plan; raise with a clear message."""
    profile = _pick_profile(config, user, options)
    known = {PROFILE_KEY, *profile.options}
    if profile.image.choices or profile.image.pattern:
        known.add(IMAGE_KEY)
    unknown = sorted(set(options) - known)
    if unknown:
        raise InvalidInput(
            f"unknown option(s) {_listing(unknown)} for profile {profile.slug!r}; valid options: {_listing(sorted(known))}"
        )
    image, cpu, memory = profile.image.default, profile.resources.cpu, profile.resources.memory
    gpu_type = profile.gpu.default_type if profile.gpu else None
    gpu_count = profile.gpu.default_count if profile.gpu else 0
    env = dict(profile.env)
    chosen: dict[str, str] = {}
    for key, option in profile.options.items():
        if not allowed(option.allowed_groups, user):
            if key in options:
                raise Forbidden(
                    f"{key}: this option is only for members of {_listing(option.allowed_groups)}"
                )
            continue
        choice = _pick_choice(key, option, options.get(key), user)
        chosen[key] = str(choice.value)
        effect = choice.overrides or implied_overrides(key, choice.value) or Overrides()
        image = effect.image or image
        cpu = effect.cpu or cpu
        memory = effect.memory or memory
        gpu_type = effect.gpu_type or gpu_type
        gpu_count = effect.gpu_count if effect.gpu_count is not None else gpu_count
        env.update(effect.env)
    if IMAGE_KEY in options:
        image = str(options[IMAGE_KEY])
        problem = image_problem(image)
        if problem is not None:
            raise InvalidInput(f"image {image[:80]!r}{'…' if len(image) > 80 else ''} {problem}")
        if not profile.image.allows(image):
            raise InvalidInput(f"image {image!r} is not allowed for profile {profile.slug!r}")
        chosen[IMAGE_KEY] = image
    return SpawnPlan(
        profile=profile.slug,
        image=image,
        cpu=cpu,
        memory=memory,
        gpu=_gpu_plan(profile, user, gpu_type, gpu_count),
        volumes=tuple(profile.volumes),
        env=env,
        node_selector=dict(profile.node_selector),
        tolerations=tuple(profile.tolerations),
        idle_timeout_s=profile.idle_timeout_s,
        cluster_access=profile.cluster_access,
        choices=chosen,
        image_pull_policy=profile.image.pull_policy,
    )


def _gpu_plan(profile: Profile, user: UserInfo, gpu_type: str | None, count: int) -> GpuPlan | None:
    gpu = profile.gpu
    if gpu is None or count == 0:
        return None
    key = gpu_type or next(iter(gpu.types))
    kind = gpu.types[key]
    if not allowed(kind.allowed_groups, user):
        raise Forbidden(
            f"gpu_type: {kind.display_name} is only for members of {_listing(kind.allowed_groups)}"
        )
    if gpu.max_per_user is not None and user.gpus_in_use + count > gpu.max_per_user:
        raise Forbidden(
            f"{count} GPU(s) would bring you to {user.gpus_in_use + count}, over your limit of "
            f"{gpu.max_per_user} across all your servers; stop a server or choose fewer GPUs"
        )
    return GpuPlan(
        resource=gpu.resource,
        type=key,
        display_name=kind.display_name,
        count=count,
        node_selector=dict(kind.node_selector),
        tolerations=tuple(kind.tolerations),
    )
