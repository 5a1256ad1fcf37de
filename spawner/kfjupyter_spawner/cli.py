"""``kfjupyter-spawner``: admin commands to check profiles, preview spawns and convert configs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from kfjupyter.errors import KfJupyterError


def _check(args: argparse.Namespace) -> int:
    from kfjupyter_spawner.profiles import load_config_file

    config = load_config_file(args.config)
    print(yaml.safe_dump(config.model_dump(mode="json", exclude_defaults=True), sort_keys=False))
    print(f"{args.config}: {len(config.profiles)} profile(s) OK", file=sys.stderr)
    return 0


def _render(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from kfjupyter.errors import InvalidInput
    from kfjupyter_spawner.namespaces import NOTEBOOK_ACCOUNT, UserNamespaces
    from kfjupyter_spawner.options import UserInfo, resolve
    from kfjupyter_spawner.pods import PodContext
    from kfjupyter_spawner.profiles import config_errors, load_config_file
    from kfjupyter_spawner.writes import server_objects

    config = load_config_file(args.config)
    options = _json_object("--options", args.options, '{"profile": "gpu", "gpu_count": 2}')
    settings = None
    if args.user_namespaces is not None:
        raw = _json_object("--user-namespaces", args.user_namespaces, '{"quota": {"pods": "20"}}')
        try:
            settings = UserNamespaces.model_validate(raw)
        except ValidationError as error:
            raise InvalidInput("--user-namespaces: " + "; ".join(config_errors(error))) from None
    groups = frozenset(g for g in args.groups.split(",") if g)
    plan = resolve(config, UserInfo(args.user, groups, args.gpus_in_use, args.server), options)
    ctx = PodContext(
        user=args.user,
        namespace=settings.name_for(args.user) if settings else args.namespace,
        command=["jupyterhub-singleuser"],
        server=args.server,
        service_account=NOTEBOOK_ACCOUNT if settings else None,
        own_namespace=settings is not None,
    )
    objects = server_objects(plan, ctx, settings, args.namespace)
    print(yaml.safe_dump_all(objects.in_order(), sort_keys=False))
    return 0


def _json_object(flag: str, text: str, example: str) -> dict[str, object]:
    from kfjupyter.errors import InvalidInput

    try:
        value = json.loads(text)
    except ValueError as error:
        raise InvalidInput(f"{flag} is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{flag} must be a JSON object, e.g. {example}")
    return value


def _hub_role(args: argparse.Namespace) -> int:
    from kubernetes.client import ApiClient

    from kfjupyter_spawner.namespaces import hub_cluster_role

    print(
        yaml.safe_dump(ApiClient().sanitize_for_serialization(hub_cluster_role(args.name)), sort_keys=False)
    )
    return 0


def _convert(args: argparse.Namespace) -> int:
    from kfjupyter.errors import InvalidInput
    from kfjupyter_spawner.convert import convert_profile_list

    data = yaml.safe_load(Path(args.config).read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get("singleuser", {}).get("profileList") or data.get("profile_list")
    if not isinstance(data, list):
        raise InvalidInput("expected a profile_list: a list, or singleuser.profileList in a z2jh values file")
    converted, left = convert_profile_list(data)
    print(yaml.safe_dump(converted, sort_keys=False))
    for path in left:
        print(f"not converted: {path}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``kfjupyter-spawner``."""
    parser = argparse.ArgumentParser(prog="kfjupyter-spawner", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="validate a profiles file and print the resolved profiles")
    check.add_argument("config")
    check.set_defaults(handler=_check)
    render = sub.add_parser("render", help="print the objects a spawn would create")
    render.add_argument("config")
    render.add_argument("--user", required=True)
    render.add_argument("--groups", default="", help="comma-separated groups of the user")
    render.add_argument("--options", default="{}", help='user options as JSON, e.g. {"profile": "gpu"}')
    render.add_argument("--server", default="", help="named server")
    render.add_argument(
        "--namespace", default="default", help="the hub's namespace (servers' without the next)"
    )
    render.add_argument(
        "--user-namespaces",
        nargs="?",
        const="{}",
        default=None,
        metavar="JSON",
        help="spawn in the user's own namespace; optional settings as JSON: template, labels, "
        "pod_security, quota (the spawner's user_namespace_* settings)",
    )
    render.add_argument("--gpus-in-use", type=int, default=0, help="GPUs the user's other servers hold")
    render.set_defaults(handler=_render)
    hub_role = sub.add_parser("hub-role", help="print the ClusterRole the hub needs with user namespaces")
    hub_role.add_argument("--name", default="kfjupyter-hub")
    hub_role.set_defaults(handler=_hub_role)
    convert = sub.add_parser("convert", help="convert a KubeSpawner profile_list / z2jh values file")
    convert.add_argument("config")
    convert.set_defaults(handler=_convert)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except KfJupyterError as error:
        print(f"kfjupyter-spawner: error: {error.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
