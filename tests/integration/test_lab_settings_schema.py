"""The Kubeflow settings schema ships with the built lab extension, is valid JSON Schema, and a
real JupyterLab serves it (with its defaults) at ``/lab/api/settings/kfjupyter:settings``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from jupyter_core.paths import jupyter_path

from tests.support.jupyter import LabServer

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "labextension" / "schema" / "settings.json"
PLUGIN = "kfjupyter:settings"
PREFERENCES = {"defaultBackend", "runEveryStep", "openRunOnStart", "runsRefreshSeconds", "compileImage"}


def _schema(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def test_the_schema_is_valid_json_schema_with_a_title_description_and_default_per_setting() -> None:
    schema = _schema(SOURCE)
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["title"] and schema["description"]
    assert schema["additionalProperties"] is False
    properties = schema["properties"]
    assert set(properties) == PREFERENCES
    for name, prop in properties.items():
        assert prop.get("title") and prop.get("description"), name
        assert "default" in prop, name
    defaults = {name: prop["default"] for name, prop in properties.items()}
    jsonschema.validate(defaults, schema)
    for wrong in ({"defaultBackend": "cloud"}, {"runsRefreshSeconds": 0}, {"nosuch": 1}):
        assert list(jsonschema.Draft7Validator(schema).iter_errors(wrong)), wrong


def test_the_built_extension_ships_the_schema() -> None:
    # The prebuilt extension that pip installs (pyproject's shared-data) is kfjupyter/labextension.
    built = ROOT / "kfjupyter" / "labextension" / "schemas" / "kfjupyter" / "settings.json"
    assert _schema(built) == _schema(SOURCE)
    package = json.loads((built.parent / "package.json.orig").read_text())
    assert package["jupyterlab"]["schemaDir"] == "labextension/schema"
    # and Jupyter finds it where JupyterLab looks for prebuilt extensions
    found = [
        Path(folder) / "kfjupyter" / "schemas" / "kfjupyter" / "settings.json"
        for folder in jupyter_path("labextensions")
    ]
    assert any(path.is_file() and _schema(path) == _schema(SOURCE) for path in found), found


def test_jupyterlab_serves_the_settings_with_their_defaults(lab_server: LabServer) -> None:
    status, body = lab_server.request(f"/lab/api/settings/{PLUGIN}", token=lab_server.token)
    assert status == 200, body
    assert body["schema"]["title"] == "Kubeflow"
    assert set(body["schema"]["properties"]) == PREFERENCES
    # nothing set yet: the raw user settings are empty and the registry merges the defaults in
    assert json.loads(body["raw"] or "{}") == {}
    status, listing = lab_server.request("/lab/api/settings", token=lab_server.token)
    assert status == 200
    assert PLUGIN in {setting["id"] for setting in listing["settings"]}
    # a value the schema refuses is refused by the server too
    status, _ = lab_server.request(
        f"/lab/api/settings/{PLUGIN}",
        token=lab_server.token,
        method="PUT",
        body={"raw": json.dumps({"runsRefreshSeconds": 0})},
    )
    assert status == 400
